//! The contract between generated code and the runtime.
//!
//! Generated code implements [`Network`] for one concrete model (sizes are constants, the step
//! is specialized); the runtime's driver (`fit`, `evaluate`, `bench`, `trainer_main`) is generic
//! over it and knows nothing of any spec.

use crate::error::Error;
use crate::real::Real;

/// What one training step reports, computed in the step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StepStats {
    /// Mean data loss over the batch (before regularization).
    pub loss: f32,
    /// Samples in the batch whose arg-max output equals the label.
    pub correct: u32,
    /// The regularization loss (λ₂/2·Σw² + λ₁·Σ|w|) of the parameters the step started
    /// from; 0 without `regularize`. Not part of `loss`.
    pub reg_loss: f32,
    /// gᵀg of the full gradient (data + regularization) the step applied; 0 unless the spec
    /// monitors `grad_norm`.
    pub grad_sq: f32,
}

/// The samples one data-parallel rank computes of a step's batch: samples
/// `first..first + rows` of a batch of `batch` ([`Network::gradient_share`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    pub first: usize,
    pub rows: usize,
    pub batch: usize,
}

impl Share {
    /// Rank `rank`'s share of a batch of `batch` split over `ranks`: contiguous, sizes
    /// differing by at most one, in rank order (rank 0 first). Needs `1 <= ranks <= batch`.
    pub fn of(batch: usize, rank: usize, ranks: usize) -> Share {
        let first = rank * batch / ranks;
        let end = (rank + 1) * batch / ranks;
        Share {
            first,
            rows: end - first,
            batch,
        }
    }
}

/// What [`Network::gradient_share`] measured on its rows.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ShareStats {
    /// Data loss summed over the share's samples (not divided by anything).
    pub loss_sum: f64,
    /// The share's samples whose arg-max output equals the label.
    pub correct: u32,
}

/// Dropout masks in [`Network::gradient`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Masks {
    /// Draw new masks, as a training step does.
    Fresh,
    /// Apply the masks of the last draw again: the same network, for finite differences.
    Reuse,
}

/// A named tensor of the model, PyTorch-style name and shape (`layers.0.weight`, [out, in]),
/// in the model's precision (`T` = `Network::Float`).
pub struct TensorRef<'a, T = f32> {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: &'a [T],
}

pub struct TensorMut<'a, T = f32> {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: &'a mut [T],
}

/// Scalar hyperparameters of a generated model (`Hyper` struct): read and set by name, so
/// trainer flags and search change them without a rebuild.
pub trait Hyperparams: Clone + std::fmt::Debug {
    /// Every settable name, e.g. `["learning_rate", "momentum", "epochs"]` (what `--set` and
    /// the run state's `hyper.*` tensors use).
    fn names() -> &'static [&'static str];
    fn get(&self, name: &str) -> Option<f64>;
    /// Errors on an unknown name or a value outside the parameter's valid range.
    fn set(&mut self, name: &str, value: f64) -> Result<(), Error>;
    /// Sets every field a search varying `target` draws (every dropout layer's p; the
    /// optimizer's μ, decay or β₁; …), with the same range checks as [`set`](Self::set).
    /// Generated from the same field list, so no name is agreed on by string; errors when the
    /// model has no such hyperparameter.
    fn set_searched(&mut self, target: SearchTarget, value: f64) -> Result<(), Error>;
}

/// `value` for the hyperparameter `name` if it is finite and `valid` (the field's range, e.g.
/// `0 <= value < 1`), else the usage error naming both and what was `expected`. Generated
/// `Hyperparams` setters call it.
pub fn checked_hyper(name: &str, value: f64, valid: bool, expected: &str) -> Result<f64, Error> {
    if value.is_finite() && valid {
        Ok(value)
    } else {
        Err(Error::Usage(format!(
            "hyperparameter `{name}` = {value}: expected {expected}"
        )))
    }
}

/// What a `search` parameter varies (the spec's `search { … }` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchTarget {
    LearningRate,
    L2,
    L1,
    MaxNorm,
    /// Every dropout layer's p.
    Dropout,
    /// The optimizer's μ (momentum, nesterov), decay (rmsprop) or β₁ (adam).
    Momentum,
}

impl SearchTarget {
    /// The spec's name of it.
    pub fn name(self) -> &'static str {
        match self {
            SearchTarget::LearningRate => "learning_rate",
            SearchTarget::L2 => "l2",
            SearchTarget::L1 => "l1",
            SearchTarget::MaxNorm => "maxnorm",
            SearchTarget::Dropout => "dropout",
            SearchTarget::Momentum => "momentum",
        }
    }
}

/// Identity of a generated model, stored in checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelMeta {
    pub name: &'static str,
    /// Hash of the model's architecture (hex); a checkpoint with another hash is refused.
    pub spec_hash: &'static str,
    pub netc_version: &'static str,
}

/// The counters a training step advances besides the tensors: the run state needs them to
/// resume bit for bit ([`Network::counters`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Optimizer steps taken (`Network::steps`): schedules and Adam's bias correction.
    pub steps: u64,
    /// Epochs completed, for schedules measured in epochs (0 when none reads them).
    pub epochs: u64,
    /// The dropout mask generator's state (0 without dropout).
    pub dropout: u64,
}

/// How the driver turns `predict_batch` outputs into a loss and an accuracy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// Outputs are softmax probabilities; loss −ln p[label].
    Softmax,
    /// Outputs are per-unit sigmoid probabilities (one-vs-all); loss Σ binary cross-entropy.
    Logistic,
    /// Outputs are raw values (regression).
    Linear,
}

/// The targets of one batch, as the loss reads them (values in the model's precision `V`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Targets<'a, V = f32> {
    /// One class index per sample (`BATCH` of them): softmax, one-vs-all logistic, and a
    /// single logistic or mse unit (target = the label as a number).
    Classes(&'a [u32]),
    /// `BATCH × OUTPUT` values, row-major: mse regression targets or 0/1 multi-label
    /// indicators for logistic.
    Values(&'a [V]),
}

impl<'a, V> Targets<'a, V> {
    pub fn kind(&self) -> TargetKind {
        match self {
            Targets::Classes(_) => TargetKind::Classes,
            Targets::Values(_) => TargetKind::Values,
        }
    }

    /// The targets of samples `rows` (`width` values per sample for `Values`).
    pub fn rows(self, rows: std::ops::Range<usize>, width: usize) -> Targets<'a, V> {
        match self {
            Targets::Classes(labels) => Targets::Classes(&labels[rows]),
            Targets::Values(values) => {
                Targets::Values(&values[rows.start * width..rows.end * width])
            }
        }
    }
}

/// A batch buffer whose size is a compile-time constant (an array type), allocated once on
/// the heap ([`zeroed`](FixedBatch::zeroed)) and filled in place batch after batch.
pub trait FixedBatch: Sized + 'static {
    fn zeroed() -> Box<Self>;
}

/// A batch of inputs, `BATCH` rows of `INPUT` features in the model's precision:
/// `[[F; INPUT]; BATCH]`.
pub trait BatchInput: FixedBatch {
    /// The model's float type.
    type Value: Real;
    fn flat(&self) -> &[Self::Value];
    fn flat_mut(&mut self) -> &mut [Self::Value];
}

/// A batch of targets: `[u32; BATCH]` class labels or `[[V; OUTPUT]; BATCH]` values (`V` the
/// model's float type).
pub trait BatchTargets<V>: FixedBatch {
    const KIND: TargetKind;
    /// The batch as the slices-based [`Targets`] (for `gradient` and the evaluators).
    fn as_targets(&self) -> Targets<'_, V>;
    /// Slot `slot` of the batch ← sample `row` of `from`, which is of this [`KIND`](Self::KIND)
    /// (the driver checks the data against it before training).
    fn set_row(&mut self, slot: usize, from: Targets<'_, V>, row: usize);
}

impl<V: Real, const N: usize, const B: usize> FixedBatch for [[V; N]; B] {
    fn zeroed() -> Box<Self> {
        vec![[V::ZERO; N]; B]
            .into_boxed_slice()
            .try_into()
            .unwrap_or_else(|_| unreachable!("a vector of B rows"))
    }
}

impl<V: Real, const N: usize, const B: usize> BatchInput for [[V; N]; B] {
    type Value = V;

    fn flat(&self) -> &[V] {
        self.as_flattened()
    }

    fn flat_mut(&mut self) -> &mut [V] {
        self.as_flattened_mut()
    }
}

impl<V: Real, const N: usize, const B: usize> BatchTargets<V> for [[V; N]; B] {
    const KIND: TargetKind = TargetKind::Values;

    fn as_targets(&self) -> Targets<'_, V> {
        Targets::Values(self.as_flattened())
    }

    fn set_row(&mut self, slot: usize, from: Targets<'_, V>, row: usize) {
        match from {
            Targets::Values(values) => self[slot].copy_from_slice(&values[row * N..(row + 1) * N]),
            Targets::Classes(_) => unreachable!("a value-target model given class labels"),
        }
    }
}

impl<const B: usize> FixedBatch for [u32; B] {
    fn zeroed() -> Box<Self> {
        // Through a vector: a large array is never built on the stack.
        vec![0; B]
            .into_boxed_slice()
            .try_into()
            .unwrap_or_else(|_| unreachable!("a vector of B labels"))
    }
}

impl<V, const B: usize> BatchTargets<V> for [u32; B] {
    const KIND: TargetKind = TargetKind::Classes;

    fn as_targets(&self) -> Targets<'_, V> {
        Targets::Classes(&self[..])
    }

    fn set_row(&mut self, slot: usize, from: Targets<'_, V>, row: usize) {
        match from {
            Targets::Classes(labels) => self[slot] = labels[row],
            Targets::Values(_) => unreachable!("a class-label model given target values"),
        }
    }
}

/// One training batch of model `M` in the step's fixed-size types.
pub type Batch<M> = (
    Box<<M as Network>::BatchInput>,
    Box<<M as Network>::BatchTargets>,
);

/// `BATCH` samples given as slices (`x`: `BATCH × INPUT` row-major, `y` of `M`'s target
/// kind) copied into a new fixed-size batch. For tests, benchmarks and one-off callers (it
/// allocates); the driver fills one batch in place ([`crate::Batcher`]).
///
/// # Panics
/// If `x` or `y` does not hold exactly `BATCH` samples.
pub fn batch_of<M: Network>(x: &[M::Float], y: Targets<'_, M::Float>) -> Batch<M> {
    let mut batch_x = M::BatchInput::zeroed();
    let mut batch_y = M::BatchTargets::zeroed();
    assert_eq!(x.len(), M::BATCH * M::INPUT, "exactly BATCH samples");
    batch_x.flat_mut().copy_from_slice(x);
    let rows = match y {
        Targets::Classes(labels) => labels.len(),
        Targets::Values(values) => values.len() / M::OUTPUT.max(1),
    };
    assert_eq!(rows, M::BATCH, "one target per sample");
    for row in 0..M::BATCH {
        batch_y.set_row(row, y, row);
    }
    (batch_x, batch_y)
}

/// One `train_step` on `BATCH` samples given as slices ([`batch_of`], so it allocates).
pub fn train_step_on<M: Network>(
    model: &mut M,
    x: &[M::Float],
    y: Targets<'_, M::Float>,
) -> StepStats {
    let (batch_x, batch_y) = batch_of::<M>(x, y);
    model.train_step(&batch_x, &batch_y)
}

/// A model's input stage: `shift` and `scale`, `INPUT` values each ([`Network::input_stage_mut`]).
pub struct InputStage<'a, T> {
    pub shift: &'a mut [T],
    pub scale: &'a mut [T],
}

/// Which [`Targets`] variant a model's `train_step` takes; the driver checks the dataset
/// against it before training, so a step never sees the other one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    Classes,
    Values,
}

pub trait Network: Sized {
    /// Features per sample (flattened input).
    const INPUT: usize;
    /// Units of the output layer.
    const OUTPUT: usize;
    /// Compile-time batch size of `train_step`.
    const BATCH: usize;
    /// Training FLOPs per sample (for GFLOP/s reports).
    const TRAIN_FLOPS_PER_SAMPLE: u64;
    /// Bytes one model needs to train besides the data (its buffers and a full-batch solver's
    /// vectors; `netc check` prints it): the trainer refuses a run that cannot fit.
    const MODEL_BYTES: u64;
    const META: ModelMeta;
    const OUTPUT_KIND: OutputKind;
    /// The targets `train_step` takes: class labels or `OUTPUT` values per sample (what
    /// [`BatchTargets`](Network::BatchTargets) is).
    const TARGET_KIND: TargetKind = <Self::BatchTargets as BatchTargets<Self::Float>>::KIND;

    /// One training batch of inputs, its size in the type: `[[F; INPUT]; BATCH]`.
    type BatchInput: BatchInput<Value = Self::Float>;
    /// One training batch of targets: `[u32; BATCH]` (class labels) or
    /// `[[F; OUTPUT]; BATCH]` (values).
    type BatchTargets: BatchTargets<Self::Float>;

    type Hyper: Hyperparams;
    /// The float type of parameters and arithmetic (`precision f32 | f64`), and of the data,
    /// targets and outputs that cross the boundary: an f64 model is f64 from the file on.
    type Float: Real;

    /// Allocates every buffer the model will ever use and initializes parameters from `seed`
    /// (same seed → bit-identical parameters).
    fn new(hyper: Self::Hyper, seed: u64) -> Self;

    fn hyper(&self) -> &Self::Hyper;
    fn hyper_mut(&mut self) -> &mut Self::Hyper;

    /// One optimizer step on exactly `BATCH` samples and their targets. The sizes are in the
    /// types, so the step checks nothing at run time. Must not allocate.
    fn train_step(&mut self, x: &Self::BatchInput, y: &Self::BatchTargets) -> StepStats;

    /// Inference (no dropout, running batch-norm statistics) on `rows <= BATCH` samples;
    /// writes `rows * OUTPUT` outputs (probabilities for softmax/logistic losses).
    fn predict_batch(&mut self, x: &[Self::Float], rows: usize, out: &mut [Self::Float]);

    /// The learning rate the next step will use (after its schedule).
    fn learning_rate(&self) -> f32;

    /// Optimizer steps taken so far.
    fn steps(&self) -> u64;

    /// Called by the driver after each epoch (epoch-based schedules).
    /// `epoch` is 1-based: the number of epochs completed so far, counted from 1 in each
    /// `fit` call (also after a run stopped early by `max_steps`).
    fn end_epoch(&mut self, epoch: usize);

    /// Parameters and persistent state (batch-norm running statistics) for checkpoints.
    fn tensors(&self) -> Vec<TensorRef<'_, Self::Float>>;

    /// The input stage of a model with `preprocess` (x' = (x − shift)·scale, `INPUT` values
    /// each), where the driver writes the training split's statistics; `None` without one.
    fn input_stage_mut(&mut self) -> Option<InputStage<'_, Self::Float>> {
        None
    }

    // ---- the flat view: full-batch solvers, Hessian-vector products, gradient checks ----

    /// Trainable parameters (every tensor but persistent state such as running statistics).
    const PARAMS: usize;

    /// Copies the trainable parameters into `out` (len `PARAMS`): tensor by tensor in
    /// `tensors()` order, each row-major.
    fn read_params(&self, out: &mut [f64]);
    fn write_params(&mut self, from: &[f64]);

    /// The step's forward, loss and backward passes on the first `rows` (1..=BATCH) samples,
    /// without an update: returns the mean data loss and leaves its gradient for
    /// `read_gradient`. Batch norm uses these rows' statistics and leaves its running averages
    /// alone. `masks` says whether dropout draws new masks or replays the last ones (replay
    /// assumes the same `x` as the call that drew them).
    fn gradient(
        &mut self,
        x: &[Self::Float],
        y: Targets<'_, Self::Float>,
        rows: usize,
        masks: Masks,
    ) -> f64;

    /// Rank's part of a data-parallel step: forward, loss and backward on the `share.rows`
    /// samples in `x`/`y`, which are samples `share.first..` of the step's batch of
    /// `share.batch` (≤ `BATCH`). Leaves in the gradient buffers their part of the gradient of
    /// the whole batch's mean data loss (each sample weighs 1/`share.batch`), so the ranks'
    /// parts add up to the one-process gradient. Dropout draws exactly the masks a
    /// whole-batch step draws for these samples and moves past the whole batch's draws, so
    /// every rank's generator stays where one process's would. Batch norm normalizes by the
    /// whole batch's statistics: each per-feature sum over these rows (Σx, Σ(x−μ)², Σdy,
    /// Σdy·x̂) goes through `sums`, which replaces it with its sum over every rank (a
    /// collective; never called by a model without batch norm).
    fn gradient_share(
        &mut self,
        x: &[Self::Float],
        y: Targets<'_, Self::Float>,
        share: Share,
        sums: &mut dyn FnMut(&mut [Self::Float]),
    ) -> ShareStats;

    /// The optimizer update `train_step` applies (schedules, regularization, max-norm,
    /// optimizer slots, the step counter), from the gradient buffers as they are — after
    /// [`write_gradient`](Self::write_gradient) put the ranks' sum there. `loss` and
    /// `correct` of the result are 0 (the driver has them from the shares).
    fn apply_gradient(&mut self) -> StepStats;

    /// The gradient of the last `gradient` or `train_step` call (data loss only), flat.
    fn read_gradient(&self, out: &mut [f64]);

    /// Sets the gradient buffers from a flat vector (as `read_gradient` lays it out).
    fn write_gradient(&mut self, from: &[f64]);

    /// The regularization loss of the current parameters (λ₂/2·Σw² + λ₁·Σ|w|, biases only
    /// with `include_bias`); adds its gradient into `grad` (len `PARAMS`).
    fn regularization(&self, grad: &mut [f64]) -> f64;
    fn tensors_mut(&mut self) -> Vec<TensorMut<'_, Self::Float>>;

    // ---- run state: what a resumed run needs besides `tensors()` ----

    /// Every optimizer slot (momentum buffers, AdaGrad/RMSprop caches, Adam moments), named
    /// `<tensor>.<slot>` after PyTorch's optimizer state (`layers.0.weight.exp_avg`); empty
    /// for sgd and the full-batch solvers.
    fn optimizer_state(&self) -> Vec<TensorRef<'_, Self::Float>>;
    fn optimizer_state_mut(&mut self) -> Vec<TensorMut<'_, Self::Float>>;

    /// The step, epoch and dropout-generator counters; with `tensors()` and
    /// `optimizer_state()` they are the model's whole state between steps.
    fn counters(&self) -> Counters;
    fn set_counters(&mut self, counters: Counters);
}
