//! The CLI's errors. Spec problems are diagnostics, rendered where they are found; this type
//! covers the rest (files, processes) and says, for each, what was being done.

use std::fmt;
use std::io;
use std::path::PathBuf;

#[derive(Debug)]
pub enum CliError {
    /// Diagnostics were already printed; exit 1 without another line.
    Reported,
    /// Exit with this code, nothing more to say (the trainer's own exit code).
    Exit(i32),
    Read {
        path: PathBuf,
        source: io::Error,
    },
    Write {
        path: PathBuf,
        source: io::Error,
    },
    /// The netc source tree this binary was built from is gone; trainers depend on it by path.
    MissingNetcCrate {
        path: PathBuf,
    },
    Spawn {
        program: String,
        source: io::Error,
    },
    CargoFailed {
        project: PathBuf,
    },
    /// The trainer was killed by a signal (no exit code).
    Killed {
        program: PathBuf,
    },
    /// Writing to our own stdout/stderr failed (closed pipe).
    Output(io::Error),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Reported => write!(f, "aborted after the errors above"),
            CliError::Exit(code) => write!(f, "exited with code {code}"),
            CliError::Read { path, source } => {
                write!(f, "cannot read {}: {}", path.display(), io_reason(source))
            }
            CliError::Write { path, source } => {
                write!(f, "cannot write {}: {}", path.display(), io_reason(source))
            }
            CliError::MissingNetcCrate { path } => write!(
                f,
                "the netc crate is not at {} (trainers depend on the netc source tree this \
                 binary was built from)",
                path.display()
            ),
            CliError::Spawn { program, source } => {
                write!(f, "cannot run `{program}`: {}", io_reason(source))
            }
            CliError::CargoFailed { project } => {
                write!(
                    f,
                    "cargo could not build the trainer in {}",
                    project.display()
                )
            }
            CliError::Killed { program } => {
                write!(f, "{} was killed by a signal", program.display())
            }
            CliError::Output(source) => write!(f, "cannot write output: {}", io_reason(source)),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::Read { source, .. }
            | CliError::Write { source, .. }
            | CliError::Spawn { source, .. }
            | CliError::Output(source) => Some(source),
            _ => None,
        }
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Output(e)
    }
}

/// The OS's sentence without the ` (os error 2)` suffix: "No such file or directory".
fn io_reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}
