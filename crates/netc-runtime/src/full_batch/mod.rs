//! Full-batch training (`batch full` with `lbfgs` or `newton`): the model's loss over the whole
//! training set as an [`Objective`] on the flat parameter vector, minimized by the solvers in
//! [`crate::solve`]. One solver iteration is reported as one "epoch" line.

mod state;

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::time::Instant;

use crate::checkpoint::load_checkpoint;
use crate::config::{FullBatchSolver, Interval, RunConfig};
use crate::data::{FeatureView, Splits};
use crate::error::Error;
use crate::evaluate::{check_dataset, evaluate, row_major, targets_of};
use crate::monitor::GradNorm;
use crate::network::{Masks, Network, Targets};
use crate::report::{EpochReport, Report, TrainMetric};
use crate::run_output::{MetricsFile, interrupted, test_and_save};
use crate::run_state;
use crate::solve::{Iteration, LbfgsConfig, NewtonConfig, Objective, lbfgs_from, newton_from};

/// The mean data loss over every training sample plus the regularization loss, as a function
/// of the flat parameters. The set is visited in `BATCH`-row chunks (the last one shorter),
/// each chunk's mean gradient weighted by its share of the samples.
pub struct ModelObjective<'a, M: Network> {
    pub model: &'a mut M,
    x: FeatureView<'a, M::Float>,
    y: Targets<'a, M::Float>,
    /// One chunk of bytes as values (unused for value data, whose chunks are borrowed).
    chunk: Vec<M::Float>,
    chunk_grad: Vec<f64>,
    /// Spread over the MPI ranks (data-parallel): chunk `i` is computed on rank `i mod N`,
    /// and the ranks' gradients and data losses (`PARAMS + 1` values) are summed in rank order.
    spread: Option<(crate::cluster::OrderedSum, Vec<f64>)>,
    /// The data and regularization parts of the last evaluation.
    pub last_data_loss: f64,
    pub last_reg_loss: f64,
}

impl<'a, M: Network> ModelObjective<'a, M> {
    /// `x` row-major, `x.len() / INPUT` samples (at least one), `y` their targets.
    pub fn new(model: &'a mut M, x: &'a [M::Float], y: Targets<'a, M::Float>) -> Self {
        Self::on_view(model, FeatureView::floats(x, M::INPUT), y)
    }

    /// [`new`](Self::new) on samples however they are stored (at least one, `INPUT` wide).
    pub fn on_view(
        model: &'a mut M,
        x: FeatureView<'a, M::Float>,
        y: Targets<'a, M::Float>,
    ) -> Self {
        ModelObjective {
            model,
            x,
            y,
            chunk: Vec::new(),
            chunk_grad: vec![0.0; M::PARAMS],
            spread: None,
            last_data_loss: 0.0,
            last_reg_loss: 0.0,
        }
    }
}

impl<M: Network> ModelObjective<'_, M> {
    /// The same objective with its chunks spread over the MPI ranks (a collective per
    /// evaluation: every rank evaluates at the same parameters). The sum's order differs from
    /// one process's (each rank's chunks, then rank after rank), nothing else.
    pub fn spread_over_ranks(mut self) -> Self {
        if crate::cluster::size() > 1 {
            self.spread = Some((
                crate::cluster::OrderedSum::new(M::PARAMS + 1),
                vec![0.0; M::PARAMS + 1],
            ));
        }
        self
    }
}

impl<M: Network> Objective for ModelObjective<'_, M> {
    fn dim(&self) -> usize {
        M::PARAMS
    }

    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64, Error> {
        self.model.write_params(theta);
        grad.fill(0.0);
        let total = self.x.rows();
        let mut data_loss = 0.0;
        let rank = crate::cluster::rank();
        for (index, first) in (0..total).step_by(M::BATCH).enumerate() {
            if self.spread.is_some() && crate::cluster::owner(index) != rank {
                continue;
            }
            let rows = M::BATCH.min(total - first);
            let x = self.x.chunk(first, rows, &mut self.chunk);
            let y = self.y.rows(first..first + rows, M::OUTPUT);
            let share = rows as f64 / total as f64;
            data_loss += share * self.model.gradient(x, y, rows, Masks::Fresh);
            self.model.read_gradient(&mut self.chunk_grad);
            for (g, c) in grad.iter_mut().zip(&self.chunk_grad) {
                *g += share * c;
            }
        }
        if let Some((sum, values)) = &mut self.spread {
            let (gradient, loss) = values.split_at_mut(M::PARAMS);
            gradient.copy_from_slice(grad);
            loss[0] = data_loss;
            sum.sum(values);
            grad.copy_from_slice(&values[..M::PARAMS]);
            data_loss = values[M::PARAMS];
        }
        let reg_loss = self.model.regularization(grad);
        self.last_data_loss = data_loss;
        self.last_reg_loss = reg_loss;
        Ok(data_loss + reg_loss)
    }
}

/// Minimizes the full-batch loss with `solver`, reporting each iteration like an epoch (train
/// accuracy and validation measured at the accepted point), then tests and saves as `fit` does.
/// `cfg.epochs` bounds the iterations.
///
/// Durable at iteration granularity: with `cfg.save.every` (steps and epochs both count
/// iterations here) and on SIGINT/SIGTERM, the run state is written after an accepted
/// iteration; `cfg.save.resume` continues from such a file to the iterates, metrics and
/// weights of the uninterrupted run. `monitor grad_norm` reports ‖∇f‖₂ at the accepted point
/// (one "step" per iteration: mean = last).
pub fn fit_full_batch<M: Network>(
    model: &mut M,
    cfg: &RunConfig,
    splits: &Splits<M::Float>,
    solver: FullBatchSolver,
) -> Result<Report, Error> {
    check_dataset::<M>(&splits.train, "training")?;
    for (data, what) in [(&splits.validation, "validation"), (&splits.test, "test")] {
        if let Some(data) = data {
            check_dataset::<M>(data, what)?;
        }
    }
    if splits.train.is_empty() {
        return Err(Error::Usage(
            "full-batch training needs at least one training sample".into(),
        ));
    }
    if let Some(path) = &cfg.init_weights {
        load_checkpoint(model, path)?;
    }
    let mut theta = vec![0.0; M::PARAMS];
    model.read_params(&mut theta);
    let mut resume = None;
    let mut epochs: Vec<EpochReport> = Vec::new();
    if let Some(path) = &cfg.save.resume {
        let resumed = state::restore(path, model, cfg, splits)?;
        if cfg.verbose {
            say!(
                "resumed {} after iteration {} (saved state {})",
                M::META.name,
                resumed.solver.iterations,
                path.display()
            );
        }
        theta = resumed.theta;
        epochs = resumed.epochs;
        resume = Some(resumed.solver);
    }
    let mut metrics = MetricsFile::open(cfg.metrics_path.as_deref(), &epochs)?;
    let data = (splits.train.len(), run_state::fingerprint(splits));
    let mut failure: Option<Error> = None;
    let started = Instant::now();
    let first_iteration = resume.as_ref().map_or(0, |r| r.iterations);
    let learning_rate = model.learning_rate();
    // The solver evaluates through `view`, the callback measures the accepted point through
    // the same cell: the solvers call back between evaluations, never during one.
    let values = row_major(&splits.train.targets);
    let y = targets_of(&splits.train, &values);
    let mut objective = ModelObjective::on_view(model, splits.train.x.view(), y);
    if cfg.data_parallel {
        objective = objective.spread_over_ranks();
    }
    let cell = RefCell::new(objective);
    let mut view = Shared { inner: &cell };
    let mut on_iteration = |it: &Iteration| {
        let mut objective = cell.borrow_mut();
        // The solvers' last evaluation is the accepted point: the model holds it now.
        let reg_loss = objective.last_reg_loss;
        let measured = evaluate(&mut *objective.model, &splits.train).and_then(|train| {
            let validation = splits
                .validation
                .as_ref()
                .map(|v| evaluate(&mut *objective.model, v))
                .transpose()?;
            Ok((train, validation))
        });
        let (train, validation) = match measured {
            Ok(m) => m,
            Err(e) => {
                failure = Some(e);
                return ControlFlow::Break(());
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        let grad_norm = cfg.monitor.grad_norm.then(|| {
            let norm = it.state.grad().iter().map(|g| g * g).sum::<f64>().sqrt() as f32;
            GradNorm {
                mean: norm,
                last: norm,
            }
        });
        let report = EpochReport {
            epoch: it.k,
            loss: train.loss,
            reg_loss: (reg_loss != 0.0).then_some(reg_loss as f32),
            train_accuracy: train.accuracy,
            val_loss: validation.map(|v| v.loss),
            val_accuracy: validation.map(|v| v.accuracy),
            learning_rate,
            samples_per_sec: splits.train.len() as f64 * (it.k - first_iteration) as f64
                / seconds.max(1e-9),
            steps: it.k as u64,
            grad_norm,
            curvature: Vec::new(),
            early_stopping: None,
            metric: TrainMetric::of::<M>(),
        };
        if cfg.verbose {
            say!(
                "{}  |g|∞ {:.3e}  step {:.3e}",
                report.to_line(cfg.epochs),
                it.grad_norm,
                it.step
            );
        }
        if let Some(file) = &mut metrics
            && let Err(e) = file.append(&report)
        {
            failure = Some(e);
            return ControlFlow::Break(());
        }
        epochs.push(report);
        // Under data-parallel training every rank must stop after the same iteration.
        let signal = if cfg.data_parallel {
            crate::cluster::stop_requested_on_any_rank()
        } else {
            crate::interrupt::requested()
        };
        let save_due = match cfg.save.every {
            Some(Interval::Steps(n) | Interval::Epochs(n)) => {
                (it.k as u64).is_multiple_of(n.max(1))
            }
            None => false,
        };
        let saved = match (&cfg.save.state_path, signal.is_some() || save_due) {
            (Some(path), true) => {
                state::save(path, &*objective.model, cfg, data, &it.state, &epochs)
            }
            _ => Ok(()),
        };
        match (signal, saved) {
            (Some(signal), saved) => {
                failure = Some(interrupted(signal, cfg, saved));
                ControlFlow::Break(())
            }
            (None, Err(e)) => {
                failure = Some(e);
                ControlFlow::Break(())
            }
            (None, Ok(())) => ControlFlow::Continue(()),
        }
    };
    let solved = match solver {
        FullBatchSolver::Lbfgs { history, tolerance } => {
            let config = LbfgsConfig {
                history,
                tolerance,
                max_iterations: cfg.epochs,
            };
            lbfgs_from(
                &mut view,
                &mut theta,
                &config,
                resume.as_ref(),
                &mut on_iteration,
            )
        }
        FullBatchSolver::Newton { damping, tolerance } => {
            let config = NewtonConfig {
                damping,
                tolerance,
                max_iterations: cfg.epochs,
            };
            newton_from(
                &mut view,
                &mut theta,
                &config,
                resume.as_ref(),
                &mut on_iteration,
            )
        }
    };
    let model = cell.into_inner().model;
    if let Some(error) = failure {
        return Err(error);
    }
    let summary = solved?;
    model.write_params(&theta);
    if cfg.verbose {
        // The curve only: its notes speak of learning rates and epochs, which a solver with a
        // line search and its own stopping rule does not have.
        if let Some(curve) = crate::curve::summary(&epochs).first() {
            say!("{curve}");
        }
        say!(
            "{} after {} iterations ({} loss/gradient evaluations): loss {:.6e}, |g|∞ {:.3e}",
            summary.reason,
            summary.iterations,
            summary.evaluations,
            summary.value,
            summary.grad_inf_norm
        );
    }
    let test = test_and_save(model, cfg, splits)?;
    Ok(Report {
        epochs,
        test_loss: test.map(|t| t.loss),
        test_accuracy: test.map(|t| t.accuracy),
        steps: summary.iterations as u64,
        early_stop: None,
    })
}

/// The objective as the solver holds it while the callback may also reach it (never at the
/// same time: the solvers call the callback between evaluations).
struct Shared<'c, 'o, M: Network> {
    inner: &'c RefCell<ModelObjective<'o, M>>,
}

impl<M: Network> Objective for Shared<'_, '_, M> {
    fn dim(&self) -> usize {
        M::PARAMS
    }

    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64, Error> {
        self.inner.borrow_mut().value_grad(theta, grad)
    }
}
