//! Saving and restoring a minibatch run of [`crate::fit`]: its own part of the run-state
//! format (the table in `run_state`), written and read with `run_state`'s codec.

use std::path::Path;

use super::{EpochInProgress, EpochLoop, EpochTotals, RunProgress, Snapshot};
use crate::config::RunConfig;
use crate::data::Splits;
use crate::error::Error;
use crate::monitor::{CurvatureWatch, GradNormSum};
use crate::network::Network;
use crate::report::TrainMetric;
use crate::rng::Rng;
use crate::run_state;
use crate::run_state::codec::{StateReader, StateWriter, copy_into};
use crate::run_state::history;

const KIND: &str = "minibatch";

/// Writes the whole state of the run atomically to `path`.
pub(crate) fn save<M: Network>(
    path: &Path,
    model: &M,
    cfg: &RunConfig,
    splits: &Splits<M::Float>,
    epoch_loop: &EpochLoop<'_, M>,
    run: &RunProgress<M::Float>,
) -> Result<(), Error> {
    let mut out = StateWriter::default();
    run_state::write_identity::<M>(&mut out, KIND);

    let tensors = model.tensors();
    out.floats("model.", &tensors);
    out.floats("optimizer.", &model.optimizer_state());
    out.float_copies("last_good.", &tensors, &epoch_loop.last_good.tensors);
    if let Some(best) = &run.best {
        out.float_copies("best.", &tensors, &best.tensors);
    }
    run_state::write_hyper::<M>(&mut out, "hyper.", model.hyper());
    let counters = model.counters();
    out.u64s(
        "run.counters",
        &[counters.steps, counters.epochs, counters.dropout],
    );
    run_state::write_config(&mut out, cfg);
    let current = epoch_loop.current.as_ref();
    out.u64s(
        "run.position",
        &[
            run.next_epoch as u64,
            u64::from(current.is_some()),
            current.map_or(0, |c| c.next_batch as u64),
            epoch_loop.steps_run,
            run.stopped_after.map_or(0, |e| e as u64),
        ],
    );
    let order: Vec<u64> = match current {
        Some(_) => epoch_loop
            .batcher
            .order()
            .iter()
            .map(|&i| i as u64)
            .collect(),
        None => Vec::new(),
    };
    out.u64s("run.order", &order);
    let hash = *epoch_loop
        .data_fingerprint
        .get_or_init(|| run_state::fingerprint(splits));
    out.u64s("run.data", &[splits.train.len() as u64, hash]);
    out.rng("rng.sampling", &epoch_loop.sampling_rng.state());
    if let Some(augmenter) = &epoch_loop.augmenter {
        out.rng("rng.augment", &augmenter.rng_state());
    }
    let (epoch_sums, epoch_curvature) = match current {
        Some(c) => {
            let t = &c.totals;
            let [gn_sum, gn_last, gn_steps] = t.grad_norm.parts();
            (
                vec![
                    f64::from(c.learning_rate),
                    t.loss_sum,
                    t.reg_loss_sum,
                    t.correct as f64,
                    t.steps as f64,
                    t.seconds,
                    gn_sum,
                    gn_last,
                    gn_steps,
                    c.epoch as f64,
                ],
                history::curvature_rows(&t.curvature),
            )
        }
        None => (vec![0.0; 10], Vec::new()),
    };
    out.f64s("run.epoch", vec![10], &epoch_sums);
    history::write_curvature(&mut out, "run.epoch_curvature", &epoch_curvature);
    out.u64s("run.curvature_watch", &epoch_loop.curvature_watch.parts());
    let stopper = run.stopper.as_ref().map_or([0.0; 4], |s| s.parts());
    out.f64s("run.stopper", vec![4], &stopper);
    history::write(&mut out, "run", &run.epochs);
    out.write_to(path)
}

/// Puts the saved run back: the model (tensors, optimizer slots, counters, hyperparameters),
/// the epoch loop (position, order, generators, sums) and the epoch-level progress. Checks the
/// whole file (identity, version, configuration, data, every tensor) before changing anything.
pub(crate) fn restore<M: Network>(
    path: &Path,
    model: &mut M,
    cfg: &RunConfig,
    splits: &Splits<M::Float>,
    epoch_loop: &mut EpochLoop<'_, M>,
    run: &mut RunProgress<M::Float>,
) -> Result<(), Error> {
    let bytes = run_state::read_state_file(path)?;
    let input = StateReader::new(&bytes, path)?;
    run_state::check_identity::<M>(&input, KIND)?;
    run_state::check_config(&input, cfg)?;
    let hash = *epoch_loop
        .data_fingerprint
        .get_or_init(|| run_state::fingerprint(splits));
    run_state::check_data(&input, splits, hash)?;

    let tensors = model.tensors();
    let weights = input.float_copies("model.", &tensors)?;
    let last_good = input.float_copies("last_good.", &tensors)?;
    let best = match &run.best {
        Some(_) => Some(input.float_copies("best.", &tensors)?),
        None => None,
    };
    drop(tensors);
    let optimizer = input.float_copies("optimizer.", &model.optimizer_state())?;
    run_state::check_hyper::<M>(&input, "hyper.", model.hyper())?;
    let [steps, model_epochs, dropout] = input.u64_array("run.counters")?;
    let [
        next_epoch,
        in_progress,
        next_batch,
        steps_run,
        stopped_after,
    ] = input.u64_array("run.position")?;
    let order = input.u64s("run.order")?;
    let sampling = input.rng("rng.sampling")?;
    let augment = match &epoch_loop.augmenter {
        Some(_) => Some(input.rng("rng.augment")?),
        None => None,
    };
    let (sums, _) = input.f64s("run.epoch")?;
    let sums: [f64; 10] = sums
        .try_into()
        .map_err(|_| input.error("tensor `run.epoch` must hold 10 values"))?;
    let epoch_curvature = history::read_curvature(&input, "run.epoch_curvature")?;
    let watch = input.u64_array("run.curvature_watch")?;
    let (stopper, _) = input.f64s("run.stopper")?;
    let stopper_parts: [f64; 4] = stopper
        .try_into()
        .map_err(|_| input.error("tensor `run.stopper` must hold 4 values"))?;
    let epochs_done = history::read(&input, "run", TrainMetric::of::<M>())?;
    let position = Position {
        next_epoch,
        in_progress,
        next_batch,
        steps_run,
        stopped_after,
    };
    let epoch_sums = check_position::<M>(&input, cfg, splits, &position, &order, &sums)?;
    let [steps, model_epochs] = [("steps", steps), ("epochs", model_epochs)]
        .map(|(field, value)| run_state::count(&input, &format!("`run.counters` {field}"), value));
    let (steps, model_epochs) = (steps?, model_epochs?);
    if epochs_done.len() as u64 != next_epoch - 1 {
        return Err(input.error(format!(
            "tensor `run.history` holds {} epochs, `run.position` says {} are done",
            epochs_done.len(),
            next_epoch - 1
        )));
    }
    if run.stopper.is_some() {
        check_stopper(&input, &stopper_parts, next_epoch - 1)?;
    }

    // Everything checked: now change the model and the loop.
    copy_into(model.tensors_mut(), &weights);
    copy_into(model.optimizer_state_mut(), &optimizer);
    model.set_counters(crate::network::Counters {
        steps,
        epochs: model_epochs,
        dropout,
    });
    epoch_loop.last_good = Snapshot { tensors: last_good };
    if let (Some(best), Some(values)) = (&mut run.best, best) {
        best.tensors = values;
    }
    epoch_loop.steps_run = steps_run;
    epoch_loop.sampling_rng = Rng::from_state(&sampling);
    if let (Some(augmenter), Some(state)) = (&mut epoch_loop.augmenter, augment) {
        augmenter.set_rng_state(&state);
    }
    epoch_loop.curvature_watch = CurvatureWatch::from_parts(watch);
    epoch_loop.current = (in_progress != 0).then(|| {
        epoch_loop
            .batcher
            .set_order(order.iter().map(|&i| i as usize));
        EpochInProgress {
            epoch: next_epoch as usize,
            next_batch: next_batch as usize,
            learning_rate: sums[0] as f32,
            totals: EpochTotals {
                loss_sum: sums[1],
                reg_loss_sum: sums[2],
                correct: epoch_sums.correct,
                steps: next_batch,
                seconds: sums[5],
                grad_norm: GradNormSum::from_parts([
                    sums[6],
                    sums[7],
                    epoch_sums.grad_norm_steps as f64,
                ]),
                curvature: epoch_curvature,
            },
        }
    });
    if let Some(stopper_state) = &mut run.stopper {
        stopper_state.restore_parts(stopper_parts);
    }
    run.epochs = epochs_done;
    run.next_epoch = next_epoch as usize;
    run.stopped_after = (stopped_after != 0).then_some(stopped_after as usize);
    Ok(())
}

/// `run.position`, as read.
struct Position {
    next_epoch: u64,
    in_progress: u64,
    next_batch: u64,
    steps_run: u64,
    stopped_after: u64,
}

/// The counts of `run.epoch` that the resumed epoch goes on adding to.
struct EpochCounts {
    correct: u64,
    grad_norm_steps: u64,
}

/// Refuses a position outside the run: an epoch not in 1..=epochs (or just past the last, for
/// a run between epochs), a stop after an epoch not yet done, an order that is not a planned
/// epoch of this training set, a batch past the order's end, sums of an epoch that are not
/// its batches'.
fn check_position<M: Network>(
    input: &StateReader<'_>,
    cfg: &RunConfig,
    splits: &Splits<M::Float>,
    p: &Position,
    order: &[u64],
    sums: &[f64; 10],
) -> Result<EpochCounts, Error> {
    let epochs = cfg.epochs as u64;
    run_state::count(input, "`run.position` steps run", p.steps_run)?;
    if p.in_progress > 1 {
        return Err(input.error(format!(
            "`run.position` epoch in progress is {}, not 0 or 1",
            p.in_progress
        )));
    }
    let last_epoch = if p.in_progress == 1 {
        epochs
    } else {
        epochs + 1
    };
    if !(1..=last_epoch).contains(&p.next_epoch) {
        return Err(input.error(format!(
            "`run.position` next epoch is {}, outside this run's epochs 1..={epochs}{}",
            p.next_epoch,
            if p.in_progress == 1 {
                ""
            } else {
                " (or just past them)"
            }
        )));
    }
    if p.stopped_after >= p.next_epoch || (p.stopped_after != 0 && p.in_progress == 1) {
        return Err(input.error(format!(
            "`run.position` says the run stopped after epoch {}, but its next epoch is {}{}",
            p.stopped_after,
            p.next_epoch,
            if p.in_progress == 1 {
                " and under way"
            } else {
                ""
            }
        )));
    }
    if p.in_progress == 0 {
        return Ok(EpochCounts {
            correct: 0,
            grad_norm_steps: 0,
        });
    }
    let samples = splits.train.len();
    if order.iter().any(|&i| i >= samples as u64) {
        return Err(input.error("tensor `run.order` names a sample past the training set"));
    }
    let planned = match cfg.sampling {
        crate::config::Sampling::WithReplacement => samples / M::BATCH.max(1) * M::BATCH,
        _ => samples,
    };
    if order.len() != planned {
        return Err(input.error(format!(
            "tensor `run.order` holds {} samples, an epoch of this training set orders {planned}",
            order.len()
        )));
    }
    let batches = (planned / M::BATCH.max(1)) as u64;
    if p.next_batch > batches {
        return Err(input.error(format!(
            "`run.position` next batch is {}, the epoch has {batches} batches",
            p.next_batch
        )));
    }
    if sums[9] != p.next_epoch as f64 {
        return Err(input.error(format!(
            "tensor `run.epoch` is of epoch {}, `run.position` of epoch {}",
            sums[9], p.next_epoch
        )));
    }
    let steps = run_state::f64_count(input, "`run.epoch` steps", sums[4])?;
    if steps != p.next_batch {
        return Err(input.error(format!(
            "tensor `run.epoch` sums {steps} steps, the epoch is at batch {}",
            p.next_batch
        )));
    }
    let correct = run_state::f64_count(input, "`run.epoch` correct", sums[3])?;
    if correct > steps * M::BATCH as u64 {
        return Err(input.error(format!(
            "tensor `run.epoch` counts {correct} correct predictions in {steps} batches of {}",
            M::BATCH
        )));
    }
    let grad_norm_steps = run_state::f64_count(input, "`run.epoch` ‖g‖ count", sums[8])?;
    if grad_norm_steps > steps {
        return Err(input.error(format!(
            "tensor `run.epoch` sums ‖g‖ over {grad_norm_steps} steps of {steps}"
        )));
    }
    if let Some(bad) = sums.iter().position(|v| !v.is_finite()) {
        return Err(input.error(format!(
            "tensor `run.epoch` holds a non-finite value at index {bad}"
        )));
    }
    Ok(EpochCounts {
        correct,
        grad_norm_steps,
    })
}

/// Refuses early stopping's state (`run.stopper`) if it is not that of a run `done` epochs in:
/// a best epoch not among them or a non-finite best, more stale epochs than have passed since
/// the best (or since the start).
fn check_stopper(
    input: &StateReader<'_>,
    [has_best, best_epoch, best, stale]: &[f64; 4],
    done: u64,
) -> Result<(), Error> {
    let since = match *has_best {
        0.0 => done,
        1.0 => {
            let epoch = run_state::f64_count(input, "`run.stopper` best epoch", *best_epoch)?;
            if !(1..=done).contains(&epoch) {
                return Err(input.error(format!(
                    "`run.stopper` best epoch is {epoch}, the run has done epochs 1..={done}"
                )));
            }
            if !best.is_finite() {
                return Err(input.error(format!("`run.stopper` best value is {best:?}")));
            }
            done - epoch
        }
        other => {
            return Err(input.error(format!(
                "`run.stopper` has-a-best flag is {other:?}, not 0 or 1"
            )));
        }
    };
    let stale = run_state::f64_count(input, "`run.stopper` stale epochs", *stale)?;
    if stale > since {
        return Err(input.error(format!(
            "`run.stopper` counts {stale} stale epochs, only {since} were run since its best"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::config::{EarlyStopping, Interval, Metric, Sampling, SaveConfig};
    use crate::error::Error;
    use crate::fit::fit;
    use crate::run_state::testing::patched;
    use crate::test_model::{Scripted, ScriptedHyper, scripted_splits, temp_path};

    use super::*;

    /// Two epochs of 3 steps with early stopping on the training loss; with `save`.
    fn config(save: SaveConfig) -> RunConfig {
        RunConfig {
            epochs: 2,
            sampling: Sampling::Shuffle,
            seed: 11,
            early_stopping: Some(EarlyStopping {
                patience: 5,
                monitor: Metric::TrainLoss,
                min_delta: 0.0,
                restore_best: true,
            }),
            save,
            ..RunConfig::default()
        }
    }

    fn model() -> Scripted {
        Scripted::new(
            ScriptedHyper {
                train_losses: vec![1.0, 0.5],
                val_losses: vec![1.0],
            },
            3,
        )
    }

    /// The state after step 4 of 6: epoch 2 under way at batch 1, epoch 1 done (and best).
    fn mid_epoch_state(name: &str) -> PathBuf {
        let path = temp_path(name);
        let save = SaveConfig {
            state_path: Some(path.clone()),
            every: Some(Interval::Steps(4)),
            resume: None,
        };
        fit(&mut model(), &config(save), &scripted_splits(6)).unwrap();
        path
    }

    fn resume(path: PathBuf) -> Result<crate::report::Report, Error> {
        let save = SaveConfig {
            resume: Some(path),
            ..SaveConfig::default()
        };
        fit(&mut model(), &config(save), &scripted_splits(6))
    }

    /// Resuming `state` with value `index` of `tensor` replaced must be refused, saying `says`.
    fn refused(state: &Path, tensor: &str, index: usize, value: &[u8], says: &str) {
        // One file per source state: the tests patching run in parallel.
        let name = format!("patched-{}", state.file_name().unwrap().to_string_lossy());
        let path = patched(state, &name, tensor, index, value);
        match resume(path) {
            Err(Error::Checkpoint { message, .. }) => {
                assert!(message.contains(says), "{tensor}[{index}]: {message}")
            }
            other => panic!("{tensor}[{index}] = {value:?}: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_unchanged_state_resumes() {
        let state = mid_epoch_state("resumes.state");
        let report = resume(state).unwrap();
        assert_eq!(report.epochs.len(), 2);
        assert_eq!(report.steps, 6);
    }

    /// Fuzzing (`state`): counters at u64::MAX overflowed the model's step count and the
    /// epoch's sums on the next step.
    #[test]
    fn counters_past_any_run_are_refused() {
        let state = mid_epoch_state("counters.state");
        let max = u64::MAX.to_le_bytes();
        refused(
            &state,
            "run.counters",
            0,
            &max,
            "`run.counters` steps is 18446744073709551615",
        );
        refused(&state, "run.counters", 1, &max, "`run.counters` epochs");
        refused(&state, "run.position", 3, &max, "`run.position` steps run");
        let huge = 1e300f64.to_le_bytes();
        refused(
            &state,
            "run.epoch",
            3,
            &huge,
            "`run.epoch` correct is 1e300",
        );
        refused(&state, "run.epoch", 8, &huge, "`run.epoch` ‖g‖ count");
        let half = 0.5f64.to_le_bytes();
        refused(
            &state,
            "run.epoch",
            4,
            &half,
            "`run.epoch` steps is 0.5, not a count",
        );
    }

    /// Fuzzing (`state`): epoch 0 underflowed `epoch - 1`; positions past the run's epochs,
    /// the order or the training set were taken as they were.
    #[test]
    fn positions_outside_the_run_are_refused() {
        let state = mid_epoch_state("position.state");
        let word = |v: u64| v.to_le_bytes();
        refused(
            &state,
            "run.position",
            0,
            &word(0),
            "next epoch is 0, outside this run's epochs 1..=2",
        );
        refused(&state, "run.position", 0, &word(3), "next epoch is 3");
        refused(
            &state,
            "run.position",
            1,
            &word(7),
            "epoch in progress is 7",
        );
        refused(
            &state,
            "run.position",
            2,
            &word(4),
            "next batch is 4, the epoch has 3 batches",
        );
        refused(&state, "run.position", 4, &word(2), "stopped after epoch 2");
        refused(
            &state,
            "run.epoch",
            9,
            &1.0f64.to_le_bytes(),
            "`run.epoch` is of epoch 1",
        );
        refused(
            &state,
            "run.order",
            5,
            &word(6),
            "names a sample past the training set",
        );
        refused(
            &state,
            "run.history",
            0,
            &2.0f64.to_le_bytes(),
            "row 0 epoch is 2",
        );
    }

    /// Fuzzing (`state`): early stopping's best epoch could be one the run had not reached,
    /// its stale count more than the epochs since.
    #[test]
    fn early_stopping_of_unfinished_epochs_is_refused() {
        let state = mid_epoch_state("stopper.state");
        let f = |v: f64| v.to_le_bytes();
        refused(
            &state,
            "run.stopper",
            1,
            &f(2.0),
            "best epoch is 2, the run has done epochs 1..=1",
        );
        refused(&state, "run.stopper", 1, &f(0.0), "best epoch is 0");
        refused(&state, "run.stopper", 0, &f(0.5), "has-a-best flag is 0.5");
        refused(&state, "run.stopper", 2, &f(f64::NAN), "best value is NaN");
        refused(
            &state,
            "run.stopper",
            3,
            &f(1.0),
            "1 stale epochs, only 0 were run since its best",
        );
        refused(&state, "run.stopper", 3, &f(1e300), "stale epochs is 1e300");
    }
}
