//! Running `cargo build --release` on a trainer project, its output streamed to our stderr.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::CliError;
use crate::render::Io;

/// `$CARGO` when netc itself runs under cargo (tests, `cargo run`), so the same toolchain
/// builds the trainer; otherwise whatever `cargo` is on the PATH.
fn cargo_program() -> std::ffi::OsString {
    std::env::var_os("CARGO")
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "cargo".into())
}

pub fn build_release(io: &mut Io<'_>, manifest: &Path, target_dir: &Path) -> Result<(), CliError> {
    let program = cargo_program();
    let mut command = Command::new(&program);
    command
        .arg("build")
        .arg("--release")
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .arg("--color")
        .arg(if io.color { "always" } else { "never" })
        // cargo writes progress to stderr; stdout would only carry machine-readable messages.
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let spawn_error = |source| CliError::Spawn {
        program: program.to_string_lossy().into_owned(),
        source,
    };
    let mut child = command.spawn().map_err(spawn_error)?;
    if let Some(mut stderr) = child.stderr.take() {
        // Chunks are forwarded as cargo writes them; a closed `err` must not stall cargo.
        if std::io::copy(&mut stderr, io.err).is_err() {
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        }
    }
    let status = child.wait().map_err(spawn_error)?;
    let project = manifest.parent().unwrap_or(manifest).to_path_buf();
    if status.success() {
        Ok(())
    } else {
        Err(CliError::CargoFailed { project })
    }
}
