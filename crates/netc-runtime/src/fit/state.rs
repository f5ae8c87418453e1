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
    splits: &Splits,
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
    splits: &Splits,
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
    let stopper: [f64; 4] = stopper
        .try_into()
        .map_err(|_| input.error("tensor `run.stopper` must hold 4 values"))?;
    let epochs_done = history::read(&input, "run", TrainMetric::of::<M>())?;
    if in_progress != 0 && order.iter().any(|&i| i >= splits.train.len() as u64) {
        return Err(input.error("tensor `run.order` names a sample past the training set"));
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
            epoch: sums[9] as usize,
            next_batch: next_batch as usize,
            learning_rate: sums[0] as f32,
            totals: EpochTotals {
                loss_sum: sums[1],
                reg_loss_sum: sums[2],
                correct: sums[3] as u64,
                steps: sums[4] as u64,
                seconds: sums[5],
                grad_norm: GradNormSum::from_parts([sums[6], sums[7], sums[8]]),
                curvature: epoch_curvature,
            },
        }
    });
    if let Some(stopper_state) = &mut run.stopper {
        stopper_state.restore_parts(stopper);
    }
    run.epochs = epochs_done;
    run.next_epoch = next_epoch as usize;
    run.stopped_after = (stopped_after != 0).then_some(stopped_after as usize);
    Ok(())
}
