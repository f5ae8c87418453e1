//! Helpers shared by the test modules.

use netc::__private as rt;

/// The repository root: relative data paths in the specs resolve against it.
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The spec's run configuration with its data paths resolved from the repository root.
pub fn with_repo_data(mut cfg: rt::RunConfig) -> rt::RunConfig {
    if let Some(data) = &mut cfg.data {
        data.base_dir = Some(repo_root());
    }
    cfg
}

/// A fresh, empty scratch directory `group/name` under cargo's per-target temp dir (no
/// temp-file crate needed).
pub fn scratch_dir(group: &str, name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(group)
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}
