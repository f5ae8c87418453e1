//! The checked, fully resolved IR: the contract between the front end and codegen.
//!
//! Invariants (the checker guarantees them; codegen relies on them without re-checking):
//! - every default is filled in: no `Option` here means "use the default", only "absent";
//! - every shape, parameter count and FLOP count is known;
//! - every name is valid as a Rust identifier (`[a-z_][a-z0-9_]*`, not a keyword);
//! - paths are plain strings, never spliced into code except as string literals.
//!
//! Spans point back into the `.net` text so later stages (codegen's "not yet supported")
//! can still blame the right construct. Dumps (`summary.rs`) never print spans.

use netc_syntax::Span;

/// One whole spec: the model and how to train it.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub model: Model,
    /// Absent when the spec has no `data` block (e.g. a macro user who feeds data in code).
    pub data: Option<Data>,
    /// Always present: a spec without a `train` block gets every default.
    pub train: Train,
    pub search: Option<Search>,
    pub ensemble: Option<Ensemble>,
}

// ---------------------------------------------------------------- model

#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Valid Rust identifier (checked).
    pub name: String,
    pub name_span: Span,
    pub input: Input,
    /// In order, input to output. The last dense layer is the output layer.
    pub layers: Vec<Layer>,
    pub loss: Loss,
    /// Sum of `layers[i].params`.
    pub total_params: usize,
    /// Forward FLOPs per sample (2·in·out per dense layer plus elementwise work).
    pub forward_flops: u64,
    /// FLOPs of one training step per sample: forward + backward (weights and inputs,
    /// except the input gradient of the first layer), the convention of the peer benchmarks.
    pub train_flops: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    /// `input 28x28x1` → [28, 28, 1] (height, width, channels); `input 784` → [784].
    pub dims: Vec<usize>,
    pub span: Span,
}

impl Input {
    pub fn features(&self) -> usize {
        self.dims.iter().product()
    }
    /// Image input is written with three dimensions (height x width x channels).
    pub fn is_image(&self) -> bool {
        self.dims.len() == 3
    }
    /// (height, width, channels): the written dimensions, a flat input of n features being
    /// n × 1 × 1 (one channel).
    pub fn shape(&self) -> (usize, usize, usize) {
        match self.dims[..] {
            [h, w, c] => (h, w, c),
            [h, w] => (h, w, 1),
            _ => (self.features(), 1, 1),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    pub kind: LayerKind,
    /// Features in (flattened).
    pub inputs: usize,
    /// Features out (flattened).
    pub outputs: usize,
    /// Trainable parameters.
    pub params: usize,
    /// Forward FLOPs per sample.
    pub flops: u64,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LayerKind {
    /// Fully connected: y = act(W·x + b), W stored [outputs, inputs].
    Dense {
        units: usize,
        activation: Activation,
        init: Init,
        bias_init: Init,
        activation_span: Span,
    },
    /// Inverted dropout with DROP probability `p` in [0, 1).
    Dropout { p: f64 },
    /// Batch normalization over the batch axis, one (γ, β) per feature.
    BatchNorm { momentum: f64, eps: f64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Identity,
    Relu,
    Tanh,
    Sigmoid,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    Zeros,
    /// N(0, std²).
    Normal {
        std: f64,
    },
    /// U(-a, a).
    Uniform {
        a: f64,
    },
    /// Var(w) = 1/fan_in (the lecture's "xavier").
    Xavier,
    /// Var(w) = 2/(fan_in + fan_out) (Glorot & Bengio).
    Glorot,
    /// Var(w) = 2/fan_in.
    He,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    /// Softmax cross-entropy, one label per sample.
    Softmax,
    /// Logistic one-vs-all (binary cross-entropy per output unit; multi-label capable).
    Logistic,
    /// Mean squared error (regression).
    Mse,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Loss {
    pub kind: LossKind,
    pub span: Span,
}

// ---------------------------------------------------------------- data

#[derive(Clone, Debug, PartialEq)]
pub struct Data {
    pub train: Source,
    pub test: Option<Source>,
    pub validation: Validation,
    /// Multiplies every raw input value (`scale 1/255`). 1.0 when not written.
    pub scale: f64,
    pub scale_span: Option<Span>,
    pub preprocess: Preprocess,
    pub augment: Option<Augment>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SourceKind {
    /// IDX images and labels files, gzipped (`.gz`) or raw.
    Idx { images: String, labels: String },
    /// CSV with one sample per row; the label column is an index (negative counts from the end).
    Csv {
        path: String,
        label_column: i64,
        header: bool,
        /// `targets=first..last`: these columns are value targets (mse regression values or
        /// multi-label 0/1 indicators) and `label_column` is unused; `None`: one class label.
        targets: Option<TargetColumns>,
    },
}

/// An inclusive run of CSV columns, both counted from the start (0, 1, …) or both from the
/// end (−1 is the last column), `first <= last` (checked): its width is known without the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetColumns {
    pub first: i64,
    pub last: i64,
}

impl TargetColumns {
    /// Columns in the run.
    pub fn width(&self) -> usize {
        (self.last - self.first + 1) as usize
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub kind: SourceKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValidationSize {
    None,
    Count(usize),
    /// Fraction in (0, 1): `10%` → 0.1.
    Fraction(f64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Validation {
    pub size: ValidationSize,
    pub span: Option<Span>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreprocessKind {
    None,
    /// Subtract the training set's mean image.
    MeanImage,
    /// Subtract the per-channel mean.
    ChannelMean,
    /// Per-feature zero mean, unit variance.
    Standardize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Preprocess {
    pub kind: PreprocessKind,
    pub span: Option<Span>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Augment {
    /// Random translation by up to ± this many pixels (0 when not written: none).
    pub shift: u32,
    /// Random rotation by up to ± this many degrees (0 when not written: none).
    pub rotate_deg: f64,
    /// Random zoom factor range ((1, 1) when not written: none).
    pub scale: (f64, f64),
    /// `None`: no flips.
    pub flip: Option<Flip>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flip {
    Horizontal,
    Vertical,
    Both,
}

// ---------------------------------------------------------------- train

#[derive(Clone, Debug, PartialEq)]
pub struct Train {
    pub epochs: usize,
    pub batch: Batch,
    pub sampling: Sampling,
    pub optimizer: Optimizer,
    pub learning_rate: LearningRate,
    pub regularize: Regularize,
    pub early_stopping: Option<EarlyStopping>,
    pub monitor: Monitor,
    pub precision: Precision,
    pub seed: u64,
    /// `save_every N steps|epochs`: how often the trainer saves the whole run state (`None`:
    /// only on SIGINT/SIGTERM).
    pub save_every: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchSize {
    Size(usize),
    /// The whole training set every step.
    Full,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub size: BatchSize,
    pub span: Option<Span>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SamplingKind {
    /// A fresh permutation every epoch.
    Shuffle,
    /// Each batch draws indices uniformly with replacement.
    WithReplacement,
    /// In file order.
    Sequential,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sampling {
    pub kind: SamplingKind,
    pub span: Option<Span>,
}

/// A momentum coefficient that may ramp linearly: `mu=0.5->0.99 over 10 epochs`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MomentumSchedule {
    pub start: f64,
    pub end: f64,
    /// `None` when constant (`start == end`).
    pub over: Option<Duration>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimizerKind {
    Sgd,
    Momentum { mu: MomentumSchedule },
    Nesterov { mu: MomentumSchedule },
    Adagrad { eps: f64 },
    Rmsprop { decay: f64, eps: f64 },
    Adam { beta1: f64, beta2: f64, eps: f64 },
    Lbfgs { history: usize, tolerance: f64 },
    Newton { damping: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer {
    pub kind: OptimizerKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duration {
    Steps(u64),
    Epochs(u64),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScheduleKind {
    Constant,
    /// η_k = (1−α)η₀ + α·to with α = k/until, then constant `to`.
    Linear {
        to: f64,
        until: Duration,
    },
    /// η = η₀·gamma^floor(k/every).
    Step {
        gamma: f64,
        every: Duration,
    },
    /// η = η₀·gamma^k, k counted in `per` units.
    Exponential {
        gamma: f64,
        per: Duration,
    },
    /// η = min + ½(η₀−min)(1 + cos(π·k/period)).
    Cosine {
        min: f64,
        period: Duration,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct LearningRate {
    pub base: f64,
    pub schedule: ScheduleKind,
    pub span: Option<Span>,
    pub schedule_span: Option<Span>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Regularize {
    /// λ of `l2(λ)`: loss += λ/2·Σw², gradient += λ·w.
    pub l2: Option<f64>,
    /// λ of `l1(λ)`: loss += λ·Σ|w|, gradient += λ·sign(w).
    pub l1: Option<f64>,
    /// c of `maxnorm(c)`: each unit's incoming weight vector rescaled to norm ≤ c after a step.
    pub maxnorm: Option<f64>,
    /// Biases are never regularized unless `include_bias` is written.
    pub include_bias: bool,
    /// Span of the whole `regularize` item, if written.
    pub span: Option<Span>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    ValLoss,
    ValAccuracy,
    TrainLoss,
    TrainAccuracy,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EarlyStopping {
    pub patience: usize,
    pub monitor: Metric,
    pub min_delta: f64,
    pub restore_best: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Monitor {
    /// Log gᵀg every step.
    pub grad_norm: bool,
    /// Log gᵀHg every `every` steps.
    pub curvature: bool,
    pub every: Duration,
    pub span: Option<Span>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrecisionKind {
    F32,
    F64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Precision {
    pub kind: PrecisionKind,
    pub span: Option<Span>,
}

// ---------------------------------------------------------------- search, ensemble

#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    pub trials: usize,
    pub params: Vec<SearchParam>,
    /// Coarse stage: every trial trains this many epochs.
    pub coarse_epochs: usize,
    /// Fine stage: the best `fine_top` trials are retrained for `fine_epochs`.
    pub fine_top: usize,
    pub fine_epochs: usize,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hyperparameter {
    LearningRate,
    L2,
    L1,
    MaxNorm,
    /// Every dropout layer's p.
    Dropout,
    /// The optimizer's mu / decay / beta1.
    Momentum,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Distribution {
    /// exp(U(ln lo, ln hi)).
    LogUniform {
        lo: f64,
        hi: f64,
    },
    Uniform {
        lo: f64,
        hi: f64,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct SearchParam {
    pub target: Hyperparameter,
    pub distribution: Distribution,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vote {
    Majority,
    Average,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ensemble {
    /// Bagging: this many models, each on its own bootstrap sample.
    pub models: usize,
    pub vote: Vote,
    pub span: Span,
}
