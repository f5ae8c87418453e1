//! The training driver: epochs of batched steps, validation, divergence handling, metrics and
//! the final checkpoint. Generic over [`Network`]; nothing here knows a spec.

use std::time::Instant;

mod data_parallel;
mod state;

use crate::augment::Augmenter;
use crate::checkpoint::{load_checkpoint, save_checkpoint};
use crate::config::{Interval, RunConfig};
use crate::curvature::CurvatureProbe;
use crate::data::{Batcher, FeatureView, Splits};
use crate::early_stopping::{EarlyStopper, Verdict};
use crate::error::Error;
use crate::evaluate::{check_dataset, evaluate, row_major, targets_of};
use crate::monitor::{CurvatureCheck, CurvatureWatch, GradNormSum};
use crate::network::{BatchInput, BatchTargets, Network, Targets};
use crate::report::{EarlyStop, EpochReport, Report, TrainMetric};
use crate::rng::{Rng, streams};
use crate::run_output::{MetricsFile, interrupted, test_and_save};
use crate::scalar::Scalar;

/// Trains `model` on `splits.train` for `cfg.epochs` epochs (or until `cfg.max_steps`).
///
/// Each epoch orders the training samples by `cfg.sampling`, copies each batch into one
/// preallocated buffer and calls `train_step`; the last `len % BATCH` samples of an epoch's
/// order are dropped. After each epoch: `end_epoch`, validation, a printed line (if
/// `cfg.verbose`) and a JSON line in `cfg.metrics_path` (the file is created fresh). At the end:
/// test evaluation and the checkpoint at `cfg.checkpoint_path`.
///
/// A non-finite step loss stops training with [`Error::Diverged`] (its `step` counts the
/// optimizer steps of this call, from 1); the tensors are reset to those at the end of the
/// last complete epoch (or the start) and, if a checkpoint path is set, saved there. Optimizer
/// state that is not among `tensors()` (momentum buffers) is not rolled back. A non-finite
/// value in a tensor or an optimizer slot is divergence too, found where the run looks at its
/// state (before every run-state save and at every epoch's end, not after every step): no
/// saved state, last good copy, best epoch or checkpoint ever holds one.
///
/// Early stopping (`cfg.early_stopping`, see [`EarlyStopper::observe`] for the rule): after
/// each epoch the monitored metric is compared with the best so far; after `patience` epochs
/// without improvement training stops. With `restore_best`, the tensors (parameters and
/// persistent state, all of `tensors()`) of the best epoch are put back before the test
/// evaluation and the checkpoint, whether or not training stopped early (Keras restores only
/// on a stop); step counters, schedules and optimizer state outside `tensors()` are not.
/// A validation metric without a validation split is an error before any step.
///
/// Monitoring (`cfg.monitor`): with `grad_norm`, each epoch reports the mean and last
/// ‖g‖ = √`StepStats::grad_sq`; curvature checks run every `curvature_every` steps of this
/// call (`Interval::Epochs(n)` = n × steps per epoch = n × ⌊training samples / BATCH⌋).
///
/// Same model seed and `cfg.seed` → bit-identical losses and weights: only the reported
/// throughput depends on the clock.
pub fn fit<M: Network>(
    model: &mut M,
    cfg: &RunConfig,
    splits: &Splits<M::Float>,
) -> Result<Report, Error> {
    // Input statistics from the training split only; a checkpoint loaded below overrides them.
    if let Some(kind) = cfg.preprocess {
        crate::preprocess::fit_input_stage(model, kind, splits.train.x.view())?;
    }
    if let Some(solver) = cfg.full_batch {
        return crate::full_batch::fit_full_batch(model, cfg, splits, solver);
    }
    check_splits::<M>(splits)?;
    let stopper = cfg
        .early_stopping
        .map(|early| EarlyStopper::new(early, splits.validation.is_some()))
        .transpose()?;
    if let Some(path) = &cfg.init_weights {
        load_checkpoint(model, path)?;
    }
    let values = row_major(&splits.train.targets);
    let steps_per_epoch = (splits.train.len() / M::BATCH) as u64;
    let mut epoch_loop = EpochLoop {
        x: splits.train.x.view(),
        y: targets_of(&splits.train, &values),
        samples: splits.train.len(),
        batcher: Batcher::new(M::BATCH, M::INPUT),
        sampling_rng: Rng::new(cfg.seed, streams::SAMPLING),
        last_good: Snapshot::take(model),
        steps_run: 0,
        step_budget: cfg.max_steps.unwrap_or(u64::MAX),
        curvature_every: cfg
            .monitor
            .curvature_every
            .map(|every| every.in_steps(steps_per_epoch)),
        curvature_watch: CurvatureWatch::new(),
        curvature_probe: cfg
            .monitor
            .curvature_every
            .map(|_| CurvatureProbe::new(M::PARAMS)),
        augmenter: cfg.augment.map(|augment| Augmenter::new(augment, cfg.seed)),
        current: None,
        save_every_steps: match cfg.save.every {
            Some(Interval::Steps(n)) => Some(n),
            _ => None,
        },
        data_fingerprint: std::cell::OnceCell::new(),
        shared: (cfg.data_parallel && crate::cluster::size() > 1)
            .then(data_parallel::SharedStep::new::<M>)
            .transpose()?,
    };
    let mut run = RunProgress {
        // The tensors of the best epoch so far, kept only when they will be put back.
        best: stopper
            .as_ref()
            .filter(|s| s.config().restore_best)
            .map(|_| Snapshot::take(model)),
        stopper,
        epochs: Vec::new(),
        stopped_after: None,
        next_epoch: 1,
    };
    if let Some(path) = &cfg.save.resume {
        state::restore(path, model, cfg, splits, &mut epoch_loop, &mut run)?;
        if cfg.verbose {
            say!(
                "resumed {} at epoch {}, step {} (saved state {})",
                M::META.name,
                epoch_loop
                    .current
                    .as_ref()
                    .map_or(run.next_epoch, |c| c.epoch),
                epoch_loop.steps_run,
                path.display()
            );
        }
    }
    let mut metrics = MetricsFile::open(cfg.metrics_path.as_deref(), &run.epochs)?;
    let save = |model: &M, epoch_loop: &EpochLoop<'_, M>, run: &RunProgress<M::Float>| match &cfg
        .save
        .state_path
    {
        Some(path) => state::save(path, model, cfg, splits, epoch_loop, run),
        None => Ok(()),
    };
    loop {
        if epoch_loop.current.is_none() {
            if run.stopped_after.is_some()
                || run.next_epoch > cfg.epochs
                || epoch_loop.steps_run >= epoch_loop.step_budget
            {
                break;
            }
            epoch_loop.begin_epoch(model, cfg, run.next_epoch);
        }
        let pause = epoch_loop.advance(model, cfg)?;
        // Where the run looks at its state (a save, the end of an epoch), a weight or an
        // optimizer slot that overflowed counts as divergence: the loss may still be finite
        // (Adam's second moment overflows before the weights do), but such a state must never
        // be saved or become the last good one.
        let epoch_now = match &pause {
            Pause::EpochDone { epoch, .. } => *epoch,
            _ => epoch_loop
                .current
                .as_ref()
                .map_or(run.next_epoch, |c| c.epoch),
        };
        if let Some(bad) = non_finite_state(model) {
            let step = epoch_loop.steps_run;
            return Err(diverged(
                model,
                cfg,
                &epoch_loop.last_good,
                epoch_now,
                step,
                &bad,
            ));
        }
        let (epoch, learning_rate, totals) = match pause {
            Pause::SaveDue => {
                save(model, &epoch_loop, &run)?;
                continue;
            }
            Pause::Interrupted(signal) => {
                return Err(interrupted(signal, cfg, save(model, &epoch_loop, &run)));
            }
            Pause::EpochDone {
                epoch,
                learning_rate,
                totals,
            } => (epoch, learning_rate, totals),
        };
        model.end_epoch(epoch);
        if epoch_loop.shared.is_some() && !data_parallel::ranks_agree(model) {
            return Err(Error::Usage(format!(
                "data-parallel training: the MPI ranks' weights differ after epoch {epoch} (a \
                 rank computed something the others did not); the run is stopped, nothing of \
                 this epoch was saved"
            )));
        }
        let validation = splits
            .validation
            .as_ref()
            .map(|v| evaluate(model, v))
            .transpose()?;
        let samples = (totals.steps as usize * M::BATCH) as f64;
        let mut report = EpochReport {
            epoch,
            loss: (totals.loss_sum / totals.steps.max(1) as f64) as f32,
            reg_loss: (totals.reg_loss_sum != 0.0)
                .then(|| (totals.reg_loss_sum / totals.steps.max(1) as f64) as f32),
            train_accuracy: (totals.correct as f64 / samples.max(1.0)) as f32,
            val_loss: validation.map(|v| v.loss),
            val_accuracy: validation.map(|v| v.accuracy),
            learning_rate,
            samples_per_sec: if totals.seconds > 0.0 {
                samples / totals.seconds
            } else {
                0.0
            },
            steps: model.steps(),
            grad_norm: if cfg.monitor.grad_norm {
                totals.grad_norm.finish()
            } else {
                None
            },
            curvature: totals.curvature,
            early_stopping: None,
            metric: TrainMetric::of::<M>(),
        };
        if let Some(stopper) = &mut run.stopper {
            let verdict = stopper.observe(epoch, stopper.value_of(&report));
            if let (Verdict::Improved, Some(best)) = (verdict, &mut run.best) {
                best.retake(model);
            }
            if verdict == Verdict::Stop {
                run.stopped_after = Some(epoch);
            }
            report.early_stopping = Some(stopper.status(verdict == Verdict::Stop));
        }
        if cfg.verbose {
            say!("{}", report.to_line(cfg.epochs));
        }
        if let Some(metrics) = &mut metrics {
            metrics.append(&report)?;
        }
        run.epochs.push(report);
        epoch_loop.last_good.retake(model);
        run.next_epoch = epoch + 1;
        if let Some(signal) = stop_requested(epoch_loop.shared.is_some()) {
            return Err(interrupted(signal, cfg, save(model, &epoch_loop, &run)));
        }
        let save_due = match cfg.save.every {
            Some(Interval::Epochs(n)) => (epoch as u64).is_multiple_of(n.max(1)),
            // A step count that fell on the epoch's last step saves after the epoch's report.
            Some(Interval::Steps(n)) => epoch_loop.steps_run.is_multiple_of(n.max(1)),
            None => false,
        };
        if save_due {
            save(model, &epoch_loop, &run)?;
        }
    }
    let RunProgress {
        stopper,
        best,
        epochs,
        stopped_after,
        ..
    } = run;
    if cfg.verbose {
        crate::curve::summary(&epochs)
            .iter()
            .for_each(|line| say!("{line}"));
    }
    let last_epoch = epochs.last().map(|e: &EpochReport| e.epoch);
    let early_stop = stopper
        .map(|stopper| conclude_early_stopping(model, &stopper, best, stopped_after, last_epoch));
    if let Some(early_stop) = &early_stop {
        if let (true, Some(line)) = (cfg.verbose, early_stop.to_line()) {
            say!("{line}");
        }
        if let Some(metrics) = &mut metrics {
            metrics.append_line(&early_stop.to_json())?;
        }
    }

    let test = test_and_save(model, cfg, splits)?;
    Ok(Report {
        epochs,
        test_loss: test.map(|t| t.loss),
        test_accuracy: test.map(|t| t.accuracy),
        steps: model.steps(),
        early_stop,
    })
}

/// Puts the best epoch's tensors back (if kept and not already the model's) and sums up.
fn conclude_early_stopping<M: Network>(
    model: &mut M,
    stopper: &EarlyStopper,
    best: Option<Snapshot<M::Float>>,
    stopped_after: Option<usize>,
    last_epoch: Option<usize>,
) -> EarlyStop {
    let best_epoch = stopper.best().map(|(epoch, _)| epoch);
    let restored_epoch = match (best, best_epoch) {
        (Some(snapshot), Some(epoch)) if Some(epoch) != last_epoch => {
            snapshot.restore(model);
            Some(epoch)
        }
        _ => None,
    };
    let cfg = stopper.config();
    EarlyStop {
        monitor: cfg.monitor,
        patience: cfg.patience,
        min_delta: cfg.min_delta,
        stopped_after,
        best_epoch,
        best: stopper.best().map(|(_, value)| value),
        restored_epoch,
    }
}

/// What the run has done at the epoch level: early stopping, the best tensors, the reports.
pub(crate) struct RunProgress<T> {
    pub stopper: Option<EarlyStopper>,
    pub best: Option<Snapshot<T>>,
    pub epochs: Vec<EpochReport>,
    pub stopped_after: Option<usize>,
    /// The epoch to begin when none is in progress (1-based).
    pub next_epoch: usize,
}

/// Why [`EpochLoop::advance`] returned.
enum Pause {
    /// `save_every` steps are done: save, then advance again.
    SaveDue,
    /// A SIGINT/SIGTERM arrived (its number): save and stop.
    Interrupted(i32),
    EpochDone {
        epoch: usize,
        learning_rate: f32,
        totals: EpochTotals,
    },
}

/// An epoch between its first and last step: where it is and what it has summed.
pub(crate) struct EpochInProgress {
    pub epoch: usize,
    /// The batch of the epoch's order the next step takes.
    pub next_batch: usize,
    /// The rate at the epoch's start (what its report shows).
    pub learning_rate: f32,
    pub totals: EpochTotals,
}

/// The signal that asks the run to stop; in data-parallel training (`shared`), any rank's.
fn stop_requested(shared: bool) -> Option<i32> {
    if shared {
        crate::cluster::stop_requested_on_any_rank()
    } else {
        crate::interrupt::requested()
    }
}

/// State carried across epochs: the batch buffers, the sampling stream, the rollback copy.
pub(crate) struct EpochLoop<'a, M: Network> {
    /// The training samples, read as batches are gathered (bytes become values there).
    pub(crate) x: FeatureView<'a, M::Float>,
    /// The training targets (class labels or value rows) and how many samples there are.
    pub(crate) y: Targets<'a, M::Float>,
    pub(crate) samples: usize,
    pub(crate) batcher: Batcher<M::BatchInput, M::BatchTargets>,
    pub(crate) sampling_rng: Rng,
    pub(crate) last_good: Snapshot<M::Float>,
    pub(crate) steps_run: u64,
    pub(crate) step_budget: u64,
    /// Steps between curvature checks (`monitor curvature`), converted from the spec's period.
    pub(crate) curvature_every: Option<u64>,
    pub(crate) curvature_watch: CurvatureWatch,
    /// Buffers of the curvature checks; `None` unless `monitor curvature`.
    pub(crate) curvature_probe: Option<CurvatureProbe>,
    /// `augment`: random image transforms of each training batch.
    pub(crate) augmenter: Option<Augmenter<M::Float>>,
    /// The epoch under way, `None` between epochs.
    pub(crate) current: Option<EpochInProgress>,
    /// `save_every N steps`: pause for a save after every N-th step of the run.
    pub(crate) save_every_steps: Option<u64>,
    /// A hash of the training samples, computed at the first save or resume.
    pub(crate) data_fingerprint: std::cell::OnceCell<u64>,
    /// Data-parallel training (`cfg.data_parallel` under N > 1 MPI ranks): this rank's share
    /// of every batch and the buffers of the sum.
    pub(crate) shared: Option<data_parallel::SharedStep>,
}

/// Sums over one epoch's steps.
pub(crate) struct EpochTotals {
    pub(crate) loss_sum: f64,
    /// Sum of `StepStats::reg_loss` (0 for a model without regularization).
    pub(crate) reg_loss_sum: f64,
    pub(crate) correct: u64,
    pub(crate) steps: u64,
    pub(crate) seconds: f64,
    /// ‖g‖ sums (filled only with `monitor grad_norm`).
    pub(crate) grad_norm: GradNormSum,
    /// Capacity reserved at the start of the epoch, so recording never allocates mid-epoch.
    pub(crate) curvature: Vec<CurvatureCheck>,
}

impl EpochTotals {
    /// Zero sums; room for `curvature_checks` so recording never allocates mid-epoch.
    fn new(curvature_checks: usize) -> EpochTotals {
        EpochTotals {
            loss_sum: 0.0,
            reg_loss_sum: 0.0,
            correct: 0,
            steps: 0,
            seconds: 0.0,
            grad_norm: GradNormSum::default(),
            curvature: Vec::with_capacity(curvature_checks),
        }
    }
}

impl<M: Network> EpochLoop<'_, M> {
    /// Plans epoch `epoch`'s sample order and starts its sums.
    fn begin_epoch(&mut self, model: &M, cfg: &RunConfig, epoch: usize) {
        self.batcher
            .plan_epoch(cfg.sampling, self.samples, &mut self.sampling_rng);
        self.current = Some(EpochInProgress {
            epoch,
            next_batch: 0,
            learning_rate: model.learning_rate(),
            totals: EpochTotals::new(
                self.curvature_every
                    .map_or(0, |every| self.batcher.batches() / every as usize + 1),
            ),
        });
    }

    /// The step loop of the epoch under way: gather, step, check the loss, until the epoch
    /// ends, a save is due or a signal asks to stop. Nothing in it allocates.
    fn advance(&mut self, model: &mut M, cfg: &RunConfig) -> Result<Pause, Error> {
        let Some(mut current) = self.current.take() else {
            unreachable!("advance is called after begin_epoch");
        };
        let started = Instant::now();
        let pause = self.steps(model, cfg, &mut current);
        current.totals.seconds += started.elapsed().as_secs_f64();
        match pause {
            Ok(None) => Ok(Pause::EpochDone {
                epoch: current.epoch,
                learning_rate: current.learning_rate,
                totals: current.totals,
            }),
            Ok(Some(pause)) => {
                self.current = Some(current);
                Ok(pause)
            }
            Err(error) => Err(error),
        }
    }

    /// Steps from `current.next_batch`; `Some` when it stopped before the epoch's end.
    fn steps(
        &mut self,
        model: &mut M,
        cfg: &RunConfig,
        current: &mut EpochInProgress,
    ) -> Result<Option<Pause>, Error> {
        let epoch = current.epoch;
        let totals = &mut current.totals;
        while current.next_batch < self.batcher.batches() {
            if self.steps_run >= self.step_budget {
                break;
            }
            let batch = current.next_batch;
            let (batch_x, batch_y) = self.batcher.gather(self.x, self.y, batch);
            // Augmentation transforms this batch's copy only; the dataset stays as loaded.
            if let Some(augmenter) = &mut self.augmenter {
                augmenter.transform_in_place(batch_x.flat_mut());
            }
            let batch_x = &*batch_x;
            // Curvature checks are due at steps `every`, 2·`every`, … of this call, measured at
            // the parameters the step starts from, on the step's batch.
            let due = self
                .curvature_every
                .is_some_and(|every| (self.steps_run + 1).is_multiple_of(every));
            let curvature = match (&mut self.curvature_probe, due) {
                (Some(probe), true) => {
                    Some(probe.measure(model, batch_x.flat(), batch_y.as_targets())?)
                }
                _ => None,
            };
            let learning_rate = model.learning_rate();
            let (stats, stop) = match &mut self.shared {
                None => (model.train_step(batch_x, batch_y), None),
                // Every rank stops after the same step: the one any rank's signal preceded.
                Some(shared) => {
                    let asked = crate::interrupt::requested();
                    let (stats, any) = shared.step(model, batch_x, batch_y, asked.is_some());
                    (stats, any.then(|| asked.unwrap_or(crate::cluster::SIGTERM)))
                }
            };
            if let Some((g_g, g_h_g)) = curvature {
                self.record_curvature(cfg, epoch, learning_rate, g_g, g_h_g, totals);
            }
            self.steps_run += 1;
            current.next_batch += 1;
            if !stats.loss.is_finite() {
                let steps_run = self.steps_run;
                let cause = format!("the loss became {}", stats.loss);
                return Err(diverged(
                    model,
                    cfg,
                    &self.last_good,
                    epoch,
                    steps_run,
                    &cause,
                ));
            }
            totals.loss_sum += f64::from(stats.loss);
            totals.reg_loss_sum += f64::from(stats.reg_loss);
            totals.correct += u64::from(stats.correct);
            totals.steps += 1;
            if cfg.monitor.grad_norm {
                totals.grad_norm.add(stats.grad_sq);
            }
            let stop = match &self.shared {
                None => crate::interrupt::requested(),
                Some(_) => stop,
            };
            if let Some(signal) = stop {
                return Ok(Some(Pause::Interrupted(signal)));
            }
            let more_in_epoch = current.next_batch < self.batcher.batches();
            if more_in_epoch
                && self
                    .save_every_steps
                    .is_some_and(|every| self.steps_run.is_multiple_of(every.max(1)))
            {
                return Ok(Some(Pause::SaveDue));
            }
        }
        Ok(None)
    }

    /// Logs one curvature check of `monitor curvature` for the step about to be taken (step
    /// `self.steps_run + 1` of this call, at rate `learning_rate`): kept for the epoch's JSON
    /// line, and a warning printed (if `cfg.verbose`) when [`CurvatureWatch`] says one is due.
    /// Returns whether it warned.
    fn record_curvature(
        &mut self,
        cfg: &RunConfig,
        epoch: usize,
        learning_rate: f32,
        g_g: f64,
        g_h_g: f64,
        totals: &mut EpochTotals,
    ) -> bool {
        let check = CurvatureCheck {
            step: self.steps_run + 1,
            learning_rate: f64::from(learning_rate),
            g_g,
            g_h_g,
        };
        totals.curvature.push(check);
        let warning = self.curvature_watch.check(epoch, &check);
        if let (true, Some(warning)) = (cfg.verbose, &warning) {
            say!("{warning}");
        }
        warning.is_some()
    }
}

fn check_splits<M: Network>(splits: &Splits<M::Float>) -> Result<(), Error> {
    check_dataset::<M>(&splits.train, "training")?;
    if let Some(validation) = &splits.validation {
        check_dataset::<M>(validation, "validation")?;
    }
    if let Some(test) = &splits.test {
        check_dataset::<M>(test, "test")?;
    }
    if splits.train.len() < M::BATCH {
        return Err(Error::Data {
            path: splits.train.origin().map_or("<training data>".into(), |o| {
                o.features_file().to_path_buf()
            }),
            message: format!(
                "{} samples is less than one batch: the model `{}` trains on batches of {}",
                splits.train.len(),
                M::META.name,
                M::BATCH
            ),
        });
    }
    Ok(())
}

/// The first tensor of the model, then of its optimizer state, that holds a non-finite value,
/// said as "tensor `…` became …" (names as in a run-state file: `optimizer.<tensor>.<slot>`).
fn non_finite_state<M: Network>(model: &M) -> Option<String> {
    let first = |prefix: &str, tensors: Vec<crate::network::TensorRef<'_, M::Float>>| {
        tensors.iter().find_map(|t| {
            let i = t.data.iter().position(|v| !v.to_f64().is_finite())?;
            Some(format!(
                "tensor `{prefix}{}` became {} (at index {i})",
                t.name,
                t.data[i].to_f64()
            ))
        })
    };
    first("", model.tensors()).or_else(|| first("optimizer.", model.optimizer_state()))
}

/// Restores the last good parameters, saves them if a checkpoint path is set, and says so.
/// `cause` says what diverged ("the loss became NaN").
fn diverged<M: Network>(
    model: &mut M,
    cfg: &RunConfig,
    last_good: &Snapshot<M::Float>,
    epoch: usize,
    step: u64,
    cause: &str,
) -> Error {
    last_good.restore(model);
    let from = match epoch {
        1 => "the initial weights".to_string(),
        e => format!("the weights from the end of epoch {}", e - 1),
    };
    // Never over the checkpoint: it may hold an earlier run's good result.
    let saved = match cfg
        .checkpoint_path
        .as_deref()
        .map(crate::checkpoint::last_good_path)
    {
        Some(path) => match save_checkpoint(model, &path) {
            Ok(()) => format!(
                "; {from} were saved to {} (the checkpoint was left as it was)",
                path.display()
            ),
            Err(e) => format!("; saving {from} failed too: {e}"),
        },
        None => String::new(),
    };
    Error::Diverged {
        epoch,
        step,
        message: format!(
            "{cause}; try a lower learning rate (it was {:.2e}){saved}",
            model.learning_rate()
        ),
    }
}

/// A copy of every tensor of a model, to roll back to after divergence.
pub(crate) struct Snapshot<T> {
    pub(crate) tensors: Vec<Vec<T>>,
}

impl<T: crate::Scalar> Snapshot<T> {
    fn take<M: Network<Float = T>>(model: &M) -> Snapshot<T> {
        Snapshot {
            tensors: model.tensors().iter().map(|t| t.data.to_vec()).collect(),
        }
    }

    /// Overwrites the snapshot in place (no allocation after the first).
    fn retake<M: Network<Float = T>>(&mut self, model: &M) {
        for (saved, tensor) in self.tensors.iter_mut().zip(model.tensors()) {
            saved.copy_from_slice(tensor.data);
        }
    }

    fn restore<M: Network<Float = T>>(&self, model: &mut M) {
        for (saved, tensor) in self.tensors.iter().zip(model.tensors_mut()) {
            tensor.data.copy_from_slice(saved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EarlyStopping, Interval, Metric, Sampling, SaveConfig};
    use crate::data::Dataset;
    use crate::test_model::{
        LogReg, LogRegHyper, Scripted, ScriptedHyper, scripted_splits, separable_dataset, temp_path,
    };

    fn run_config(epochs: usize, sampling: Sampling) -> RunConfig {
        RunConfig {
            epochs,
            sampling,
            seed: 11,
            ..RunConfig::default()
        }
    }

    fn splits() -> Splits {
        Splits {
            train: separable_dataset(203, 1),
            validation: Some(separable_dataset(60, 2)),
            test: Some(separable_dataset(90, 3)),
        }
    }

    fn weights(model: &LogReg) -> Vec<Vec<f32>> {
        model.tensors().iter().map(|t| t.data.to_vec()).collect()
    }

    #[test]
    fn learns_a_separable_problem_in_every_sampling_mode() {
        for sampling in [
            Sampling::Shuffle,
            Sampling::WithReplacement,
            Sampling::Sequential,
        ] {
            let mut model = LogReg::new(LogRegHyper::default(), 5);
            let report = fit(&mut model, &run_config(5, sampling), &splits()).unwrap();
            assert_eq!(report.epochs.len(), 5);
            let (first, last) = (&report.epochs[0], &report.epochs[4]);
            assert!(
                last.loss < first.loss / 2.0,
                "{sampling:?}: {} → {}",
                first.loss,
                last.loss
            );
            assert!(last.val_accuracy.unwrap() > 0.95, "{sampling:?}: {last:?}");
            assert!(
                report.test_accuracy.unwrap() > 0.95,
                "{sampling:?}: {report:?}"
            );
            // 203 samples in batches of 8: 25 steps per epoch, the last 3 samples dropped.
            assert_eq!(report.steps, 125);
            assert_eq!(last.steps, 125);
        }
    }

    #[test]
    fn same_seed_gives_identical_reports_and_weights() {
        let train = |seed| {
            let mut model = LogReg::new(LogRegHyper::default(), 5);
            let mut cfg = run_config(3, Sampling::Shuffle);
            cfg.seed = seed;
            let mut report = fit(&mut model, &cfg, &splits()).unwrap();
            // Throughput is the one measured, not computed, number.
            report
                .epochs
                .iter_mut()
                .for_each(|e| e.samples_per_sec = 0.0);
            (report, weights(&model))
        };
        let (report_a, weights_a) = train(11);
        let (report_b, weights_b) = train(11);
        assert_eq!(report_a, report_b);
        assert_eq!(weights_a, weights_b);
        let (report_c, _) = train(12);
        assert_ne!(
            report_a.epochs[0].loss, report_c.epochs[0].loss,
            "the seed orders the samples"
        );
    }

    #[test]
    fn divergence_stops_and_saves_the_last_good_weights() {
        let checkpoint = temp_path("diverged.safetensors");
        let _ = std::fs::remove_file(&checkpoint);
        let hyper = LogRegHyper {
            learning_rate: f64::INFINITY,
            ..LogRegHyper::default()
        };
        let mut model = LogReg::new(hyper.clone(), 5);
        let initial = weights(&model);
        let mut cfg = run_config(3, Sampling::Sequential);
        cfg.checkpoint_path = Some(checkpoint.clone());
        let error = fit(&mut model, &cfg, &splits()).unwrap_err();
        let Error::Diverged {
            epoch,
            step,
            message,
        } = &error
        else {
            panic!("expected divergence, got {error:?}");
        };
        assert_eq!(*epoch, 1);
        assert!(
            *step >= 2,
            "the first step's loss is computed before any update"
        );
        assert!(
            message.contains("try a lower learning rate (it was inf)"),
            "{message}"
        );
        assert!(
            message.contains("the initial weights were saved to"),
            "{message}"
        );
        // The model is rolled back, and the file beside the checkpoint holds the same
        // weights; the checkpoint itself (an earlier run's result) is not touched.
        assert_eq!(weights(&model), initial);
        assert!(!checkpoint.exists(), "the checkpoint path is never written");
        let mut reloaded = LogReg::new(hyper, 99);
        load_checkpoint(
            &mut reloaded,
            &crate::checkpoint::last_good_path(&checkpoint),
        )
        .unwrap();
        assert_eq!(weights(&reloaded), initial);
    }

    #[test]
    fn divergence_after_a_good_epoch_keeps_that_epoch() {
        // Train one clean epoch and save it, then continue from that checkpoint on data with a
        // poisoned sample in the second batch: the rescue file must hold the clean weights.
        let clean = temp_path("clean-epoch.safetensors");
        let mut model = LogReg::new(LogRegHyper::default(), 5);
        let mut cfg = run_config(1, Sampling::Sequential);
        cfg.checkpoint_path = Some(clean.clone());
        fit(&mut model, &cfg, &splits()).unwrap();
        let after_clean_epoch = weights(&model);

        let mut poisoned = splits();
        // Finite (non-finite data is refused up front), but it overflows the forward pass.
        poisoned.train.x.floats_mut().unwrap()[[8, 0]] = f32::MAX;
        let rescue = temp_path("rescue.safetensors");
        std::fs::write(&rescue, b"an earlier run's result").unwrap();
        let mut cfg = run_config(2, Sampling::Sequential);
        cfg.init_weights = Some(clean);
        cfg.checkpoint_path = Some(rescue.clone());
        let mut model = LogReg::new(LogRegHyper::default(), 6);
        let error = fit(&mut model, &cfg, &poisoned).unwrap_err();
        assert!(
            matches!(
                error,
                Error::Diverged {
                    epoch: 1,
                    step: 2,
                    ..
                }
            ),
            "{error:?}"
        );
        let mut reloaded = LogReg::new(LogRegHyper::default(), 7);
        load_checkpoint(&mut reloaded, &crate::checkpoint::last_good_path(&rescue)).unwrap();
        assert_eq!(
            weights(&reloaded),
            after_clean_epoch,
            "init weights are the last good ones"
        );
        assert_eq!(
            std::fs::read(&rescue).unwrap(),
            b"an earlier run's result",
            "a diverged run never overwrites the checkpoint"
        );
    }

    /// Fuzzing (`state`): a resumed run whose weights were finite but huge overflowed the
    /// optimizer's second moment while the loss stayed finite; `fit` returned `Ok`, and every
    /// state it saved from then on was refused on resume.
    #[test]
    fn a_non_finite_optimizer_slot_is_divergence() {
        let state_path = temp_path("overflowing.state");
        let _ = std::fs::remove_file(&state_path);
        let overflowing = || {
            let mut model = scripted(&[1.0]);
            // Finite, and stays finite; its square (the slot) is not, in f32.
            model.tensors_mut()[0].data[2] = 1e20;
            model
        };
        let mut model = overflowing();
        let initial = bits(&model);
        let mut cfg = run_config(2, Sampling::Sequential);
        cfg.save = SaveConfig {
            state_path: Some(state_path.clone()),
            every: Some(Interval::Steps(1)),
            resume: None,
        };
        let error = fit(&mut model, &cfg, &scripted_splits(6)).unwrap_err();
        let Error::Diverged {
            epoch: 1,
            step: 1,
            message,
        } = &error
        else {
            panic!("expected divergence at the first save, got {error:?}");
        };
        assert!(
            message.starts_with("tensor `optimizer.state.square_avg` became inf (at index 2)"),
            "{message}"
        );
        assert_eq!(
            bits(&model),
            initial,
            "rolled back to the last good tensors"
        );
        assert!(!state_path.exists(), "no state holding ∞ is ever saved");

        // Without saves, the end of the epoch finds it, before it becomes the last good copy.
        let mut model = overflowing();
        let cfg = run_config(2, Sampling::Sequential);
        let error = fit(&mut model, &cfg, &scripted_splits(6)).unwrap_err();
        assert!(
            matches!(
                error,
                Error::Diverged {
                    epoch: 1,
                    step: 3,
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(bits(&model), initial);
    }

    #[test]
    fn the_step_loop_never_allocates() {
        for sampling in [
            Sampling::Shuffle,
            Sampling::WithReplacement,
            Sampling::Sequential,
        ] {
            let mut model = LogReg::new(LogRegHyper::default(), 5);
            fit(&mut model, &run_config(3, sampling), &splits()).unwrap();
            assert_eq!(model.allocations_between_steps, 0, "{sampling:?}");
        }
        // The counter does see allocations: a step that allocates would be caught.
        let before = crate::test_model::allocation_count::on_this_thread();
        std::hint::black_box(vec![0u8; 16]);
        assert_eq!(
            crate::test_model::allocation_count::on_this_thread(),
            before + 1
        );
    }

    #[test]
    fn max_steps_stops_mid_epoch() {
        let mut model = LogReg::new(LogRegHyper::default(), 5);
        let mut cfg = run_config(10, Sampling::Shuffle);
        cfg.max_steps = Some(30);
        let report = fit(&mut model, &cfg, &splits()).unwrap();
        assert_eq!(report.steps, 30);
        assert_eq!(report.epochs.len(), 2, "25 steps, then 5 more");
        assert_eq!(report.epochs[1].steps, 30);
    }

    #[test]
    fn end_epoch_is_called_and_the_start_learning_rate_reported() {
        let mut model = LogReg::new(
            LogRegHyper {
                epoch_decay: 0.5,
                ..LogRegHyper::default()
            },
            5,
        );
        let report = fit(&mut model, &run_config(3, Sampling::Shuffle), &splits()).unwrap();
        let rates: Vec<f32> = report.epochs.iter().map(|e| e.learning_rate).collect();
        assert_eq!(rates, vec![0.5, 0.25, 0.125]);
        assert_eq!(model.learning_rate(), 0.0625);
        assert_eq!(model.last_end_epoch, Some(3), "1-based: epochs completed");
    }

    #[test]
    fn writes_metrics_lines_and_the_final_checkpoint() {
        let metrics = temp_path("metrics.jsonl");
        let checkpoint = temp_path("final.safetensors");
        let mut model = LogReg::new(LogRegHyper::default(), 5);
        let mut cfg = run_config(2, Sampling::Shuffle);
        cfg.metrics_path = Some(metrics.clone());
        cfg.checkpoint_path = Some(checkpoint.clone());
        let report = fit(&mut model, &cfg, &splits()).unwrap();
        let text = std::fs::read_to_string(&metrics).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[1].starts_with("{\"epoch\":2,\"loss\":"),
            "{}",
            lines[1]
        );
        assert!(lines[1].ends_with(",\"steps\":50}"), "{}", lines[1]);
        assert!(lines[1].contains(&format!(
            "\"val_accuracy\":{:?}",
            report.epochs[1].val_accuracy.unwrap()
        )));
        let mut reloaded = LogReg::new(LogRegHyper::default(), 0);
        load_checkpoint(&mut reloaded, &checkpoint).unwrap();
        assert_eq!(weights(&reloaded), weights(&model));
    }

    #[test]
    fn refuses_data_that_does_not_fit_the_model() {
        let mut model = LogReg::new(LogRegHyper::default(), 5);
        let cfg = run_config(1, Sampling::Shuffle);
        let mut bad_label = splits();
        bad_label.train.labels[7] = 3;
        let error = fit(&mut model, &cfg, &bad_label).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("label 3 out of range: the model has 3 outputs"),
            "{error}"
        );
        let tiny = Splits {
            train: separable_dataset(7, 1),
            validation: None,
            test: None,
        };
        let error = fit(&mut model, &cfg, &tiny).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("7 samples is less than one batch"),
            "{error}"
        );
        let wide = Splits {
            train: Dataset::new(ndarray::Array2::zeros((16, 5)), vec![0; 16]).unwrap(),
            validation: None,
            test: None,
        };
        let error = fit(&mut model, &cfg, &wide).unwrap_err();
        assert!(
            error.to_string().contains("samples have 5 features"),
            "{error}"
        );
    }

    fn early(monitor: Metric, patience: usize, min_delta: f64, restore_best: bool) -> RunConfig {
        RunConfig {
            early_stopping: Some(EarlyStopping {
                patience,
                monitor,
                min_delta,
                restore_best,
            }),
            ..run_config(20, Sampling::Sequential)
        }
    }

    fn scripted(val_losses: &[f32]) -> Scripted {
        Scripted::new(
            ScriptedHyper {
                train_losses: vec![1.0],
                val_losses: val_losses.to_vec(),
            },
            3,
        )
    }

    fn bits(model: &impl Network<Float = f32>) -> Vec<u32> {
        model
            .tensors()
            .iter()
            .flat_map(|t| t.data.iter().map(|v| v.to_bits()))
            .collect()
    }

    /// Best at epoch 2, then three epochs without improvement, then better again (too late).
    const VAL_LOSSES: [f32; 7] = [1.0, 0.5, 0.6, 0.55, 0.52, 0.9, 0.1];

    #[test]
    fn early_stopping_stops_after_patience_epochs_without_improvement() {
        let mut model = scripted(&VAL_LOSSES);
        let cfg = early(Metric::ValLoss, 3, 0.0, false);
        let report = fit(&mut model, &cfg, &scripted_splits(6)).unwrap();
        assert_eq!(report.epochs.len(), 5, "stops after epoch 5");
        assert_eq!(report.steps, 15);
        let early_stop = report.early_stop.unwrap();
        assert_eq!(early_stop.stopped_after, Some(5));
        assert_eq!(early_stop.best_epoch, Some(2));
        assert_eq!(early_stop.restored_epoch, None, "not asked to restore");
        let status: Vec<(usize, bool)> = report
            .epochs
            .iter()
            .map(|e| {
                e.early_stopping
                    .map(|s| (s.stale_epochs, s.stopped))
                    .unwrap()
            })
            .collect();
        assert_eq!(
            status,
            [(0, false), (0, false), (1, false), (2, false), (3, true)]
        );
    }

    #[test]
    fn early_stopping_restores_the_best_tensors_bit_for_bit() {
        // The reference: the same model trained for exactly the best epoch's 2 epochs.
        let mut reference = scripted(&VAL_LOSSES);
        fit(
            &mut reference,
            &run_config(2, Sampling::Sequential),
            &scripted_splits(6),
        )
        .unwrap();

        let checkpoint = temp_path("early-stopped.safetensors");
        let mut model = scripted(&VAL_LOSSES);
        let mut cfg = early(Metric::ValLoss, 3, 0.0, true);
        cfg.checkpoint_path = Some(checkpoint.clone());
        let report = fit(&mut model, &cfg, &scripted_splits(6)).unwrap();
        assert_eq!(report.early_stop.unwrap().restored_epoch, Some(2));
        assert_ne!(
            bits(&model),
            bits(&Scripted::new(ScriptedHyper::default(), 3))
        );
        assert_eq!(bits(&model), bits(&reference));
        assert_eq!(model.steps(), 15, "step counters are not rolled back");
        let mut saved = scripted(&[]);
        load_checkpoint(&mut saved, &checkpoint).unwrap();
        assert_eq!(
            bits(&saved),
            bits(&reference),
            "the checkpoint holds the best epoch"
        );
    }

    #[test]
    fn early_stopping_never_stops_while_patience_lasts() {
        // An improvement every third epoch; patience 3 always has one epoch to spare.
        let losses: Vec<f32> = (0..12)
            .map(|e| {
                if e % 3 == 0 {
                    1.0 - e as f32 / 100.0
                } else {
                    5.0
                }
            })
            .collect();
        let mut model = scripted(&losses);
        let mut cfg = early(Metric::ValLoss, 3, 0.0, true);
        cfg.epochs = 12;
        let report = fit(&mut model, &cfg, &scripted_splits(6)).unwrap();
        assert_eq!(report.epochs.len(), 12);
        let early_stop = report.early_stop.unwrap();
        assert_eq!(early_stop.stopped_after, None);
        // Epoch 10 was the best; 11 and 12 were not, so the end restores epoch 10.
        assert_eq!(early_stop.best_epoch, Some(10));
        assert_eq!(early_stop.restored_epoch, Some(10));
        let mut reference = scripted(&losses);
        fit(
            &mut reference,
            &run_config(10, Sampling::Sequential),
            &scripted_splits(6),
        )
        .unwrap();
        assert_eq!(bits(&model), bits(&reference));
    }

    #[test]
    fn early_stopping_honours_min_delta() {
        // The training loss falls by 0.01 per epoch.
        let losses: Vec<f32> = (0..10).map(|e| 1.0 - e as f32 / 100.0).collect();
        let run = |min_delta| {
            let mut model = Scripted::new(
                ScriptedHyper {
                    train_losses: losses.clone(),
                    val_losses: vec![1.0],
                },
                3,
            );
            let mut cfg = early(Metric::TrainLoss, 2, min_delta, false);
            cfg.epochs = 10;
            fit(&mut model, &cfg, &scripted_splits(6)).unwrap()
        };
        // 0.015: every second epoch beats the best by 0.02, in time for patience 2.
        let small = run(0.015);
        assert_eq!(small.epochs.len(), 10);
        assert_eq!(small.early_stop.unwrap().best_epoch, Some(9));
        // 0.025: two epochs of 0.01 do not count as an improvement.
        let large = run(0.025);
        assert_eq!(large.epochs.len(), 3);
        assert_eq!(large.early_stop.unwrap().best_epoch, Some(1));
    }

    #[test]
    fn early_stopping_on_validation_needs_a_split() {
        let mut model = LogReg::new(LogRegHyper::default(), 5);
        let no_validation = Splits {
            validation: None,
            ..splits()
        };
        let cfg = early(Metric::ValAccuracy, 2, 0.0, true);
        let error = fit(&mut model, &cfg, &no_validation).unwrap_err();
        assert!(error.to_string().contains("no validation split"), "{error}");
        assert_eq!(model.steps(), 0, "refused before training");
        let cfg = early(Metric::TrainAccuracy, 2, 0.0, true);
        assert!(fit(&mut model, &cfg, &no_validation).is_ok());
    }

    #[test]
    fn early_stopped_run_lines_and_metrics() {
        let metrics = temp_path("early-stop.metrics.jsonl");
        let mut model = scripted(&VAL_LOSSES);
        let mut cfg = early(Metric::ValLoss, 3, 0.0, true);
        cfg.metrics_path = Some(metrics.clone());
        cfg.monitor.grad_norm = true;
        let mut report = fit(&mut model, &cfg, &scripted_splits(6)).unwrap();
        let mut lines: Vec<String> = report
            .epochs
            .iter_mut()
            .map(|e| {
                e.samples_per_sec = 0.0;
                e.to_line(cfg.epochs)
            })
            .collect();
        lines.extend(report.early_stop.unwrap().to_line());
        insta::assert_snapshot!("early_stopped_epoch_lines", lines.join("\n"));

        let text = std::fs::read_to_string(&metrics).unwrap();
        let json: Vec<&str> = text.lines().collect();
        assert_eq!(json.len(), 6, "5 epochs and the summary");
        assert!(
            json[4].contains(
                ",\"grad_norm\":{\"mean\":2.0,\"last\":3.0},\"early_stopping\":{\"best_epoch\":2,"
            ),
            "{}",
            json[4]
        );
        assert!(json[4].ends_with("\"stale_epochs\":3,\"patience\":3,\"stopped\":true}}"));
        assert!(
            json[5].starts_with(
                "{\"early_stop\":{\"monitor\":\"val_loss\",\"patience\":3,\"min_delta\":0.0,\"stopped_after\":5,\"best_epoch\":2,\"best\":0.5"
            ),
            "{}",
            json[5]
        );
        assert!(json[5].ends_with(",\"restored_epoch\":2}}"), "{}", json[5]);
    }

    #[test]
    fn grad_norm_is_reported_only_when_monitored() {
        let mut model = scripted(&[1.0]);
        let mut cfg = run_config(2, Sampling::Sequential);
        let report = fit(&mut model, &cfg, &scripted_splits(6)).unwrap();
        assert_eq!(report.epochs[0].grad_norm, None);
        assert!(!report.epochs[0].to_json().contains("grad_norm"));
        cfg.monitor.grad_norm = true;
        let report = fit(&mut model, &cfg, &scripted_splits(6)).unwrap();
        // Steps 1, 2, 3 of each epoch report gᵀg = 1, 4, 9.
        let expected = crate::monitor::GradNorm {
            mean: 2.0,
            last: 3.0,
        };
        assert_eq!(report.epochs[1].grad_norm, Some(expected));
        assert!(report.epochs[1].to_line(2).contains("  ‖g‖ 2.00e0  lr"));
    }

    #[test]
    fn curvature_checks_are_recorded_and_warned_once() {
        let splits = scripted_splits(6);
        let model = scripted(&[1.0]);
        let mut epoch_loop: EpochLoop<'_, Scripted> = EpochLoop {
            x: splits.train.x.view(),
            y: Targets::Classes(&splits.train.labels),
            samples: splits.train.len(),
            batcher: Batcher::new(2, 1),
            sampling_rng: Rng::new(1, streams::SAMPLING),
            last_good: Snapshot::take(&model),
            steps_run: 0,
            step_budget: u64::MAX,
            curvature_every: Some(Interval::Epochs(2).in_steps(3)),
            curvature_watch: CurvatureWatch::new(),
            curvature_probe: None,
            augmenter: None,
            current: None,
            save_every_steps: None,
            data_fingerprint: std::cell::OnceCell::new(),
            shared: None,
        };
        assert_eq!(epoch_loop.curvature_every, Some(6));
        let mut totals = EpochTotals::new(0);
        let cfg = run_config(1, Sampling::Sequential);
        // gᵀg = 1, gᵀHg = 10: rate 0.5 overshoots (limit 0.2), 0.1 does not. Only the first
        // overshoot warns: the second continues it, the fourth is in the same epoch.
        let warned: Vec<bool> = [(6, 0.5f32), (12, 0.5), (18, 0.1), (24, 0.5)]
            .into_iter()
            .map(|(step, rate)| {
                epoch_loop.steps_run = step - 1;
                epoch_loop.record_curvature(&cfg, 1, rate, 1.0, 10.0, &mut totals)
            })
            .collect();
        assert_eq!(warned, [true, false, false, false]);
        // A new epoch, a check that passes, then an overshoot: a new occurrence.
        assert!(!epoch_loop.record_curvature(&cfg, 2, 0.1, 1.0, 10.0, &mut totals));
        assert!(epoch_loop.record_curvature(&cfg, 2, 0.5, 1.0, 10.0, &mut totals));
        assert_eq!(totals.curvature.len(), 6);
        assert_eq!(totals.curvature[1].step, 12);
        assert_eq!(totals.curvature[1].learning_rate, 0.5);
        let mut report = EpochReport {
            epoch: 1,
            loss: 0.0,
            reg_loss: None,
            train_accuracy: 0.0,
            val_loss: None,
            val_accuracy: None,
            learning_rate: 0.1,
            samples_per_sec: 0.0,
            steps: 24,
            grad_norm: None,
            curvature: totals.curvature,
            early_stopping: None,
            metric: TrainMetric::Accuracy,
        };
        report.curvature.truncate(1);
        assert!(
            report.to_json().ends_with(
                ",\"steps\":24,\"curvature\":[{\"step\":6,\"gTg\":1.0,\"gTHg\":10.0,\"lr\":0.5}]}"
            ),
            "{}",
            report.to_json()
        );
    }
}
