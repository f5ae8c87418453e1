//! `netc bench SPEC [--seconds S] [--runs R] [--threads N]`: build, then run the trainer's benchmark on the
//! spec's own model and print its report.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::build::build;
use crate::error::CliError;
use crate::render::Io;
use crate::trainer_project::TrainerKind;

pub fn bench(
    io: &mut Io<'_>,
    spec: &Path,
    project: Option<&Path>,
    seconds: Option<f64>,
    runs: Option<u32>,
    threads: Option<u32>,
) -> Result<(), CliError> {
    let built = build(io, spec, project, TrainerKind::Standalone)?;
    let mut command = Command::new(&built.binary);
    command.arg("bench");
    if let Some(seconds) = seconds {
        command.arg("--seconds").arg(seconds.to_string());
    }
    if let Some(runs) = runs {
        command.arg("--runs").arg(runs.to_string());
    }
    if let Some(threads) = threads {
        command.arg("--threads").arg(threads.to_string());
    }
    io.status("Running", &format!("{} bench", built.binary.display()));
    io.err.flush()?;
    // The report goes to our stdout (so tests and pipes see it); the trainer's stderr is the user's.
    let spawn_error = |source| CliError::Spawn {
        program: built.binary.display().to_string(),
        source,
    };
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(spawn_error)?;
    if let Some(mut stdout) = child.stdout.take() {
        std::io::copy(&mut stdout, io.out)?;
    }
    let status = child.wait().map_err(spawn_error)?;
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(CliError::Exit(code)),
        None => Err(CliError::Killed {
            program: built.binary,
        }),
    }
}
