//! What every training run produces, whatever its procedure (minibatch steps in [`crate::fit`],
//! a full-batch solver in [`crate::full_batch`]): the metrics file, the test report and
//! checkpoint at its end, and the error of a run stopped by a signal.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::checkpoint::save_checkpoint;
use crate::config::RunConfig;
use crate::data::Splits;
use crate::error::Error;
use crate::evaluate::test_report;
use crate::network::Network;
use crate::report::EpochReport;

/// The end of every training run: the test report (printed when verbose) and the checkpoint.
pub(crate) fn test_and_save<M: Network>(
    model: &mut M,
    cfg: &RunConfig,
    splits: &Splits<M::Float>,
) -> Result<Option<crate::evaluate::Evaluation>, Error> {
    let test = splits
        .test
        .as_ref()
        .map(|t| test_report(model, t))
        .transpose()?;
    if let (true, Some((_, report))) = (cfg.verbose, &test) {
        say!("{report}");
    }
    if let Some(path) = &cfg.checkpoint_path {
        save_checkpoint(model, path)?;
    }
    Ok(test.map(|(evaluation, _)| evaluation))
}

/// The error of a run stopped by `signal`, after its state was saved (or not).
pub(crate) fn interrupted(signal: i32, cfg: &RunConfig, saved: Result<(), Error>) -> Error {
    crate::interrupt::set_requested(0);
    match saved {
        Ok(()) => Error::Interrupted {
            signal,
            state: cfg.save.state_path.clone(),
        },
        Err(error) => error,
    }
}

/// The JSON-lines metrics file, flushed after every epoch so it can be watched live.
pub(crate) struct MetricsFile {
    path: std::path::PathBuf,
    writer: BufWriter<File>,
}

impl MetricsFile {
    /// The metrics file of a run at `path` (none without one), created fresh and holding the
    /// lines of the epochs a resumed run had finished: the file ends up as the uninterrupted
    /// run's, whatever was appended after the state was saved.
    pub(crate) fn open(
        path: Option<&Path>,
        finished: &[EpochReport],
    ) -> Result<Option<MetricsFile>, Error> {
        let Some(path) = path else {
            return Ok(None);
        };
        let mut file = MetricsFile::create(path)?;
        for report in finished {
            file.append(report)?;
        }
        Ok(Some(file))
    }

    fn create(path: &Path) -> Result<MetricsFile, Error> {
        let file = File::create(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(MetricsFile {
            path: path.to_path_buf(),
            writer: BufWriter::new(file),
        })
    }

    pub(crate) fn append(&mut self, report: &EpochReport) -> Result<(), Error> {
        self.append_line(&report.to_json())
    }

    pub(crate) fn append_line(&mut self, line: &str) -> Result<(), Error> {
        writeln!(self.writer, "{line}")
            .and_then(|()| self.writer.flush())
            .map_err(|source| Error::Io {
                path: self.path.clone(),
                source,
            })
    }
}
