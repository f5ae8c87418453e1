//! The training driver: epochs of batched steps, validation, divergence handling, metrics and
//! the final checkpoint. Generic over [`Network`]; nothing here knows a spec.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use crate::checkpoint::{load_checkpoint, save_checkpoint};
use crate::config::RunConfig;
use crate::data::{Batcher, Splits};
use crate::error::Error;
use crate::evaluate::{check_dataset, evaluate, row_major};
use crate::network::Network;
use crate::report::{EpochReport, Report, test_line};
use crate::rng::{Rng, streams};

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
/// state that is not among `tensors()` (momentum buffers) is not rolled back.
///
/// Same model seed and `cfg.seed` → bit-identical losses and weights: only the reported
/// throughput depends on the clock.
pub fn fit<M: Network>(model: &mut M, cfg: &RunConfig, splits: &Splits) -> Result<Report, Error> {
    check_splits::<M>(splits)?;
    if let Some(path) = &cfg.init_weights {
        load_checkpoint(model, path)?;
    }
    let mut metrics = cfg
        .metrics_path
        .as_deref()
        .map(MetricsFile::create)
        .transpose()?;
    let x = row_major(&splits.train.x);
    let mut epoch_loop = EpochLoop {
        x: &x,
        labels: &splits.train.labels,
        batcher: Batcher::new(M::BATCH, M::INPUT),
        sampling_rng: Rng::new(cfg.seed, streams::SAMPLING),
        last_good: Snapshot::take(model),
        steps_run: 0,
        step_budget: cfg.max_steps.unwrap_or(u64::MAX),
    };
    let mut epochs = Vec::with_capacity(cfg.epochs);
    for epoch in 1..=cfg.epochs {
        if epoch_loop.steps_run >= epoch_loop.step_budget {
            break;
        }
        let learning_rate = model.learning_rate();
        let totals = epoch_loop.train_epoch(model, cfg, epoch)?;
        model.end_epoch(epoch);
        let validation = splits
            .validation
            .as_ref()
            .map(|v| evaluate(model, v))
            .transpose()?;
        let samples = (totals.steps as usize * M::BATCH) as f64;
        let report = EpochReport {
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
        };
        if cfg.verbose {
            say!("{}", report.to_line(cfg.epochs));
        }
        if let Some(metrics) = &mut metrics {
            metrics.append(&report)?;
        }
        epochs.push(report);
        epoch_loop.last_good.retake(model);
    }

    let test = splits
        .test
        .as_ref()
        .map(|t| evaluate(model, t))
        .transpose()?;
    if let (true, Some(test)) = (cfg.verbose, test) {
        say!("{}", test_line(test.accuracy, test.loss));
    }
    if let Some(path) = &cfg.checkpoint_path {
        save_checkpoint(model, path)?;
    }
    Ok(Report {
        epochs,
        test_loss: test.map(|t| t.loss),
        test_accuracy: test.map(|t| t.accuracy),
        steps: model.steps(),
    })
}

/// State carried across epochs: the batch buffers, the sampling stream, the rollback copy.
struct EpochLoop<'a> {
    x: &'a [f32],
    labels: &'a [u32],
    batcher: Batcher,
    sampling_rng: Rng,
    last_good: Snapshot,
    steps_run: u64,
    step_budget: u64,
}

/// Sums over one epoch's steps.
struct EpochTotals {
    loss_sum: f64,
    /// Sum of `StepStats::reg_loss` (0 for a model without regularization).
    reg_loss_sum: f64,
    correct: u64,
    steps: u64,
    seconds: f64,
}

impl EpochLoop<'_> {
    /// The step loop: gather, step, check the loss. Nothing in it allocates.
    fn train_epoch<M: Network>(
        &mut self,
        model: &mut M,
        cfg: &RunConfig,
        epoch: usize,
    ) -> Result<EpochTotals, Error> {
        self.batcher
            .plan_epoch(cfg.sampling, self.labels.len(), &mut self.sampling_rng);
        let started = Instant::now();
        let mut totals = EpochTotals {
            loss_sum: 0.0,
            reg_loss_sum: 0.0,
            correct: 0,
            steps: 0,
            seconds: 0.0,
        };
        for batch in 0..self.batcher.batches() {
            if self.steps_run >= self.step_budget {
                break;
            }
            let (batch_x, batch_labels) = self.batcher.gather(self.x, self.labels, batch);
            let stats = model.train_step(batch_x, batch_labels);
            self.steps_run += 1;
            if !stats.loss.is_finite() {
                let steps_run = self.steps_run;
                return Err(diverged(
                    model,
                    cfg,
                    &self.last_good,
                    epoch,
                    steps_run,
                    stats.loss,
                ));
            }
            totals.loss_sum += f64::from(stats.loss);
            totals.reg_loss_sum += f64::from(stats.reg_loss);
            totals.correct += u64::from(stats.correct);
            totals.steps += 1;
        }
        totals.seconds = started.elapsed().as_secs_f64();
        Ok(totals)
    }
}

fn check_splits<M: Network>(splits: &Splits) -> Result<(), Error> {
    check_dataset::<M>(&splits.train, "training")?;
    if let Some(validation) = &splits.validation {
        check_dataset::<M>(validation, "validation")?;
    }
    if let Some(test) = &splits.test {
        check_dataset::<M>(test, "test")?;
    }
    if splits.train.len() < M::BATCH {
        return Err(Error::Data {
            path: "<training data>".into(),
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

/// Restores the last good parameters, saves them if a checkpoint path is set, and says so.
fn diverged<M: Network>(
    model: &mut M,
    cfg: &RunConfig,
    last_good: &Snapshot,
    epoch: usize,
    step: u64,
    loss: f32,
) -> Error {
    last_good.restore(model);
    let from = match epoch {
        1 => "the initial weights".to_string(),
        e => format!("the weights from the end of epoch {}", e - 1),
    };
    let saved = match &cfg.checkpoint_path {
        Some(path) => match save_checkpoint(model, path) {
            Ok(()) => format!("; {from} were saved to {}", path.display()),
            Err(e) => format!("; saving {from} failed too: {e}"),
        },
        None => String::new(),
    };
    Error::Diverged {
        epoch,
        step,
        message: format!(
            "the loss became {loss}; try a lower learning rate (it was {:.2e}){saved}",
            model.learning_rate()
        ),
    }
}

/// A copy of every tensor of a model, to roll back to after divergence.
struct Snapshot {
    tensors: Vec<Vec<f32>>,
}

impl Snapshot {
    fn take<M: Network>(model: &M) -> Snapshot {
        Snapshot {
            tensors: model.tensors().iter().map(|t| t.data.to_vec()).collect(),
        }
    }

    /// Overwrites the snapshot in place (no allocation after the first).
    fn retake<M: Network>(&mut self, model: &M) {
        for (saved, tensor) in self.tensors.iter_mut().zip(model.tensors()) {
            saved.copy_from_slice(tensor.data);
        }
    }

    fn restore<M: Network>(&self, model: &mut M) {
        for (saved, tensor) in self.tensors.iter().zip(model.tensors_mut()) {
            tensor.data.copy_from_slice(saved);
        }
    }
}

/// The JSON-lines metrics file, flushed after every epoch so it can be watched live.
struct MetricsFile {
    path: std::path::PathBuf,
    writer: BufWriter<File>,
}

impl MetricsFile {
    fn create(path: &Path) -> Result<MetricsFile, Error> {
        let file = File::create(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(MetricsFile {
            path: path.to_path_buf(),
            writer: BufWriter::new(file),
        })
    }

    fn append(&mut self, report: &EpochReport) -> Result<(), Error> {
        writeln!(self.writer, "{}", report.to_json())
            .and_then(|()| self.writer.flush())
            .map_err(|source| Error::Io {
                path: self.path.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Sampling;
    use crate::data::Dataset;
    use crate::test_model::{LogReg, LogRegHyper, separable_dataset, temp_path};

    fn run_config(epochs: usize, sampling: Sampling) -> RunConfig {
        RunConfig {
            epochs,
            sampling,
            seed: 11,
            max_steps: None,
            data: None,
            metrics_path: None,
            checkpoint_path: None,
            init_weights: None,
            verbose: false,
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
        // The model is rolled back, and the file holds the same weights.
        assert_eq!(weights(&model), initial);
        let mut reloaded = LogReg::new(hyper, 99);
        load_checkpoint(&mut reloaded, &checkpoint).unwrap();
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
        poisoned.train.x[[8, 0]] = f32::INFINITY;
        let rescue = temp_path("rescue.safetensors");
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
        load_checkpoint(&mut reloaded, &rescue).unwrap();
        assert_eq!(
            weights(&reloaded),
            after_clean_epoch,
            "init weights are the last good ones"
        );
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
}
