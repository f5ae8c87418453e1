//! Arbitrary bytes as a run-state file, resumed (`--resume`) by every kind of run the trainer
//! has (see `StateRun` in `src/lib.rs`): minibatch Adam with dropout, batch norm, early
//! stopping and monitoring; minibatch momentum in f64; full-batch L-BFGS (f32) and Newton;
//! a random search; bagging. Each must return `Ok` or a clean `Err`, never panic. A resumed
//! run saves its state after every step (trial, member, iteration); when it ends `Ok`, the
//! last state it saved must resume to `Ok` too (a run never saves a state it would refuse).
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use netc_fuzz::{StateRun, scratch_path, write_scratch};
use netc_runtime::{Interval, SaveConfig};

static INPUT: LazyLock<PathBuf> = LazyLock::new(|| scratch_path("input.state"));
static SAVED: LazyLock<PathBuf> = LazyLock::new(|| scratch_path("saved.state"));

fuzz_target!(|data: &[u8]| {
    write_scratch(&INPUT, data);
    for run in StateRun::ALL {
        let _ = std::fs::remove_file(&*SAVED);
        let save = SaveConfig {
            state_path: Some(SAVED.clone()),
            every: Some(Interval::Steps(1)),
            resume: Some(INPUT.clone()),
        };
        if run.train(save, None).is_err() || !SAVED.exists() {
            continue;
        }
        let again = SaveConfig {
            state_path: None,
            every: None,
            resume: Some(SAVED.clone()),
        };
        if let Err(error) = run.train(again, None) {
            panic!(
                "{}: the run resumed from the input ended Ok, but the state it saved is \
                 refused: {error}",
                run.name()
            );
        }
    }
});
