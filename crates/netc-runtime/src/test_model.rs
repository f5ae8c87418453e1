//! A hand-written [`Network`] for the driver's tests: multinomial logistic regression
//! (4 inputs, 3 classes, batches of 8, plain SGD), written the way generated code is.

use std::path::PathBuf;

use ndarray::Array2;

use crate::data::Dataset;
use crate::error::Error;
use crate::init::{Init, fill};
use crate::network::{
    Counters, Hyperparams, Masks, ModelMeta, Network, OutputKind, SearchTarget, Share, ShareStats,
    StepStats, Targets, TensorMut, TensorRef,
};
use crate::rng::{Rng, streams};

/// `OTHER` switches the model identity only, to test refusing a foreign checkpoint.
#[derive(Debug)]
pub struct LogRegModel<const OTHER: bool> {
    hyper: LogRegHyper,
    weight: [f32; 12],
    bias: [f32; 3],
    learning_rate: f32,
    steps: u64,
    /// `end_epoch` calls: the learning rate is `learning_rate × epoch_decay^epochs`.
    epochs: u64,
    probabilities: [f32; 24],
    /// The gradient of the last `train_step` or `gradient` call.
    weight_grad: [f32; 12],
    bias_grad: [f32; 3],
    /// The `epoch` argument of the last `end_epoch` call.
    pub last_end_epoch: Option<usize>,
    /// Allocations seen between two `train_step` calls of the same epoch (should stay 0).
    pub allocations_between_steps: usize,
    /// This thread's allocation count at the last step, while inside an epoch.
    allocations_at_last_step: Option<usize>,
}

pub type LogReg = LogRegModel<false>;
pub type OtherLogReg = LogRegModel<true>;

#[derive(Clone, Debug, PartialEq)]
pub struct LogRegHyper {
    pub learning_rate: f64,
    /// Standard deviation of the initial weights (0: all zeros).
    pub init_std: f64,
    /// The learning rate is multiplied by this after every epoch.
    pub epoch_decay: f64,
}

impl Default for LogRegHyper {
    fn default() -> Self {
        LogRegHyper {
            learning_rate: 0.5,
            init_std: 0.1,
            epoch_decay: 1.0,
        }
    }
}

impl LogRegHyper {
    pub fn zero_init() -> Self {
        LogRegHyper {
            init_std: 0.0,
            ..LogRegHyper::default()
        }
    }
}

impl Hyperparams for LogRegHyper {
    fn names() -> &'static [&'static str] {
        &["learning_rate", "init_std", "epoch_decay"]
    }

    fn get(&self, name: &str) -> Option<f64> {
        match name {
            "learning_rate" => Some(self.learning_rate),
            "init_std" => Some(self.init_std),
            "epoch_decay" => Some(self.epoch_decay),
            _ => None,
        }
    }

    fn set(&mut self, name: &str, value: f64) -> Result<(), Error> {
        let slot = match name {
            "learning_rate" => &mut self.learning_rate,
            "init_std" => &mut self.init_std,
            "epoch_decay" => &mut self.epoch_decay,
            _ => return Err(Error::Usage(format!("unknown hyperparameter `{name}`"))),
        };
        if !(value >= 0.0 && value.is_finite()) {
            return Err(Error::Usage(format!(
                "`{name}` must be a finite number ≥ 0, not {value}"
            )));
        }
        *slot = value;
        Ok(())
    }

    fn set_searched(&mut self, target: SearchTarget, value: f64) -> Result<(), Error> {
        match target {
            SearchTarget::LearningRate => self.set("learning_rate", value),
            other => Err(Error::Usage(format!("no `{}` to search", other.name()))),
        }
    }
}

impl<const OTHER: bool> Network for LogRegModel<OTHER> {
    const INPUT: usize = 4;
    const OUTPUT: usize = 3;
    const BATCH: usize = 8;
    const TRAIN_FLOPS_PER_SAMPLE: u64 = 6 * 12;
    // 15 f32 parameters and their gradients, 3 outputs for 8 rows.
    const MODEL_BYTES: u64 = (2 * 15 + 8 * 3) * 4;
    const META: ModelMeta = if OTHER {
        ModelMeta {
            name: "other",
            spec_hash: "0badc0de",
            netc_version: "0.1.0",
        }
    } else {
        ModelMeta {
            name: "logreg",
            spec_hash: "5eed1234",
            netc_version: "0.1.0",
        }
    };
    const OUTPUT_KIND: OutputKind = OutputKind::Softmax;
    type BatchInput = [[f32; 4]; 8];
    type BatchTargets = [u32; 8];
    type Hyper = LogRegHyper;
    type Float = f32;

    fn new(hyper: LogRegHyper, seed: u64) -> Self {
        let mut weight = [0.0; 12];
        let mut rng = Rng::new(seed, streams::INIT);
        fill(
            &mut weight,
            Init::Normal {
                std: hyper.init_std as f32,
            },
            4,
            3,
            &mut rng,
        );
        let learning_rate = hyper.learning_rate as f32;
        LogRegModel {
            hyper,
            weight,
            bias: [0.0; 3],
            learning_rate,
            steps: 0,
            epochs: 0,
            probabilities: [0.0; 24],
            weight_grad: [0.0; 12],
            bias_grad: [0.0; 3],
            last_end_epoch: None,
            allocations_between_steps: 0,
            allocations_at_last_step: None,
        }
    }

    fn hyper(&self) -> &LogRegHyper {
        &self.hyper
    }

    fn hyper_mut(&mut self) -> &mut LogRegHyper {
        &mut self.hyper
    }

    fn train_step(&mut self, x: &[[f32; 4]; 8], labels: &[u32; 8]) -> StepStats {
        let (x, labels) = (x.as_flattened(), &labels[..]);
        let allocations = allocation_count::on_this_thread();
        if let Some(previous) = self.allocations_at_last_step {
            self.allocations_between_steps += allocations - previous;
        }
        self.allocations_at_last_step = Some(allocations);
        let stats = self.loss_and_gradient(x, labels, 8, 8);
        self.apply_gradient();
        stats
    }

    fn predict_batch(&mut self, x: &[f32], rows: usize, out: &mut [f32]) {
        self.forward(x, rows, out);
    }

    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn steps(&self) -> u64 {
        self.steps
    }

    fn end_epoch(&mut self, epoch: usize) {
        self.learning_rate *= self.hyper.epoch_decay as f32;
        self.epochs += 1;
        self.last_end_epoch = Some(epoch);
        self.allocations_at_last_step = None;
    }

    fn tensors(&self) -> Vec<TensorRef<'_>> {
        vec![
            TensorRef {
                name: "layers.0.weight".into(),
                shape: vec![3, 4],
                data: &self.weight,
            },
            TensorRef {
                name: "layers.0.bias".into(),
                shape: vec![3],
                data: &self.bias,
            },
        ]
    }

    fn tensors_mut(&mut self) -> Vec<TensorMut<'_>> {
        vec![
            TensorMut {
                name: "layers.0.weight".into(),
                shape: vec![3, 4],
                data: &mut self.weight,
            },
            TensorMut {
                name: "layers.0.bias".into(),
                shape: vec![3],
                data: &mut self.bias,
            },
        ]
    }

    fn optimizer_state(&self) -> Vec<TensorRef<'_>> {
        Vec::new()
    }

    fn optimizer_state_mut(&mut self) -> Vec<TensorMut<'_>> {
        Vec::new()
    }

    fn counters(&self) -> Counters {
        Counters {
            steps: self.steps,
            epochs: self.epochs,
            dropout: 0,
        }
    }

    fn set_counters(&mut self, counters: Counters) {
        self.steps = counters.steps;
        self.epochs = counters.epochs;
        // The same f32 products as `end_epoch`, so the rate is bit-identical.
        self.learning_rate = self.hyper.learning_rate as f32;
        for _ in 0..counters.epochs {
            self.learning_rate *= self.hyper.epoch_decay as f32;
        }
    }

    const PARAMS: usize = 15;

    fn read_params(&self, out: &mut [f64]) {
        for (out, &p) in out.iter_mut().zip(self.weight.iter().chain(&self.bias)) {
            *out = f64::from(p);
        }
    }

    fn write_params(&mut self, from: &[f64]) {
        for (p, &value) in self.weight.iter_mut().chain(&mut self.bias).zip(from) {
            *p = value as f32;
        }
    }

    fn gradient(&mut self, x: &[f32], y: Targets<'_>, rows: usize, _: Masks) -> f64 {
        f64::from(self.loss_and_gradient(x, class_labels(y), rows, rows).loss)
    }

    fn gradient_share(
        &mut self,
        x: &[f32],
        y: Targets<'_>,
        share: Share,
        _: &mut dyn FnMut(&mut [f32]),
    ) -> ShareStats {
        let stats = self.loss_and_gradient(x, class_labels(y), share.rows, share.batch);
        ShareStats {
            loss_sum: f64::from(stats.loss) * share.batch as f64,
            correct: stats.correct,
        }
    }

    fn apply_gradient(&mut self) -> StepStats {
        for (w, g) in self.weight.iter_mut().zip(self.weight_grad) {
            *w -= self.learning_rate * g;
        }
        for (b, g) in self.bias.iter_mut().zip(self.bias_grad) {
            *b -= self.learning_rate * g;
        }
        self.steps += 1;
        StepStats::default()
    }

    fn read_gradient(&self, out: &mut [f64]) {
        let gradient = self.weight_grad.iter().chain(&self.bias_grad);
        for (out, &g) in out.iter_mut().zip(gradient) {
            *out = f64::from(g);
        }
    }

    fn write_gradient(&mut self, from: &[f64]) {
        let gradient = self.weight_grad.iter_mut().chain(&mut self.bias_grad);
        for (g, &value) in gradient.zip(from) {
            *g = value as f32;
        }
    }

    fn regularization(&self, _: &mut [f64]) -> f64 {
        0.0
    }
}

impl<const OTHER: bool> LogRegModel<OTHER> {
    /// Loss, correct count and (into `weight_grad`, `bias_grad`) the gradient of the loss
    /// over the first `rows` samples, loss and gradient divided by `divisor` (`rows` for
    /// their mean; a data-parallel share's whole batch for its part of that batch's mean).
    fn loss_and_gradient(
        &mut self,
        x: &[f32],
        labels: &[u32],
        rows: usize,
        divisor: usize,
    ) -> StepStats {
        let mut probabilities = [0.0; 24];
        self.forward(x, rows, &mut probabilities);
        self.probabilities = probabilities;
        let mut stats = StepStats::default();
        self.weight_grad = [0.0; 12];
        self.bias_grad = [0.0; 3];
        let scale = divisor as f32;
        for (row, &label) in labels[..rows].iter().enumerate() {
            let p = &self.probabilities[row * 3..row * 3 + 3];
            // The floor keeps a confident mistake finite, but NaN must reach the driver.
            let p_label = p[label as usize];
            stats.loss -= if p_label.is_nan() {
                p_label
            } else {
                p_label.max(1e-12).ln()
            } / scale;
            stats.correct += u32::from(crate::evaluate::arg_max(p) == label as usize);
            for (class, &p_class) in p.iter().enumerate() {
                let delta = (p_class - if class == label as usize { 1.0 } else { 0.0 }) / scale;
                self.bias_grad[class] += delta;
                for feature in 0..4 {
                    self.weight_grad[class * 4 + feature] += delta * x[row * 4 + feature];
                }
            }
        }
        stats
    }

    /// Softmax probabilities of `rows` samples.
    fn forward(&self, x: &[f32], rows: usize, out: &mut [f32]) {
        for row in 0..rows {
            let logits: [f32; 3] = std::array::from_fn(|class| {
                self.bias[class]
                    + (0..4)
                        .map(|f| self.weight[class * 4 + f] * x[row * 4 + f])
                        .sum::<f32>()
            });
            let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exp = logits.map(|l| (l - max).exp());
            let total: f32 = exp.iter().sum();
            for class in 0..3 {
                out[row * 3 + class] = exp[class] / total;
            }
        }
    }
}

/// A model whose metrics follow a script, for early stopping and monitoring: every step of
/// epoch e (1-based) reports the training loss `train_losses[e-1]` and gᵀg = k² at its k-th
/// step (k = 1, 2, …); after epoch e it predicts class 0 with probability
/// exp(−`val_losses[e-1]`), so on samples labelled 0 the validation loss is (up to rounding)
/// `val_losses[e-1]`. Scripts past their end repeat their last value. Its tensors change at
/// every step into values no other step produces.
#[derive(Debug)]
pub struct Scripted {
    hyper: ScriptedHyper,
    epochs_done: usize,
    step_in_epoch: u32,
    steps: u64,
    state: [f32; 3],
    /// An optimizer slot: a running mean of `state`², as RMSprop keeps one (a huge but finite
    /// `state` overflows it while `state` stays finite).
    square_avg: [f32; 3],
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScriptedHyper {
    pub train_losses: Vec<f32>,
    pub val_losses: Vec<f32>,
}

impl Hyperparams for ScriptedHyper {
    fn names() -> &'static [&'static str] {
        &[]
    }

    fn get(&self, _: &str) -> Option<f64> {
        None
    }

    fn set(&mut self, name: &str, _: f64) -> Result<(), Error> {
        Err(Error::Usage(format!("unknown hyperparameter `{name}`")))
    }

    fn set_searched(&mut self, target: SearchTarget, _: f64) -> Result<(), Error> {
        Err(Error::Usage(format!("no `{}` to search", target.name())))
    }
}

/// The script's value for the 0-based `index`, the last one past the end.
fn scripted(values: &[f32], index: usize) -> f32 {
    values.get(index).or(values.last()).copied().unwrap_or(0.0)
}

impl Network for Scripted {
    const INPUT: usize = 1;
    const OUTPUT: usize = 2;
    const BATCH: usize = 2;
    const TRAIN_FLOPS_PER_SAMPLE: u64 = 1;
    const MODEL_BYTES: u64 = 0;
    const META: ModelMeta = ModelMeta {
        name: "scripted",
        spec_hash: "5c21e7ed",
        netc_version: "0.1.0",
    };
    const OUTPUT_KIND: OutputKind = OutputKind::Softmax;
    type BatchInput = [[f32; 1]; 2];
    type BatchTargets = [u32; 2];
    type Hyper = ScriptedHyper;
    type Float = f32;

    fn new(hyper: ScriptedHyper, seed: u64) -> Self {
        Scripted {
            hyper,
            epochs_done: 0,
            step_in_epoch: 0,
            steps: 0,
            state: [seed as f32, 0.25, 1.0],
            square_avg: [0.0; 3],
        }
    }

    fn hyper(&self) -> &ScriptedHyper {
        &self.hyper
    }

    fn hyper_mut(&mut self) -> &mut ScriptedHyper {
        &mut self.hyper
    }

    fn train_step(&mut self, _: &[[f32; 1]; 2], _: &[u32; 2]) -> StepStats {
        self.steps += 1;
        self.step_in_epoch += 1;
        let k = self.steps as f32;
        self.state[0] += 1.0;
        self.state[1] = (self.state[1] * 1.7 + k).sin();
        self.state[2] *= 1.0 + 1.0 / (k + 2.0);
        for (avg, v) in self.square_avg.iter_mut().zip(self.state) {
            *avg = 0.9 * *avg + 0.1 * v * v;
        }
        StepStats {
            loss: scripted(&self.hyper.train_losses, self.epochs_done),
            correct: 0,
            reg_loss: 0.0,
            grad_sq: (self.step_in_epoch * self.step_in_epoch) as f32,
        }
    }

    fn predict_batch(&mut self, _: &[f32], rows: usize, out: &mut [f32]) {
        let loss = scripted(&self.hyper.val_losses, self.epochs_done.saturating_sub(1));
        let p = (-loss).exp();
        for row in out[..rows * 2].chunks_exact_mut(2) {
            row.copy_from_slice(&[p, 1.0 - p]);
        }
    }

    fn learning_rate(&self) -> f32 {
        0.1
    }

    fn steps(&self) -> u64 {
        self.steps
    }

    fn end_epoch(&mut self, epoch: usize) {
        self.epochs_done = epoch;
        self.step_in_epoch = 0;
    }

    fn tensors(&self) -> Vec<TensorRef<'_>> {
        vec![TensorRef {
            name: "state".into(),
            shape: vec![3],
            data: &self.state,
        }]
    }

    fn tensors_mut(&mut self) -> Vec<TensorMut<'_>> {
        vec![TensorMut {
            name: "state".into(),
            shape: vec![3],
            data: &mut self.state,
        }]
    }

    fn optimizer_state(&self) -> Vec<TensorRef<'_>> {
        vec![TensorRef {
            name: "state.square_avg".into(),
            shape: vec![3],
            data: &self.square_avg,
        }]
    }

    fn optimizer_state_mut(&mut self) -> Vec<TensorMut<'_>> {
        vec![TensorMut {
            name: "state.square_avg".into(),
            shape: vec![3],
            data: &mut self.square_avg,
        }]
    }

    /// `Scripted` has no dropout: its step within the epoch rides in that counter.
    fn counters(&self) -> Counters {
        Counters {
            steps: self.steps,
            epochs: self.epochs_done as u64,
            dropout: self.step_in_epoch as u64,
        }
    }

    fn set_counters(&mut self, counters: Counters) {
        self.steps = counters.steps;
        self.epochs_done = counters.epochs as usize;
        self.step_in_epoch = counters.dropout as _;
    }

    const PARAMS: usize = 3;

    fn read_params(&self, out: &mut [f64]) {
        for (out, &p) in out.iter_mut().zip(&self.state) {
            *out = f64::from(p);
        }
    }

    fn write_params(&mut self, from: &[f64]) {
        for (p, &value) in self.state.iter_mut().zip(from) {
            *p = value as f32;
        }
    }

    /// The script has no loss surface: a constant loss, a zero gradient.
    fn gradient(&mut self, _: &[f32], _: Targets<'_>, _: usize, _: Masks) -> f64 {
        f64::from(scripted(&self.hyper.train_losses, self.epochs_done))
    }

    /// The script's loss for each of the share's samples.
    fn gradient_share(
        &mut self,
        _: &[f32],
        _: Targets<'_>,
        share: Share,
        _: &mut dyn FnMut(&mut [f32]),
    ) -> ShareStats {
        let loss = f64::from(scripted(&self.hyper.train_losses, self.epochs_done));
        ShareStats {
            loss_sum: loss * share.rows as f64,
            correct: 0,
        }
    }

    /// `train_step`'s state change (the script ignores the data and the gradient).
    fn apply_gradient(&mut self) -> StepStats {
        let stats = self.train_step(&[[0.0]; 2], &[0; 2]);
        StepStats { loss: 0.0, ..stats }
    }

    fn read_gradient(&self, out: &mut [f64]) {
        out.fill(0.0);
    }

    /// The gradient is always zero: nothing to hold.
    fn write_gradient(&mut self, _: &[f64]) {}

    fn regularization(&self, _: &mut [f64]) -> f64 {
        0.0
    }
}

/// Splits for [`Scripted`]: `train` samples (3 steps per epoch for 6) and 4 validation
/// samples, every label 0.
pub fn scripted_splits(train: usize) -> crate::data::Splits {
    let zeros = |n| Dataset::new(Array2::zeros((n, 1)), vec![0; n]).expect("one label per row");
    crate::data::Splits {
        train: zeros(train),
        validation: Some(zeros(4)),
        test: None,
    }
}

/// `n` samples of 3 well-separated classes: feature `label` is near 2, the others near 0,
/// feature 3 is noise. Labels cycle 0, 1, 2 in file order.
pub fn separable_dataset(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed, 99);
    let labels: Vec<u32> = (0..n).map(|i| (i % 3) as u32).collect();
    let x = Array2::from_shape_fn((n, 4), |(row, feature)| {
        let center = if feature == row % 3 { 2.0 } else { 0.0 };
        center + rng.uniform() - 0.5
    });
    Dataset::new(x, labels).expect("one label per row")
}

/// The class labels of a step: the test models train on labels only.
fn class_labels(y: Targets<'_>) -> &[u32] {
    match y {
        Targets::Classes(labels) => labels,
        Targets::Values(_) => panic!("the test models train on class labels"),
    }
}

/// A fresh path in the temp directory, unique to this test process.
pub fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netc-runtime-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir.join(name)
}

/// Counts heap allocations per thread (tests run in parallel threads), to check that the
/// driver's step loop never allocates.
// Counting only in this crate's own tests: a global allocator in a library would replace
// every dependent test binary's. Elsewhere (feature `test-models`) nothing is counted.
#[cfg(not(test))]
pub mod allocation_count {
    pub fn on_this_thread() -> usize {
        0
    }
}

#[cfg(test)]
pub mod allocation_count {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    }

    pub fn on_this_thread() -> usize {
        ALLOCATIONS.with(Cell::get)
    }

    struct Counting;

    // SAFETY: forwards every call to the system allocator unchanged; only counts.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // `try_with`: the thread-local may already be gone while a thread shuts down.
            let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
            // SAFETY: same contract as the caller's.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: same contract as the caller's.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
            // SAFETY: same contract as the caller's.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static COUNTING: Counting = Counting;
}
