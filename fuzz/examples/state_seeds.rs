//! Seeds for the `state` target: run states written by short runs of every kind of run in
//! `src/lib.rs` (`StateRun`), into `corpus/state/`: the state at the end of the run, one
//! saved part-way (a later `--save-every` period, a search or bagging run with fewer trials or
//! members), and one saved on a signal after the first step (trial, member, iteration).
//!
//! `cargo +nightly run --example state_seeds` (from `fuzz/`).

use std::path::Path;

use netc::Error;
use netc_fuzz::StateRun;
use netc_runtime::{Interval, SaveConfig};

fn main() -> Result<(), Error> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/state");
    std::fs::create_dir_all(&dir).map_err(|e| Error::Usage(e.to_string()))?;
    for run in StateRun::ALL {
        let save = |name: &str, every: u64| SaveConfig {
            state_path: Some(dir.join(format!("{}-{name}.state", run.name()))),
            every: Some(Interval::Steps(every)),
            resume: None,
        };
        run.train(save("end", 1), None)?;
        match run {
            StateRun::Search | StateRun::Bagging => run.train(save("partial", 1), Some(1))?,
            StateRun::Lbfgs | StateRun::Newton => run.train(save("second", 2), None)?,
            _ => run.train(save("mid-epoch", 3), None)?,
        }
        netc_runtime::interrupt::set_requested(2);
        match run.train(save("signal", 1_000), None) {
            Err(Error::Interrupted { .. }) => {}
            other => panic!("{}: expected an interrupted run, got {other:?}", run.name()),
        }
    }
    println!("seeds written to {}", dir.display());
    Ok(())
}
