//! The runtime's one error type: every failure on user input (files, flags, data, NaN) is a
//! value with a message that says what went wrong and what to do.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum Error {
    /// A file could not be read or written.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A data file is not what it claims to be (bad magic, truncated, shape mismatch).
    Data { path: PathBuf, message: String },
    /// A trainer flag or hyperparameter value is wrong.
    Usage(String),
    /// A checkpoint does not fit this model (other spec hash, missing tensor, wrong shape).
    Checkpoint { path: PathBuf, message: String },
    /// A SIGINT/SIGTERM stopped the run; its state was saved to `state` (if a path was set).
    Interrupted { signal: i32, state: Option<PathBuf> },
    /// The run needs more memory than it may use (`--max-memory`, or what is available);
    /// raised before allocating, or when a fallible allocation fails.
    Memory(String),
    /// The loss became NaN or infinite.
    Diverged {
        epoch: usize,
        step: u64,
        message: String,
    },
}

impl Error {
    /// A data-file error naming the file.
    pub fn data(path: &std::path::Path, message: impl Into<String>) -> Error {
        Error::Data {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {}", path.display(), source),
            Error::Data { path, message } => write!(f, "{}: {}", path.display(), message),
            Error::Usage(message) | Error::Memory(message) => write!(f, "{message}"),
            Error::Checkpoint { path, message } => write!(f, "{}: {}", path.display(), message),
            Error::Interrupted { signal, state } => {
                let name = match signal {
                    2 => "SIGINT".to_string(),
                    15 => "SIGTERM".to_string(),
                    n => format!("signal {n}"),
                };
                match state {
                    Some(path) => write!(
                        f,
                        "interrupted by {name}: the run state was saved to {0}; continue with \
                         `train --resume {0}`",
                        path.display()
                    ),
                    None => write!(
                        f,
                        "interrupted by {name} (no run-state path: nothing saved)"
                    ),
                }
            }
            Error::Diverged {
                epoch,
                step,
                message,
            } => {
                write!(
                    f,
                    "training diverged at epoch {epoch}, step {step}: {message}"
                )
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
