//! `netc check SPEC...`: every spec is checked (one failure does not stop the others); each
//! good one prints its summary, each bad one its diagnostics.

use std::path::PathBuf;

use crate::error::CliError;
use crate::pipeline;
use crate::render::Io;

pub fn check(io: &mut Io<'_>, specs: &[PathBuf]) -> Result<(), CliError> {
    let mut failed = false;
    let mut summarized = 0;
    for path in specs {
        match pipeline::check_spec(io, path) {
            Ok(spec) => {
                // A blank line between summaries, none before the first.
                if summarized > 0 {
                    writeln!(io.out)?;
                }
                write_summary(io, &spec)?;
                summarized += 1;
            }
            Err(CliError::Reported) => failed = true,
            Err(e) => {
                io.error(&e.to_string());
                failed = true;
            }
        }
    }
    if failed {
        Err(CliError::Reported)
    } else {
        Ok(())
    }
}

fn write_summary(io: &mut Io<'_>, spec: &pipeline::CheckedSpec) -> Result<(), CliError> {
    let summary = netc_sema::summary(&spec.network);
    write!(io.out, "{summary}")?;
    if !summary.ends_with('\n') {
        writeln!(io.out)?;
    }
    Ok(())
}
