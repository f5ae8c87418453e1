//! Arbitrary bytes as a CSV file through the runtime's three public CSV loaders, with the
//! label or target columns at the start, the end and in the middle, with and without a
//! header. Must return `Ok` or `Err`, never panic; an `Ok` must be consistently shaped.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use netc_fuzz::{scratch_path, write_scratch};
use netc_runtime::data::{load_csv, load_csv_features, load_csv_targets};

static PATH: LazyLock<PathBuf> = LazyLock::new(|| scratch_path("input.csv"));

fuzz_target!(|data: &[u8]| {
    write_scratch(&PATH, data);
    for (label, header) in [(-1, true), (0, false), (i64::MIN, false)] {
        if let Ok(set) = load_csv(&PATH, label, header) {
            assert_eq!(set.x.nrows(), set.labels.len());
        }
    }
    for (first, last, header) in [(-2, -1, false), (1, 2, true), (0, 0, true), (-1, 0, false)] {
        if let Ok(set) = load_csv_targets(&PATH, first, last, header) {
            assert_eq!(set.x.nrows(), set.targets.nrows());
        }
    }
    if let Ok(x) = load_csv_features(&PATH, true) {
        assert_eq!(x.len(), x.nrows() * x.ncols());
    }
});
