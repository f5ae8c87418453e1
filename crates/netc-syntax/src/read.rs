//! Reading a spec from disk with bounds: both front ends (the CLI and `net!(include …)`) read
//! specs through this, so neither can be made to read a device or an endless file until
//! memory runs out.

use std::io::{self, Read};
use std::path::Path;

/// Largest spec file read, in bytes (1 MiB). Real specs are a few hundred bytes.
pub const MAX_SPEC_BYTES: u64 = 1 << 20;

/// The text of the spec at `path`: a regular file (after symlinks) of at most
/// [`MAX_SPEC_BYTES`], in UTF-8. Refusals are `InvalidInput` errors whose message says why.
pub fn read_spec_text(path: &Path) -> io::Result<String> {
    // Checked before opening: opening a FIFO would block until a writer appears.
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_regular());
    }
    let file = std::fs::File::open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(not_regular());
    }
    if metadata.len() > MAX_SPEC_BYTES {
        return Err(too_large(Some(metadata.len())));
    }
    // The size may change between the check and the read: never read past the cap.
    let mut bytes = Vec::new();
    file.take(MAX_SPEC_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SPEC_BYTES {
        return Err(too_large(None));
    }
    String::from_utf8(bytes).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

fn not_regular() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "not a regular file (a directory, device or pipe): specs are read only from regular files",
    )
}

/// `bytes`: the file's size when known (it may grow while read).
fn too_large(bytes: Option<u64>) -> io::Error {
    let size = bytes.map_or(String::new(), |b| format!(" ({b} bytes)"));
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "the spec{size} is larger than {MAX_SPEC_BYTES} bytes (1 MiB), the limit for a spec file"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("netc-syntax-read-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn a_small_spec_reads_whole() {
        let path = scratch("ok.net");
        std::fs::write(&path, "model m { input 1 dense 1 loss mse }").unwrap();
        assert_eq!(
            read_spec_text(&path).unwrap(),
            "model m { input 1 dense 1 loss mse }"
        );
    }

    #[test]
    fn a_spec_at_the_cap_reads_and_one_byte_more_is_refused() {
        let path = scratch("big.net");
        std::fs::write(&path, "#".repeat(MAX_SPEC_BYTES as usize)).unwrap();
        assert_eq!(
            read_spec_text(&path).unwrap().len(),
            MAX_SPEC_BYTES as usize
        );
        std::fs::write(&path, "#".repeat(MAX_SPEC_BYTES as usize + 1)).unwrap();
        let error = read_spec_text(&path).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(
            error
                .to_string()
                .contains("(1048577 bytes) is larger than 1048576 bytes (1 MiB)"),
            "{error}"
        );
    }

    #[test]
    fn directories_and_devices_are_refused_without_reading() {
        let error = read_spec_text(&std::env::temp_dir()).unwrap_err();
        assert!(error.to_string().contains("not a regular file"), "{error}");
        #[cfg(unix)]
        for device in ["/dev/zero", "/dev/urandom"] {
            let error = read_spec_text(Path::new(device)).unwrap_err();
            assert!(
                error.to_string().contains("not a regular file"),
                "{device}: {error}"
            );
        }
    }

    #[test]
    fn non_utf8_is_an_error() {
        let path = scratch("latin1.net");
        std::fs::write(&path, b"model \xe9").unwrap();
        let error = read_spec_text(&path).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    }
}
