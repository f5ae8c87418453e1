//! A hand-written [`Network`] for the driver's tests: multinomial logistic regression
//! (4 inputs, 3 classes, batches of 8, plain SGD), written the way generated code is.

use std::path::PathBuf;

use ndarray::Array2;

use crate::data::Dataset;
use crate::error::Error;
use crate::init::{Init, fill};
use crate::network::{
    Hyperparams, ModelMeta, Network, OutputKind, StepStats, TensorMut, TensorRef,
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
    probabilities: [f32; 24],
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
}

impl<const OTHER: bool> Network for LogRegModel<OTHER> {
    const INPUT: usize = 4;
    const OUTPUT: usize = 3;
    const BATCH: usize = 8;
    const TRAIN_FLOPS_PER_SAMPLE: u64 = 6 * 12;
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
    type Hyper = LogRegHyper;

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
            probabilities: [0.0; 24],
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

    fn train_step(&mut self, x: &[f32], labels: &[u32]) -> StepStats {
        let allocations = allocation_count::on_this_thread();
        if let Some(previous) = self.allocations_at_last_step {
            self.allocations_between_steps += allocations - previous;
        }
        self.allocations_at_last_step = Some(allocations);
        let mut probabilities = [0.0; 24];
        self.forward(x, 8, &mut probabilities);
        self.probabilities = probabilities;
        let mut stats = StepStats::default();
        let mut weight_grad = [0.0f32; 12];
        let mut bias_grad = [0.0f32; 3];
        for (row, &label) in labels.iter().enumerate() {
            let p = &self.probabilities[row * 3..row * 3 + 3];
            // The floor keeps a confident mistake finite, but NaN must reach the driver.
            let p_label = p[label as usize];
            stats.loss -= if p_label.is_nan() {
                p_label
            } else {
                p_label.max(1e-12).ln()
            } / 8.0;
            stats.correct += u32::from(crate::evaluate::arg_max(p) == label as usize);
            for class in 0..3 {
                let delta = (p[class] - if class == label as usize { 1.0 } else { 0.0 }) / 8.0;
                bias_grad[class] += delta;
                for feature in 0..4 {
                    weight_grad[class * 4 + feature] += delta * x[row * 4 + feature];
                }
            }
        }
        for (w, g) in self.weight.iter_mut().zip(weight_grad) {
            *w -= self.learning_rate * g;
        }
        for (b, g) in self.bias.iter_mut().zip(bias_grad) {
            *b -= self.learning_rate * g;
        }
        self.steps += 1;
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
}

impl<const OTHER: bool> LogRegModel<OTHER> {
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

/// A fresh path in the temp directory, unique to this test process.
pub fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netc-runtime-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir is writable");
    dir.join(name)
}

/// Counts heap allocations per thread (tests run in parallel threads), to check that the
/// driver's step loop never allocates.
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
