//! `netc check SPEC...`: every spec is checked (one failure does not stop the others); each
//! good one prints its summary, each bad one its diagnostics.

use std::path::PathBuf;

use crate::error::CliError;
use crate::pipeline;
use crate::render::Io;

pub fn check(io: &mut Io<'_>, specs: &[PathBuf]) -> Result<(), CliError> {
    let mut failed = false;
    for (i, path) in specs.iter().enumerate() {
        if i > 0 {
            writeln!(io.out)?;
        }
        match pipeline::check_spec(io, path) {
            Ok(spec) => write_summary(io, &spec)?,
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
