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
