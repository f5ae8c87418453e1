//! The memory one model needs to train, besides its data: what the generated `Model` allocates
//! (parameters with their gradients and optimizer state, activation buffers of one batch) and
//! the full-batch solver's working vectors. `netc check` prints it; codegen hands it to the
//! trainer (`Network::MODEL_BYTES`), which refuses a run that cannot fit before allocating.
//!
//! The model part counts exactly the buffers the generated struct holds (codegen's tests hold
//! the two to the same figure); the solver part is a close estimate of its f64 vectors.

use crate::ir::{BatchSize, LayerKind, Network, OptimizerKind, PrecisionKind};

/// `batch full`: rows per gradient call as the runtime sums the training set (codegen's
/// `FULL_BATCH_CHUNK`, the batch its buffers are sized for).
pub const FULL_BATCH_CHUNK: usize = 256;

/// Bytes, all saturating: a spec near the limits must give a huge figure, never overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    /// Parameters (weights, biases, batch-norm γ, β), each with its gradient and the
    /// optimizer's state slots; batch-norm statistics; the input stage.
    pub parameters: u64,
    /// Buffers of `batch` rows: activations, their gradients, dropout masks, the normalized
    /// input.
    pub activations: u64,
    /// The f64 vectors of L-BFGS (history) or Newton (the Hessian); 0 for minibatch optimizers.
    pub solver: u64,
    /// Copies of the parameters the model keeps: value, gradient, optimizer slots.
    pub copies: u64,
    /// Rows the activation buffers hold.
    pub batch: usize,
    /// Bytes per value: 4 (f32) or 8 (f64).
    pub float_bytes: u64,
}

impl Memory {
    /// One model, ready to train: what `Network::MODEL_BYTES` carries.
    pub fn model(&self) -> u64 {
        self.parameters
            .saturating_add(self.activations)
            .saturating_add(self.solver)
    }
}

/// The optimizer's state slots per parameter, as the generated update keeps them.
pub fn optimizer_slots(kind: &OptimizerKind) -> u64 {
    match kind {
        OptimizerKind::Sgd | OptimizerKind::Lbfgs { .. } | OptimizerKind::Newton { .. } => 0,
        OptimizerKind::Momentum { .. }
        | OptimizerKind::Nesterov { .. }
        | OptimizerKind::Adagrad { .. }
        | OptimizerKind::Rmsprop { .. } => 1,
        OptimizerKind::Adam { .. } => 2,
    }
}

pub fn estimate(net: &Network) -> Memory {
    let float_bytes = match net.train.precision.kind {
        PrecisionKind::F32 => 4,
        PrecisionKind::F64 => 8,
    };
    let batch = match net.train.batch.size {
        BatchSize::Size(n) => n,
        BatchSize::Full => FULL_BATCH_CHUNK,
    };
    let slots = optimizer_slots(&net.train.optimizer.kind);
    let copies = 2 + slots;
    let rows = batch as u64;
    let input = net.model.input.features() as u64;
    let (mut parameters, mut activations) = (0u64, 0u64);
    let mut after_dropout = false;
    for layer in &net.model.layers {
        let (params, outputs) = (layer.params as u64, layer.outputs as u64);
        match layer.kind {
            LayerKind::Dense { .. } => {
                parameters = parameters.saturating_add(params.saturating_mul(copies));
                // Output and its gradient.
                activations = activations.saturating_add(rows.saturating_mul(2 * outputs));
            }
            LayerKind::BatchNorm { .. } => {
                // γ, β with gradients and slots; mean, var, 1/σ, running mean and variance,
                // and the batch's Σdy, Σdy·x̂ (summed over the ranks of a data-parallel step).
                let stats = 7 * outputs;
                parameters = parameters.saturating_add(params.saturating_mul(copies) + stats);
                // Normalized input and output.
                activations = activations.saturating_add(rows.saturating_mul(2 * outputs));
            }
            // A run of dropouts shares one mask of the features they drop.
            LayerKind::Dropout { .. } if !after_dropout => {
                activations = activations.saturating_add(rows.saturating_mul(layer.inputs as u64));
            }
            LayerKind::Dropout { .. } => {}
        }
        after_dropout = matches!(layer.kind, LayerKind::Dropout { .. });
    }
    let preprocess = net
        .data
        .as_ref()
        .is_some_and(|d| d.preprocess.kind != crate::ir::PreprocessKind::None);
    if preprocess {
        // The input stage's shift and scale.
        parameters = parameters.saturating_add(2 * input);
    }
    if preprocess {
        // The input rows normalized (data arrive in the model's float type already).
        activations = activations.saturating_add(rows.saturating_mul(input));
    }
    let n = net.model.total_params as u64;
    let solver_values = match net.train.optimizer.kind {
        // History pairs (s, y) plus the iterate, gradients, trial point and direction.
        OptimizerKind::Lbfgs { history, .. } => n.saturating_mul(2 * history as u64 + 8),
        // The dense Hessian and a dozen vectors beside it.
        OptimizerKind::Newton { .. } => n.saturating_mul(n).saturating_add(12 * n),
        _ => 0,
    };
    Memory {
        parameters: parameters.saturating_mul(float_bytes),
        activations: activations.saturating_mul(float_bytes),
        solver: solver_values.saturating_mul(8),
        copies,
        batch,
        float_bytes,
    }
}

pub use netc_limits::human_bytes;

#[cfg(test)]
mod tests {
    use super::*;

    fn memory_of(src: &str) -> Memory {
        let file = netc_syntax::SourceFile::new("test.net", src);
        estimate(&crate::check(&file).expect("a valid spec"))
    }

    #[test]
    fn parameters_count_their_gradient_and_optimizer_slots() {
        // 4·3 + 3 = 15 params; Adam keeps value, gradient, m, v.
        let adam =
            memory_of("model m { input 4 dense 3 loss softmax } train { batch 2 optimizer adam }");
        assert_eq!(adam.parameters, 15 * 4 * 4);
        // y and dz of the one layer, 2 rows of 3.
        assert_eq!(adam.activations, 2 * 2 * 3 * 4);
        assert_eq!(adam.model(), 240 + 48);
        let sgd = memory_of(
            "model m { input 4 dense 3 loss softmax } train { batch 2 optimizer sgd precision f64 }",
        );
        // f64, value and gradient only; the input rows arrive in f64, no copy of them.
        assert_eq!(sgd.parameters, 15 * 2 * 8);
        assert_eq!(sgd.activations, 2 * 2 * 3 * 8);
    }

    #[test]
    fn dropout_runs_share_a_mask_and_batchnorm_keeps_statistics() {
        let m = memory_of(
            "model m { input 4 dropout 0.1 dropout 0.2 dense 3 batchnorm dense 2 loss softmax }
             train { batch 5 optimizer momentum }",
        );
        let params = (4 * 3 + 3) + (3 * 2 + 2);
        // batchnorm: γ, β ×3 copies, and 7 statistics vectors of 3.
        assert_eq!(m.parameters, (params * 3 + 2 * 3 * 3 + 7 * 3) * 4);
        // one input mask (5×4), y and dz of both dense layers, x̂ and output of batchnorm.
        assert_eq!(
            m.activations,
            (5 * 4 + 5 * 2 * 3 + 5 * 2 * 2 + 5 * 2 * 3) * 4
        );
    }

    /// `input 4 dense 1000000 batch 1000000` passed every check, then aborted allocating
    /// 4 TB: the figure is there to refuse it before allocating.
    #[test]
    fn a_huge_batch_is_terabytes_not_an_overflow() {
        let m = memory_of(
            "model m { input 4 dense 1000000 dense 2 loss softmax } train { batch 1000000 }",
        );
        assert!(m.activations > 8_000_000_000_000, "{}", m.activations);
        assert_eq!(human_bytes(m.model()), "8.0 TB");
    }

    #[test]
    fn solvers_count_their_f64_vectors() {
        let newton = memory_of(
            "model m { input 4 dense 3 loss softmax } train { batch full optimizer newton }",
        );
        assert_eq!(newton.solver, (15 * 15 + 12 * 15) * 8);
        assert_eq!(newton.batch, FULL_BATCH_CHUNK);
    }

    #[test]
    fn bytes_read_in_decimal_units() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_000), "1.0 kB");
        assert_eq!(human_bytes(4_123_456), "4.1 MB");
        assert_eq!(human_bytes(u64::MAX), "18446.7 PB");
    }
}
