//! Where trainer projects, their shared target directory and the netc crate live.
//!
//! All are derived from this crate's manifest directory at compile time: a `netc` binary
//! belongs to the source tree it was built from, and generated trainers depend on that tree's
//! `crates/netc` by path.

use std::path::{Path, PathBuf};

use crate::error::CliError;

/// Overrides the shared target directory of every trainer build.
pub const TARGET_DIR_ENV: &str = "NETC_TARGET_DIR";

/// The netc workspace root (two levels above `crates/netc-cli`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

/// The facade crate trainers depend on, as an absolute, normalized path.
pub fn netc_crate_dir() -> Result<PathBuf, CliError> {
    let path = workspace_root().join("crates").join("netc");
    std::fs::canonicalize(&path).map_err(|_| CliError::MissingNetcCrate { path })
}

/// The workspace's `Cargo.lock`, seeded into new trainer projects so they use the same
/// dependency versions without resolving anew. `None` if it is missing.
pub fn workspace_lockfile() -> Option<PathBuf> {
    let path = workspace_root().join("Cargo.lock");
    path.is_file().then_some(path)
}

/// `<workspace>/target/netc/<model>`: one project per model name, next to the workspace's
/// other build output (trainer binaries are named after the model, so this is one-to-one).
pub fn default_project_dir(model: &str) -> PathBuf {
    normalized_root().join("target").join("netc").join(model)
}

/// `$NETC_TARGET_DIR`, else `<workspace>/target/trainers`: one target directory for every
/// trainer, so the runtime and its dependencies compile once and later builds only compile
/// the generated crate.
pub fn trainer_target_dir() -> PathBuf {
    match std::env::var_os(TARGET_DIR_ENV) {
        // Absolute, so the binary path we print stays valid wherever it is used.
        Some(dir) if !dir.is_empty() => {
            std::path::absolute(&dir).unwrap_or_else(|_| PathBuf::from(dir))
        }
        _ => normalized_root().join("target").join("trainers"),
    }
}

fn normalized_root() -> PathBuf {
    let root = workspace_root();
    std::fs::canonicalize(&root).unwrap_or(root)
}
