//! The training driver: epochs of batched steps, validation, divergence handling, metrics and
//! the final checkpoint. Generic over [`Network`]; nothing here knows a spec.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use crate::checkpoint::{load_checkpoint, save_checkpoint};
use crate::config::RunConfig;
use crate::data::{Batcher, Splits};
use crate::error::Error;
use crate::evaluate::{check_dataset, evaluate, row_major};
use crate::network::Network;
use crate::report::{EpochReport, Report, test_line};
use crate::rng::{Rng, streams};

/// Trains `model` on `splits.train` for `cfg.epochs` epochs (or until `cfg.max_steps`).
///
/// Each epoch orders the training samples by `cfg.sampling`, copies each batch into one
/// preallocated buffer and calls `train_step`; the last `len % BATCH` samples of an epoch's
/// order are dropped. After each epoch: `end_epoch`, validation, a printed line (if
/// `cfg.verbose`) and a JSON line in `cfg.metrics_path` (the file is created fresh). At the end:
/// test evaluation and the checkpoint at `cfg.checkpoint_path`.
///
/// A non-finite step loss stops training with [`Error::Diverged`]; the parameters are reset to
/// those at the end of the last complete epoch (or the start) and, if a checkpoint path is set,
/// saved there. Same model seed and `cfg.seed` → bit-identical losses and weights.
pub fn fit<M: Network>(model: &mut M, cfg: &RunConfig, splits: &Splits) -> Result<Report, Error> {
    check_splits::<M>(splits)?;
    if let Some(path) = &cfg.init_weights {
        load_checkpoint(model, path)?;
    }
    let mut metrics = cfg
        .metrics_path
        .as_deref()
        .map(MetricsFile::create)
        .transpose()?;
    let x = row_major(&splits.train.x);
    let labels = &splits.train.labels;
    let mut batcher = Batcher::new(M::BATCH, M::INPUT);
    let mut sampling_rng = Rng::new(cfg.seed, streams::SAMPLING);
    let mut last_good = Snapshot::take(model);
    let mut epochs = Vec::with_capacity(cfg.epochs);
    let mut steps_run: u64 = 0;
    let step_budget = cfg.max_steps.unwrap_or(u64::MAX);

    for epoch in 1..=cfg.epochs {
        if steps_run >= step_budget {
            break;
        }
        batcher.plan_epoch(cfg.sampling, splits.train.len(), &mut sampling_rng);
        let learning_rate = model.learning_rate();
        let started = Instant::now();
        let (mut loss_sum, mut correct, mut epoch_steps) = (0.0f64, 0u64, 0u64);
        for batch in 0..batcher.batches() {
            if steps_run >= step_budget {
                break;
            }
            let (batch_x, batch_labels) = batcher.gather(&x, labels, batch);
            let stats = model.train_step(batch_x, batch_labels);
            steps_run += 1;
            if !stats.loss.is_finite() {
                return Err(diverged(
                    model, cfg, &last_good, epoch, steps_run, stats.loss,
                ));
            }
            loss_sum += f64::from(stats.loss);
            correct += u64::from(stats.correct);
            epoch_steps += 1;
        }
        let seconds = started.elapsed().as_secs_f64();
        model.end_epoch(epoch);
        let samples = (epoch_steps as usize * M::BATCH) as f64;
        let validation = splits
            .validation
            .as_ref()
            .map(|v| evaluate(model, v))
            .transpose()?;
        let report = EpochReport {
            epoch,
            loss: (loss_sum / epoch_steps.max(1) as f64) as f32,
            train_accuracy: (correct as f64 / samples.max(1.0)) as f32,
            val_loss: validation.map(|v| v.loss),
            val_accuracy: validation.map(|v| v.accuracy),
            learning_rate,
            samples_per_sec: if seconds > 0.0 {
                samples / seconds
            } else {
                0.0
            },
            steps: model.steps(),
        };
        if cfg.verbose {
            println!("{}", report.to_line(cfg.epochs));
        }
        if let Some(metrics) = &mut metrics {
            metrics.append(&report)?;
        }
        epochs.push(report);
        last_good.retake(model);
    }

    let test = splits
        .test
        .as_ref()
        .map(|t| evaluate(model, t))
        .transpose()?;
    if let (true, Some(test)) = (cfg.verbose, test) {
        println!("{}", test_line(test.accuracy, test.loss));
    }
    if let Some(path) = &cfg.checkpoint_path {
        save_checkpoint(model, path)?;
    }
    Ok(Report {
        epochs,
        test_loss: test.map(|t| t.loss),
        test_accuracy: test.map(|t| t.accuracy),
        steps: model.steps(),
    })
}

fn check_splits<M: Network>(splits: &Splits) -> Result<(), Error> {
    check_dataset::<M>(&splits.train, "training")?;
    if let Some(validation) = &splits.validation {
        check_dataset::<M>(validation, "validation")?;
    }
    if let Some(test) = &splits.test {
        check_dataset::<M>(test, "test")?;
    }
    if splits.train.len() < M::BATCH {
        return Err(Error::Data {
            path: "<training data>".into(),
            message: format!(
                "{} samples is less than one batch: the model `{}` trains on batches of {}",
                splits.train.len(),
                M::META.name,
                M::BATCH
            ),
        });
    }
    Ok(())
}

/// Restores the last good parameters, saves them if a checkpoint path is set, and says so.
fn diverged<M: Network>(
    model: &mut M,
    cfg: &RunConfig,
    last_good: &Snapshot,
    epoch: usize,
    step: u64,
    loss: f32,
) -> Error {
    last_good.restore(model);
    let from = match epoch {
        1 => "the initial weights".to_string(),
        e => format!("the weights from the end of epoch {}", e - 1),
    };
    let saved = match &cfg.checkpoint_path {
        Some(path) => match save_checkpoint(model, path) {
            Ok(()) => format!("; {from} were saved to {}", path.display()),
            Err(e) => format!("; saving {from} failed too: {e}"),
        },
        None => String::new(),
    };
    Error::Diverged {
        epoch,
        step,
        message: format!(
            "the loss became {loss}; try a lower learning rate (it was {:.2e}){saved}",
            model.learning_rate()
        ),
    }
}

/// A copy of every tensor of a model, to roll back to after divergence.
struct Snapshot {
    tensors: Vec<Vec<f32>>,
}

impl Snapshot {
    fn take<M: Network>(model: &M) -> Snapshot {
        Snapshot {
            tensors: model.tensors().iter().map(|t| t.data.to_vec()).collect(),
        }
    }

    /// Overwrites the snapshot in place (no allocation after the first).
    fn retake<M: Network>(&mut self, model: &M) {
        for (saved, tensor) in self.tensors.iter_mut().zip(model.tensors()) {
            saved.copy_from_slice(tensor.data);
        }
    }

    fn restore<M: Network>(&self, model: &mut M) {
        for (saved, tensor) in self.tensors.iter().zip(model.tensors_mut()) {
            tensor.data.copy_from_slice(saved);
        }
    }
}

/// The JSON-lines metrics file, flushed after every epoch so it can be watched live.
struct MetricsFile {
    path: std::path::PathBuf,
    writer: BufWriter<File>,
}

impl MetricsFile {
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

    fn append(&mut self, report: &EpochReport) -> Result<(), Error> {
        writeln!(self.writer, "{}", report.to_json())
            .and_then(|()| self.writer.flush())
            .map_err(|source| Error::Io {
                path: self.path.clone(),
                source,
            })
    }
}
