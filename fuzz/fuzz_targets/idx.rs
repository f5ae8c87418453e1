//! Arbitrary bytes as an IDX file (raw or gzipped: the loader detects gzip by its magic
//! bytes), through the runtime's public loaders: `load_idx_features` (prediction input) and
//! `load_idx` with the file as both images and labels (so 1-dimensional files reach the label
//! checks). Must return `Ok` or `Err`, never panic; an `Ok` must be consistently shaped.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use netc_fuzz::{scratch_path, write_scratch};
use netc_runtime::data::{load_idx, load_idx_features};

static PATH: LazyLock<PathBuf> = LazyLock::new(|| scratch_path("input.idx"));

fuzz_target!(|data: &[u8]| {
    write_scratch(&PATH, data);
    if let Ok(x) = load_idx_features(&PATH) {
        assert_eq!(x.len(), x.nrows() * x.ncols());
    }
    if let Ok(set) = load_idx(&PATH, &PATH) {
        assert_eq!(set.x.nrows(), set.labels.len());
    }
});
