//! One live run per output: a trainer holds `<checkpoint>.lock` (its process id) while it
//! runs, so a second run writing the same checkpoint is refused up front instead of the two
//! overwriting each other's results. A lock whose process is gone (a killed run) is taken over,
//! and so is one of this very process (runs on threads of one program, as the runtime's own
//! tests do, are that program's business).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Held for the life of a run; removes the lock file when dropped.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
}

impl OutputLock {
    /// Takes the lock of `output`, or says which live process holds it.
    pub fn take(output: &Path) -> Result<OutputLock, Error> {
        let path = lock_path(output);
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    let _ = write!(file, "{}", std::process::id());
                    return Ok(OutputLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|text| text.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if pid != std::process::id() && process_is_alive(pid) => {
                            return Err(Error::Usage(format!(
                                "{} is being written by another run (process {pid}, lock {}): \
                                 give this run another --checkpoint, or wait for that one",
                                output.display(),
                                path.display()
                            )));
                        }
                        // A run that was killed: its lock is stale.
                        _ => {
                            let _ = std::fs::remove_file(&path);
                        }
                    }
                }
                Err(source) => return Err(Error::Io { path, source }),
            }
        }
        Err(Error::Usage(format!(
            "{}: could not take the lock {} (another run keeps taking it)",
            output.display(),
            path.display()
        )))
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn lock_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    output.with_file_name(name)
}

/// Whether process `pid` exists (Linux: `/proc`; elsewhere every holder counts as alive).
fn process_is_alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("netc-lock-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("model.safetensors")
    }

    #[test]
    fn a_live_process_s_lock_is_refused_and_ours_released_at_the_end() {
        let output = scratch("live");
        // Process 1 (init) is always alive.
        std::fs::write(lock_path(&output), "1").unwrap();
        let error = OutputLock::take(&output).unwrap_err().to_string();
        assert!(
            error.contains("is being written by another run (process 1"),
            "{error}"
        );
        std::fs::remove_file(lock_path(&output)).unwrap();
        let lock = OutputLock::take(&output).unwrap();
        assert!(lock_path(&output).exists());
        drop(lock);
        assert!(!lock_path(&output).exists());
    }

    #[test]
    fn a_dead_run_s_lock_is_taken_over() {
        let output = scratch("stale");
        std::fs::write(lock_path(&output), "2147483632").unwrap();
        let lock = OutputLock::take(&output).expect("stale lock taken over");
        assert_eq!(
            std::fs::read_to_string(lock_path(&output)).unwrap(),
            std::process::id().to_string()
        );
        drop(lock);
    }
}
