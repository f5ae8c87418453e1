//! Run-level settings the driver needs, filled in by generated code from the spec and then
//! overridden by trainer flags. Plain values: the runtime never sees a spec.

use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    /// IDX images + labels, gzipped (by magic bytes, not by name) or raw.
    Idx { images: PathBuf, labels: PathBuf },
    /// CSV, one sample per row; `label_column` may be negative (from the end).
    Csv {
        path: PathBuf,
        label_column: i64,
        header: bool,
    },
    /// CSV with value targets (`csv(…, targets=first..last)`: mse regression, multi-label
    /// logistic): columns `first..=last` (negative counts from the end) are the targets, every
    /// other column is a feature.
    CsvTargets {
        path: PathBuf,
        first: i64,
        last: i64,
        header: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValidationSplit {
    None,
    Count(usize),
    Fraction(f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    Shuffle,
    WithReplacement,
    Sequential,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataConfig {
    pub train: DataSource,
    pub test: Option<DataSource>,
    pub validation: ValidationSplit,
    /// Multiplies every raw value: the spec's number, rounded once to the model's precision.
    pub scale: f64,
    /// Relative paths above are resolved against this directory (trainer flag `--data-dir`);
    /// `None` means the working directory.
    pub base_dir: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    pub epochs: usize,
    pub sampling: Sampling,
    pub seed: u64,
    /// Stop after this many optimizer steps (flag `--max-steps`).
    pub max_steps: Option<u64>,
    /// `None` when the spec has no data block: the caller must pass data in code.
    pub data: Option<DataConfig>,
    /// Where `trainer train` writes metrics (JSON lines) and the checkpoint.
    pub metrics_path: Option<PathBuf>,
    pub checkpoint_path: Option<PathBuf>,
    /// Start from these weights instead of the seeded initialization.
    pub init_weights: Option<PathBuf>,
    /// Print one line per epoch to stdout.
    pub verbose: bool,
    /// Stop when a metric stops improving (spec item `early_stopping`, flags `--patience`,
    /// `--no-early-stopping`); `None`: train every epoch.
    pub early_stopping: Option<EarlyStopping>,
    /// Extra quantities measured during training (spec item `monitor`); default: none.
    pub monitor: MonitorConfig,
    /// Saving the run state and resuming from it (`--save-every`, `--resume`).
    pub save: SaveConfig,
    /// `batch full` with `lbfgs` or `newton`: `fit` minimizes the whole training set's loss
    /// with this solver instead of running minibatch steps. `None`: minibatch steps.
    pub full_batch: Option<FullBatchSolver>,
    /// The spec's `preprocess`: `fit` computes these statistics on the training split and
    /// writes them into the model's `input.shift` / `input.scale` tensors.
    pub preprocess: Option<crate::preprocess::Preprocess>,
    /// The spec's `augment`: `fit` transforms every training batch (never validation, test
    /// or prediction).
    pub augment: Option<crate::augment::Augment>,
    /// Split every step's batch over the MPI ranks (`mpirun -n N <trainer> train`): each rank
    /// computes its share's gradient and the ranks sum them (`fit/data_parallel.rs`); a
    /// full-batch solver's loss and gradient likewise. No effect in one process. Not a spec
    /// setting: the trainer sets it for a plain `train` under N > 1 ranks.
    pub data_parallel: bool,
}

/// One quiet run of one shuffled epoch from seed 0 that reads and writes nothing and has no
/// procedure of its own (no early stopping, monitoring, saving, solver, preprocessing or
/// augmentation): the base a test or a `net!` caller overrides field by field. Generated
/// `run_config()`s spell out every field from the spec instead.
impl Default for RunConfig {
    fn default() -> RunConfig {
        RunConfig {
            epochs: 1,
            sampling: Sampling::Shuffle,
            seed: 0,
            max_steps: None,
            data: None,
            metrics_path: None,
            checkpoint_path: None,
            init_weights: None,
            verbose: false,
            early_stopping: None,
            monitor: MonitorConfig::default(),
            save: SaveConfig::default(),
            full_batch: None,
            preprocess: None,
            augment: None,
            data_parallel: false,
        }
    }
}

impl RunConfig {
    /// The settings of a run inside this one (a search trial, a bagging member, a search
    /// before bagging): the same, but writing no checkpoint, metrics or run state of its own —
    /// the outer run saves and resumes at trial/member granularity.
    pub fn inner(&self) -> RunConfig {
        RunConfig {
            checkpoint_path: None,
            metrics_path: None,
            save: SaveConfig::default(),
            // Trials and members run whole on one rank each.
            data_parallel: false,
            ..self.clone()
        }
    }
}

/// Durable runs: where and how often the whole run state is saved, and the state to resume.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SaveConfig {
    /// Where the run state goes (periodic saves and the save on SIGINT/SIGTERM); `None`:
    /// never written.
    pub state_path: Option<PathBuf>,
    /// `--save-every N steps|epochs` / the spec's `save_every`; `None`: only on a signal.
    pub every: Option<Interval>,
    /// `--resume FILE`: continue the run saved there instead of starting one.
    pub resume: Option<PathBuf>,
}

/// Keras-style early stopping, checked after every epoch by [`crate::fit`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStopping {
    /// Epochs without improvement before training stops (≥ 1).
    pub patience: usize,
    pub monitor: Metric,
    /// An epoch improves only if it beats the best so far by more than this (≥ 0).
    pub min_delta: f64,
    /// Put back the tensors of the best epoch before `fit` returns.
    pub restore_best: bool,
}

/// A per-epoch quantity early stopping can watch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    ValLoss,
    ValAccuracy,
    TrainLoss,
    TrainAccuracy,
}

impl Metric {
    /// The spec's and the reports' name (`val_loss`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::ValLoss => "val_loss",
            Metric::ValAccuracy => "val_accuracy",
            Metric::TrainLoss => "train_loss",
            Metric::TrainAccuracy => "train_accuracy",
        }
    }

    /// Losses improve downwards, accuracies upwards.
    pub fn lower_is_better(self) -> bool {
        matches!(self, Metric::ValLoss | Metric::TrainLoss)
    }

    pub fn needs_validation(self) -> bool {
        matches!(self, Metric::ValLoss | Metric::ValAccuracy)
    }
}

/// What [`crate::fit`] measures beyond loss and accuracy. `Default`: nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonitorConfig {
    /// Report ‖g‖ = √`StepStats::grad_sq` per epoch (mean and last step).
    pub grad_norm: bool,
    /// Check the curvature along the step (gᵀHg) this often; `None`: never.
    pub curvature_every: Option<Interval>,
}

/// A period counted in optimizer steps or in epochs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    Steps(u64),
    /// Converted at run time: `n` × the steps per epoch of the training set being used.
    Epochs(u64),
}

impl Interval {
    /// The period in steps (at least 1), given the steps in one epoch.
    pub fn in_steps(self, steps_per_epoch: u64) -> u64 {
        match self {
            Interval::Steps(n) => n,
            Interval::Epochs(n) => n.saturating_mul(steps_per_epoch),
        }
        .max(1)
    }
}

/// The solver of a full-batch model (`batch full`), with the spec's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FullBatchSolver {
    /// L-BFGS keeping `history` pairs; stops when ‖∇f‖∞ ≤ tolerance·max(1, |f|).
    Lbfgs { history: usize, tolerance: f64 },
    /// Damped Newton: (H + damping·I) p = −g with H from Hessian-vector products.
    Newton { damping: f64, tolerance: f64 },
}
