//! The `netc` command as a library: argument parsing, file IO, diagnostics rendering, cargo and
//! trainer processes, exit codes. No compiler logic lives here — every command calls the front
//! end (`netc-syntax`, `netc-sema`) or codegen and only moves their results in and out.
//!
//! [`run`] is the whole command; `main.rs` only forwards to it, so tests call it in-process.

mod args;
mod bench;
mod build;
mod cargo;
mod check;
mod emit;
mod error;
mod inspect;
mod locations;
mod pipeline;
mod render;
#[cfg(test)]
mod tests;
mod train;
mod trainer_project;

use trainer_project::TrainerKind;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser as _;

pub use args::{Cli, ColorChoice, Command};
pub use error::CliError;
pub use locations::{TARGET_DIR_ENV, default_project_dir, trainer_target_dir};
pub use trainer_project::TrainerProject;

/// Runs `netc` with `args` (the first one is the program name), writing normal output to `out`
/// and diagnostics, cargo's progress and errors to `err`. Returns the process exit code:
/// 0 success, 1 failure (bad spec, IO, cargo or trainer failure), 2 bad command line; `train`
/// and `bench` return the trainer's own code when it fails.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return report_usage(e, out, err),
    };
    let mut io = render::Io::new(out, err, render::use_color(cli.color));
    let result = match cli.command {
        Command::Check { specs } => check::check(&mut io, &specs),
        Command::Parse { spec } => inspect::parse(&mut io, &spec),
        Command::Ir { spec } => inspect::ir(&mut io, &spec),
        Command::Emit { spec, output } => emit::emit(&mut io, &spec, output.as_deref()),
        Command::Build { spec, output, mpi } => {
            let kind = if mpi {
                TrainerKind::Mpi
            } else {
                TrainerKind::Standalone
            };
            build::build(&mut io, &spec, output.as_deref(), kind)
                .and_then(|built| Ok(writeln!(io.out, "{}", built.binary.display())?))
        }
        Command::Train {
            spec,
            project,
            flags,
        } => train::train(&mut io, &spec, project.as_deref(), &flags),
        Command::Bench {
            spec,
            project,
            seconds,
            runs,
            threads,
        } => bench::bench(&mut io, &spec, project.as_deref(), seconds, runs, threads),
    };
    match result {
        Ok(()) => 0,
        Err(CliError::Exit(code)) => code,
        Err(CliError::Reported) => 1,
        // A reader that stopped early (`netc emit spec.net | head`) is not a failure.
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            io.error(&e.to_string());
            1
        }
    }
}

/// `--help` and `--version` go to stdout with success; real usage errors to stderr with 2.
fn report_usage(e: clap::Error, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let text = e.render().to_string();
    if e.use_stderr() {
        let _ = write!(err, "{text}");
    } else {
        let _ = write!(out, "{text}");
    }
    e.exit_code()
}
