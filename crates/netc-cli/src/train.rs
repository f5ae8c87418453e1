//! `netc train SPEC [-- FLAGS]`: build if needed, then hand the terminal to the trainer.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use crate::build::build;
use crate::error::CliError;
use crate::render::Io;
use crate::trainer_project::TrainerKind;

pub fn train(
    io: &mut Io<'_>,
    spec: &Path,
    project: Option<&Path>,
    flags: &[OsString],
) -> Result<(), CliError> {
    let built = build(io, spec, project, TrainerKind::Standalone)?;
    io.status("Running", &format!("{} train", built.binary.display()));
    io.err.flush()?;
    // Inherited stdio: the trainer's progress reaches the user as it happens.
    let status = Command::new(&built.binary)
        .arg("train")
        .args(flags)
        .status()
        .map_err(|source| CliError::Spawn {
            program: built.binary.display().to_string(),
            source,
        })?;
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(CliError::Exit(code)),
        None => Err(CliError::Killed {
            program: built.binary,
        }),
    }
}
