//! Arbitrary bytes as a safetensors weights file, loaded by three models generated with
//! `netc::net!` (see `src/lib.rs`): `load_checkpoint` into an f32 model with an input stage
//! and batch norm, into an f64 model, and `load_ensemble` for a bagged ensemble of three.
//! Must return `Ok` or `Err`, never panic; a loaded model must then predict without panicking.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use netc_fuzz::models::{fuzz_bag, fuzz_bn, fuzz_f64};
use netc_fuzz::{scratch_path, write_scratch};

static PATH: LazyLock<PathBuf> = LazyLock::new(|| scratch_path("input.safetensors"));

fuzz_target!(|data: &[u8]| {
    write_scratch(&PATH, data);
    if let Ok(mut model) = fuzz_bn::load(&*PATH) {
        let out = fuzz_bn::predict(&mut model, &[0.5; 8]).expect("two samples of 4 features");
        assert_eq!(out.len(), 2 * 3);
    }
    if let Ok(mut model) = fuzz_f64::load(&*PATH) {
        let out = fuzz_f64::predict(&mut model, &[0.5; 3]).expect("one sample of 3 features");
        assert_eq!(out.len(), 1);
    }
    if let Ok(mut ensemble) = fuzz_bag::load(&*PATH) {
        let out = fuzz_bag::predict(&mut ensemble, &[0.5; 2]).expect("one sample of 2 features");
        assert_eq!(out.len(), 2);
    }
});
