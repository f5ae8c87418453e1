//! Data-parallel steps (`mpirun -n N <trainer> train`): every rank gathers the same batch (the
//! same sample order and augmentation from the seed), computes the gradient of its contiguous
//! share of it ([`Share::of`]), and the ranks add their parts up with a fixed-order sum
//! ([`OrderedSum`]), so every rank applies the same update to the same weights: the model is
//! the one-process model up to the order of the gradient's additions. Batch norm is
//! synchronized: its per-feature sums (Σx, Σ(x−μ)² forward; Σdy, Σdy·x̂ backward) are summed
//! over the ranks the same way, so it normalizes by the whole batch's statistics.

use crate::cluster::{self, OrderedSum};
use crate::error::Error;
use crate::network::{BatchInput, BatchTargets, Network, Share, StepStats};
use crate::scalar::Scalar;

/// One rank's part in a data-parallel run: its share and the buffers of the sum.
pub(crate) struct SharedStep {
    share: Share,
    /// The gradient (`PARAMS` values), then the share's loss sum, its correct count and
    /// whether a signal asked this rank to stop: one sum carries all four.
    sums: Vec<f64>,
    reduce: OrderedSum,
    /// A batch norm's per-feature sum, widened to f64 for the sum over the ranks.
    statistics: Vec<f64>,
}

/// What follows the gradient in [`SharedStep::sums`].
const LOSS: usize = 0;
const CORRECT: usize = 1;
const STOP: usize = 2;

impl SharedStep {
    /// This rank's part, or why the model cannot be trained data-parallel over the ranks.
    pub(crate) fn new<M: Network>() -> Result<SharedStep, Error> {
        let ranks = cluster::size();
        if M::BATCH < ranks {
            return Err(Error::Usage(format!(
                "batch {} cannot be split over {ranks} MPI ranks: every rank needs at least one \
                 sample of each step; use at most {} ranks or a larger batch",
                M::BATCH,
                M::BATCH
            )));
        }
        Ok(SharedStep {
            share: Share::of(M::BATCH, cluster::rank(), ranks),
            sums: vec![0.0; M::PARAMS + 3],
            reduce: OrderedSum::new(M::PARAMS + 3),
            // A batch norm's features are fewer than its γ and β, which are parameters.
            statistics: vec![0.0; M::PARAMS],
        })
    }

    /// One optimizer step on the whole batch `x`, `y` (every rank passes the same one): this
    /// rank's share of the gradient, the sum over the ranks, the update. Returns the step's
    /// statistics (loss and accuracy of the whole batch) and whether a signal reached any
    /// rank before the sum — then every rank stops after this same step.
    pub(crate) fn step<M: Network>(
        &mut self,
        model: &mut M,
        x: &M::BatchInput,
        y: &M::BatchTargets,
        stop_requested: bool,
    ) -> (StepStats, bool) {
        let Share { first, rows, batch } = self.share;
        let x = &x.flat()[first * M::INPUT..(first + rows) * M::INPUT];
        let y = y.as_targets().rows(first..first + rows, M::OUTPUT);
        let Self {
            share,
            sums,
            reduce,
            statistics,
        } = self;
        // Batch norm's sums over the whole batch: each one widened, summed over the ranks in
        // rank order, narrowed back (f32 statistics round once, from the f64 total).
        let mut sum_over_ranks = |values: &mut [M::Float]| {
            let wide = &mut statistics[..values.len()];
            for (w, v) in wide.iter_mut().zip(values.iter()) {
                *w = v.to_f64();
            }
            reduce.sum(wide);
            for (v, w) in values.iter_mut().zip(wide.iter()) {
                *v = M::Float::from_f64(*w);
            }
        };
        let part = model.gradient_share(x, y, *share, &mut sum_over_ranks);
        let (gradient, tail) = sums.split_at_mut(M::PARAMS);
        model.read_gradient(gradient);
        tail[LOSS] = part.loss_sum;
        tail[CORRECT] = f64::from(part.correct);
        tail[STOP] = f64::from(u8::from(stop_requested));
        reduce.sum(sums);
        let (gradient, tail) = sums.split_at(M::PARAMS);
        model.write_gradient(gradient);
        let mut stats = model.apply_gradient();
        stats.loss = (tail[LOSS] / batch as f64) as f32;
        stats.correct = tail[CORRECT] as u32;
        (stats, tail[STOP] > 0.0)
    }
}

/// Whether every rank holds the same parameters and persistent tensors (a collective): the
/// invariant of data-parallel training, checked after every epoch.
pub(crate) fn ranks_agree<M: Network>(model: &M) -> bool {
    let mut hash: u64 = 0x9e37_79b9_7f4a_7c15;
    for tensor in model.tensors() {
        for v in tensor.data {
            hash = (hash ^ v.to_f64().to_bits())
                .wrapping_mul(0x0100_0000_01b3)
                .rotate_left(29);
        }
    }
    let all = cluster::all_gather(&hash.to_le_bytes());
    all.windows(2).all(|pair| pair[0] == pair[1])
}
