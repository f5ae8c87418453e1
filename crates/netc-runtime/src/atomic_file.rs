//! Durable, atomic file replacement: a reader (or a run resumed after a crash or `kill -9`)
//! sees either the old file or the whole new one, never a torn one.
//!
//! The bytes go to a temporary file in the target's directory whose name is unique to this
//! process and call (two runs saving to the same path never share a temporary), are fsynced,
//! renamed over the target, and the directory is fsynced so the rename itself survives a
//! power loss.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;

/// Replaces `path` with `bytes` atomically and durably. Errors name `path`, not the
/// temporary file; on error the temporary is removed and `path` is untouched.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    remove_stale_temporaries(path);
    let temporary = temporary_path(path);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    if let Err(source) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(io(source));
    }
    sync_directory(path).map_err(io)
}

/// `<dir>/.<name>.<pid>.<n>.tmp`: hidden, in the same directory (a rename across file systems
/// is not atomic), unique per process and per call.
fn temporary_path(path: &Path) -> PathBuf {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(".{}.{call}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// Removes the temporaries of `path` that processes killed during a save left behind (those
/// whose process is gone; Linux, where `/proc` says so). Every save and every resume calls it,
/// so kills do not pile up half-written files.
pub fn remove_stale_temporaries(path: &Path) {
    let (Some(directory), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let directory = if directory.as_os_str().is_empty() {
        Path::new(".")
    } else {
        directory
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tmp"))
        else {
            continue;
        };
        let pid = rest.split('.').next().and_then(|p| p.parse::<u32>().ok());
        let gone = pid.is_some_and(|pid| {
            pid != std::process::id()
                && Path::new("/proc/self").exists()
                && !Path::new(&format!("/proc/{pid}")).exists()
        });
        if gone {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Makes a rename in `path`'s directory durable. Directories cannot be opened for syncing on
/// every platform; there the rename is as durable as the file system makes it.
fn sync_directory(path: &Path) -> std::io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if cfg!(unix) {
        File::open(directory)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of its own per test: the leftover check must not see another test's files.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("netc-atomic-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    fn leftovers(path: &Path) -> Vec<String> {
        std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let path = scratch("replace.bin");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
        assert_eq!(leftovers(&path), Vec::<String>::new());
    }

    #[test]
    fn temporaries_are_unique_per_call() {
        let path = scratch("unique.bin");
        assert_ne!(temporary_path(&path), temporary_path(&path));
    }

    #[test]
    fn concurrent_writers_each_write_a_whole_file() {
        // Forty writers racing for one path: the survivor is one writer's complete bytes.
        let path = scratch("race.bin");
        let payloads: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 4096 + i as usize]).collect();
        std::thread::scope(|scope| {
            for payload in &payloads {
                let path = &path;
                scope.spawn(move || write_atomically(path, payload).unwrap());
            }
        });
        let survivor = std::fs::read(&path).unwrap();
        assert!(payloads.contains(&survivor), "a torn or mixed file");
        assert_eq!(leftovers(&path), Vec::<String>::new());
    }

    #[test]
    fn temporaries_of_dead_processes_are_removed_and_others_kept() {
        let path = scratch("stale.bin");
        let dir = path.parent().unwrap();
        // pid 0x7fff_fff0 does not exist; this process does.
        let dead = dir.join(".stale.bin.2147483632.0.tmp");
        let alive = dir.join(format!(".stale.bin.{}.9.tmp", std::process::id()));
        let other = dir.join(".other.bin.2147483632.0.tmp");
        for file in [&dead, &alive, &other] {
            std::fs::write(file, b"half").unwrap();
        }
        remove_stale_temporaries(&path);
        assert!(!dead.exists());
        assert!(alive.exists() && other.exists());
    }

    #[test]
    fn a_failed_write_names_the_target_and_keeps_it() {
        let path = scratch("missing-dir").join("no-such-dir").join("file.bin");
        let error = write_atomically(&path, b"x").unwrap_err();
        assert!(error.to_string().contains("file.bin"), "{error}");
        assert!(!path.exists());
    }
}
