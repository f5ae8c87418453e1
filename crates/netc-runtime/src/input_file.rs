//! Opening the files a run reads (data, predict inputs, weights). Only regular files: a device
//! or pipe named by mistake (`/dev/zero`, `/dev/urandom`, `<(…)`) never ends, and would be
//! read until memory runs out.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::Error;

/// Opens `path` for reading and returns it with its size in bytes. Refuses anything but a
/// regular file (after following symbolic links), before opening it: opening a named pipe
/// would block until something writes to it.
pub(crate) fn open(path: &Path) -> Result<(File, u64), Error> {
    let io_error = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    refuse_irregular(path, &std::fs::metadata(path).map_err(io_error)?)?;
    let file = File::open(path).map_err(io_error)?;
    // Checked again on the open file: the path may have been replaced in between.
    let metadata = file.metadata().map_err(io_error)?;
    refuse_irregular(path, &metadata)?;
    Ok((file, metadata.len()))
}

/// The whole of a regular file, read up to the size it had when opened.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Error> {
    let (file, size) = open(path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(size)
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(bytes)
}

fn refuse_irregular(path: &Path, metadata: &std::fs::Metadata) -> Result<(), Error> {
    if metadata.is_file() {
        return Ok(());
    }
    Err(Error::data(
        path,
        format!(
            "{}, not a regular file: give the path of a file (devices, pipes and directories \
             are not read, since they may never end)",
            kind_of(&metadata.file_type())
        ),
    ))
}

fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_fifo() {
            return "a named pipe";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_directories_are_refused_naming_the_path() {
        let mut cases = vec![(std::env::temp_dir(), "a directory")];
        if cfg!(unix) {
            cases.push(("/dev/zero".into(), "a character device"));
            cases.push(("/dev/urandom".into(), "a character device"));
        }
        for (path, kind) in cases {
            let error = read(&path).unwrap_err();
            let text = error.to_string();
            assert!(
                text.starts_with(&format!("{}: {kind}, not a regular file", path.display())),
                "{text}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_named_pipe_is_refused_without_blocking() {
        let path = crate::test_model::temp_path("input-file.fifo");
        let _ = std::fs::remove_file(&path);
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        if !made.is_ok_and(|s| s.success()) {
            return; // no mkfifo here: nothing to test
        }
        // Opening a pipe with no writer would block forever: refusing it must not open it.
        let error = open(&path).unwrap_err();
        assert!(error.to_string().contains("a named pipe"), "{error}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_regular_file_is_read_whole() {
        let path = crate::test_model::temp_path("input-file.bin");
        std::fs::write(&path, b"twelve bytes").unwrap();
        assert_eq!(read(&path).unwrap(), b"twelve bytes");
        assert_eq!(open(&path).unwrap().1, 12);
        let missing = read(Path::new("no/such/file")).unwrap_err();
        assert!(matches!(missing, Error::Io { .. }), "{missing:?}");
    }
}
