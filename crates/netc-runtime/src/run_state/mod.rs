//! The run-state file: everything a training run knows between two steps, so a run killed at
//! any instant resumes to exactly the result it would have had.
//!
//! A state file is a safetensors file (readable by any safetensors tool) with named tensors:
//!
//! | tensor | dtype | what |
//! |---|---|---|
//! | `model.<name>` | F32/F64 | every tensor of the checkpoint (weights, batch-norm running statistics, preprocessing) |
//! | `optimizer.<name>.<slot>` | F32/F64 | optimizer slots, PyTorch's names (`momentum_buffer`, `sum`, `square_avg`, `exp_avg`, `exp_avg_sq`) |
//! | `last_good.<name>` | F32/F64 | the tensors at the end of the last complete epoch (divergence rolls back to them) |
//! | `best.<name>` | F32/F64 | early stopping's best epoch (only with `restore_best`) |
//! | `hyper.<name>` | F64 [1] | every hyperparameter of the run (after `--set`) |
//! | `run.counters` | U64 [3] | the model's steps, epochs completed, dropout generator state |
//! | `run.config` | U64 [4] | seed, epochs, max steps (2⁶⁴−1: none), early-stopping patience (0: none) |
//! | `run.position` | U64 [5] | next epoch, an epoch in progress (0/1), its next batch, steps run, stopped after epoch (0: not) |
//! | `run.order` | U64 [n] | the sample order of the epoch in progress (empty between epochs) |
//! | `run.data` | U64 [2] | training samples and a fingerprint of them (a resume on other data is refused) |
//! | `rng.sampling`, `rng.augment` | U64 [8] | generator states (seed, stream, position, cached normal) |
//! | `run.epoch` | F64 [10] | the epoch in progress: start rate, loss, regularization loss, correct, steps, seconds, ‖g‖ sum, last, count |
//! | `run.epoch_curvature` | F64 [n, 4] | its curvature checks so far |
//! | `run.curvature_watch` | U64 [2] | the curvature warning's memory |
//! | `run.stopper` | F64 [4] | early stopping: has a best, best epoch, best value, stale epochs |
//! | `run.history`, `run.curvature` | F64 | the finished epochs' reports (the metrics lines are rewritten from them) |
//!
//! A full-batch (`lbfgs` / `newton`) run (kind `full_batch`, saved after an iteration) has
//! `model.*`, `hyper.*`, `run.config`, `run.data`, `run.counters`, `run.history` as above, and:
//!
//! | tensor | dtype | what |
//! |---|---|---|
//! | `solver.theta` | F64 [n] | the accepted point, exactly (an f32 model holds it rounded) |
//! | `solver.progress` | U64 [2] | iterations done, objective evaluations so far |
//! | `solver.value`, `solver.grad` | F64 [1], [n] | f and ∇f there (not evaluated again on resume) |
//! | `solver.pairs_s`, `solver.pairs_y` | F64 [m, n] | L-BFGS's correction pairs, oldest first (m = 0 for Newton) |
//!
//! `search` and `ensemble` runs (kinds `search`, `ensemble`) keep their finished trials and
//! members (netc-procedures: `search/state.rs`, `bagging/state.rs`).
//!
//! Who writes what: this module is the format's common part (the codec, the identity and
//! run header every kind starts with, a finished model with its report, the epoch
//! history). Each procedure writes its own part next to its code: `fit/state.rs`
//! (minibatch), `full_batch/state.rs`, and the procedures crate's search and bagging; the
//! functions below are public for those.
//!
//! Metadata: `format` = `netc-run-state`, `state_version`, `kind`, `model`,
//! `spec_hash`, `netc_version`. Files are written with [`crate::atomic_file`], so a kill during
//! a save leaves the previous state intact.

pub mod codec;
pub mod finished;
pub(crate) mod history;

use crate::config::RunConfig;
use crate::data::Splits;
use crate::error::Error;
use crate::network::{Hyperparams, Network};
use crate::real::Real;
use codec::{StateReader, StateWriter};

/// The layout version of state files; a file of another version is refused.
pub const STATE_VERSION: &str = "1";
pub(crate) const FORMAT: &str = "netc-run-state";

/// The largest step, epoch, iteration, sample or evaluation count a state file may hold: 2⁵³,
/// up to which the F64 tables (reports, sums) hold counts exactly. No run gets near it, and a
/// run continued from it has room to count on without overflowing (counters are `u64`).
pub(crate) const MAX_COUNT: u64 = 1 << 53;

/// A U64 count read from `what` (a tensor and field), at most [`MAX_COUNT`].
pub(crate) fn count(input: &StateReader<'_>, what: &str, value: u64) -> Result<u64, Error> {
    if value > MAX_COUNT {
        return Err(input.error(format!(
            "{what} is {value}, more than any run counts to (2^53)"
        )));
    }
    Ok(value)
}

/// A count stored as F64 (`what`: a tensor and field): a whole number in 0..=2⁵³.
pub(crate) fn f64_count(input: &StateReader<'_>, what: &str, value: f64) -> Result<u64, Error> {
    if !((0.0..=MAX_COUNT as f64).contains(&value) && value.fract() == 0.0) {
        return Err(input.error(format!(
            "{what} is {value:?}, not a count (a whole number from 0 to 2^53)"
        )));
    }
    Ok(value as u64)
}

/// The bytes of a state file; refuses what is not a regular file (`/dev/zero` would be read
/// until memory runs out).
pub fn read_state_file(path: &std::path::Path) -> Result<Vec<u8>, crate::error::Error> {
    crate::atomic_file::remove_stale_temporaries(path);
    crate::input_file::read(path)
}

/// The metadata every state file starts with.
pub(crate) fn write_identity<M: Network>(out: &mut StateWriter, kind: &str) {
    out.meta("format", FORMAT);
    out.meta("state_version", STATE_VERSION);
    out.meta("kind", kind);
    out.meta("model", M::META.name);
    out.meta("spec_hash", M::META.spec_hash);
    out.meta("netc_version", M::META.netc_version);
}

/// Refuses a file that is not a state file of this model, of this layout version, of `kind`.
pub(crate) fn check_identity<M: Network>(input: &StateReader<'_>, kind: &str) -> Result<(), Error> {
    if input.meta("format") != Some(FORMAT) {
        return Err(input.error(
            "not a netc run-state file (a weights checkpoint? those start a run with \
             --init-weights; --resume takes the file written by --save-every or on a signal)",
        ));
    }
    let version = input.meta("state_version").unwrap_or("?");
    if version != STATE_VERSION {
        return Err(input.error(format!(
            "run-state layout version {version} (netc {}), this trainer reads version \
             {STATE_VERSION} (netc {}): finish the run with the netc that started it",
            input.meta("netc_version").unwrap_or("?"),
            M::META.netc_version
        )));
    }
    let (model, hash) = (
        input.meta("model").unwrap_or("?"),
        input.meta("spec_hash").unwrap_or("?"),
    );
    if hash != M::META.spec_hash {
        return Err(input.error(format!(
            "the run state is of model `{model}` (spec hash {hash}), this trainer is `{}` ({})",
            M::META.name,
            M::META.spec_hash
        )));
    }
    match input.meta("kind") {
        Some(saved) if saved == kind => Ok(()),
        other => Err(input.error(format!(
            "the run state is of a `{}` run, this run is a `{kind}` run",
            other.unwrap_or("?")
        ))),
    }
}

/// The start of a whole-run state (search, ensemble, full batch): identity, the run's hyperparameters,
/// settings and training data.
pub fn write_run_header<M: Network>(
    kind: &str,
    cfg: &RunConfig,
    base: &M::Hyper,
    splits_hash: (usize, u64),
) -> StateWriter {
    let mut out = StateWriter::default();
    write_identity::<M>(&mut out, kind);
    write_hyper::<M>(&mut out, "hyper.", base);
    write_config(&mut out, cfg);
    out.u64s("run.data", &[splits_hash.0 as u64, splits_hash.1]);
    out
}

/// Reads a state file written with [`write_run_header`] and refuses one of another model,
/// kind, layout, settings, hyperparameters or data. `bytes` keeps the file's contents.
pub fn open_run_state<'d, M: Network>(
    bytes: &'d [u8],
    path: &std::path::Path,
    kind: &str,
    cfg: &RunConfig,
    base: &M::Hyper,
    splits: &Splits<M::Float>,
) -> Result<StateReader<'d>, Error> {
    let input = StateReader::new(bytes, path)?;
    check_identity::<M>(&input, kind)?;
    check_config(&input, cfg)?;
    check_data(&input, splits, fingerprint(splits))?;
    check_hyper::<M>(&input, "hyper.", base)?;
    Ok(input)
}

/// Every hyperparameter under `prefix`, as F64 [1] tensors.
pub fn write_hyper<M: Network>(out: &mut StateWriter, prefix: &str, hyper: &M::Hyper) {
    for name in M::Hyper::names() {
        out.f64s(
            &format!("{prefix}{name}"),
            vec![1],
            &[hyper.get(name).unwrap_or(f64::NAN)],
        );
    }
}

/// A hyperparameter set saved by [`write_hyper`]. Every value must be one the model holds
/// exactly (what `write_hyper` saved): a value that `set` accepts in f64 may round to another
/// one in an f32 model (1e-50 to 0, a learning rate it refuses), which a resumed run would
/// then save, and refuse.
pub fn read_hyper<H: Hyperparams>(
    input: &StateReader<'_>,
    prefix: &str,
    base: &H,
) -> Result<H, Error> {
    let mut hyper = base.clone();
    for name in H::names() {
        let (value, _) = input.f64s(&format!("{prefix}{name}"))?;
        let value = value
            .first()
            .copied()
            .ok_or_else(|| input.error(format!("tensor `{prefix}{name}` is empty")))?;
        hyper
            .set(name, value)
            .map_err(|e| input.error(format!("tensor `{prefix}{name}`: {e}")))?;
        let held = hyper.get(name).unwrap_or(f64::NAN);
        if held.to_bits() != value.to_bits() {
            return Err(input.error(format!(
                "tensor `{prefix}{name}` is {value:?}, which this model holds as {held:?}: \
                 not a value the run had"
            )));
        }
    }
    Ok(hyper)
}

/// A resumed run is the run that was started: the same hyperparameters, bit for bit.
pub(crate) fn check_hyper<M: Network>(
    input: &StateReader<'_>,
    prefix: &str,
    now: &M::Hyper,
) -> Result<(), Error> {
    for name in M::Hyper::names() {
        let (saved, _) = input.f64s(&format!("{prefix}{name}"))?;
        let value = now.get(name).unwrap_or(f64::NAN);
        if saved.first().map(|v| v.to_bits()) != Some(value.to_bits()) {
            return Err(input.error(format!(
                "hyperparameter `{name}` was {} in the saved run, {value} now: resume with the \
                 flags the run was started with",
                saved.first().copied().unwrap_or(f64::NAN)
            )));
        }
    }
    Ok(())
}

/// `run.config`: seed, epochs, max steps, patience.
pub(crate) fn write_config(out: &mut StateWriter, cfg: &RunConfig) {
    out.u64s("run.config", &config_words(cfg));
}

fn config_words(cfg: &RunConfig) -> [u64; 4] {
    [
        cfg.seed,
        cfg.epochs as u64,
        cfg.max_steps.unwrap_or(u64::MAX),
        cfg.early_stopping.map_or(0, |e| e.patience as u64),
    ]
}

pub(crate) fn check_config(input: &StateReader<'_>, cfg: &RunConfig) -> Result<(), Error> {
    let saved = input.u64_array::<4>("run.config")?;
    let now = config_words(cfg);
    if saved == now {
        return Ok(());
    }
    let describe = |[seed, epochs, max_steps, patience]: [u64; 4]| {
        let max_steps = match max_steps {
            u64::MAX => "none".to_string(),
            n => n.to_string(),
        };
        format!("seed {seed}, {epochs} epochs, max steps {max_steps}, patience {patience}")
    };
    Err(input.error(format!(
        "the run was saved with {}; this run has {} (resume with the flags the run was \
         started with)",
        describe(saved),
        describe(now)
    )))
}

/// Refuses a resume on other training data than the run's.
pub(crate) fn check_data<V: Real>(
    input: &StateReader<'_>,
    splits: &Splits<V>,
    hash: u64,
) -> Result<(), Error> {
    let [samples, saved] = input.u64_array("run.data")?;
    if samples == splits.train.len() as u64 && saved == hash {
        return Ok(());
    }
    Err(input.error(format!(
        "the run was saved training on {samples} samples with fingerprint {saved:016x}; this \
         run's training split has {} samples with fingerprint {hash:016x}: other data",
        splits.train.len()
    )))
}

/// A 64-bit hash of the training split (features and targets, in order): a multiply-rotate
/// fold, fast, and any changed value changes it with overwhelming probability (it guards
/// against mistakes, not against an adversary).
pub fn fingerprint<V: Real>(splits: &Splits<V>) -> u64 {
    let mut hash: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut add = |word: u64| {
        hash = (hash ^ word).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
    };
    // The values in the model's precision, however they are stored: a state saved before
    // bytes were kept as bytes still resumes.
    splits.train.x.view().for_each_row(|_, row| {
        row.iter().for_each(|v| add(v.bits()));
    });
    splits.train.labels.iter().for_each(|&l| add(u64::from(l)));
    splits.train.targets.iter().for_each(|v| add(v.bits()));
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hyperparameter kept in f32, as generated models with `precision f32` keep theirs.
    #[derive(Clone, Debug)]
    struct F32Rate(f32);

    impl Hyperparams for F32Rate {
        fn names() -> &'static [&'static str] {
            &["learning_rate"]
        }

        fn get(&self, _: &str) -> Option<f64> {
            Some(f64::from(self.0))
        }

        fn set(&mut self, name: &str, value: f64) -> Result<(), Error> {
            if !(value.is_finite() && value > 0.0) {
                return Err(Error::Usage(format!("`{name}` = {value}: expected > 0")));
            }
            self.0 = value as f32;
            Ok(())
        }

        fn set_searched(&mut self, _: crate::SearchTarget, _: f64) -> Result<(), Error> {
            unreachable!("not searched")
        }
    }

    fn read(rate: f64) -> Result<F32Rate, Error> {
        let mut out = StateWriter::default();
        out.f64s("members_hyper.learning_rate", vec![1], &[rate]);
        let path = std::path::Path::new("state.safetensors");
        let bytes = out.encode(path).unwrap();
        read_hyper(
            &StateReader::new(&bytes, path)?,
            "members_hyper.",
            &F32Rate(0.1),
        )
    }

    /// Fuzzing (`state`, bagging): a members' learning rate of 1e-50 passed `set` and became 0
    /// in the f32 model; the resumed run saved 0, and its own state was refused.
    #[test]
    fn a_hyperparameter_the_model_cannot_hold_is_refused() {
        assert_eq!(read(f64::from(0.25f32)).unwrap().0, 0.25);
        let error = read(1e-50).unwrap_err().to_string();
        assert!(
            error.contains(
                "tensor `members_hyper.learning_rate` is 1e-50, which this model holds as 0.0"
            ),
            "{error}"
        );
        let error = read(0.1).unwrap_err().to_string();
        assert!(error.contains("holds as 0.10000000149011612"), "{error}");
        let error = read(-1.0).unwrap_err().to_string();
        assert!(
            error.contains("tensor `members_hyper.learning_rate`: `learning_rate` = -1"),
            "{error}"
        );
    }
}

/// Helpers for the tests of the run-state readers: a state file with one value changed.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::{Path, PathBuf};

    /// A copy of the state file `from` at `to` in which value `index` of tensor `name` is the
    /// little-endian bytes `value` (8 bytes for U64/F64, 4 for F32).
    pub(crate) fn patched(
        from: &Path,
        to: &str,
        name: &str,
        index: usize,
        value: &[u8],
    ) -> PathBuf {
        let mut bytes = std::fs::read(from).unwrap();
        let offset = {
            let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
            let data = file.tensor(name).unwrap().data();
            data.as_ptr() as usize - bytes.as_ptr() as usize
        };
        let at = offset + index * value.len();
        bytes[at..at + value.len()].copy_from_slice(value);
        let path = crate::test_model::temp_path(to);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}
