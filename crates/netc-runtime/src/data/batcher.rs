//! Sample order per epoch and batch assembly into one reused buffer.

use crate::config::Sampling;
use crate::network::{BatchInput, BatchTargets, Targets};
use crate::rng::Rng;

/// Owns the epoch's sample order and the one fixed-size batch (inputs `X`, targets `Y`: a
/// model's `BatchInput` and `BatchTargets`) every batch is copied into: after
/// [`Batcher::new`] and the first [`Batcher::plan_epoch`], nothing allocates. The last
/// incomplete batch of an epoch is dropped (`len % batch` samples; with shuffling a different
/// few each epoch), because the compiled step takes exactly `batch` rows.
pub struct Batcher<X, Y> {
    batch: usize,
    features: usize,
    order: Vec<usize>,
    x: Box<X>,
    y: Box<Y>,
}

impl<X: BatchInput, Y: BatchTargets> Batcher<X, Y> {
    /// A batcher of `batch` rows of `features` values: the sizes of `X`.
    pub fn new(batch: usize, features: usize) -> Batcher<X, Y> {
        let x = X::zeroed();
        assert_eq!(
            x.flat().len(),
            batch * features,
            "X holds batch × features values"
        );
        Batcher {
            batch,
            features,
            order: Vec::new(),
            x,
            y: Y::zeroed(),
        }
    }

    pub fn plan_epoch(&mut self, sampling: Sampling, len: usize, rng: &mut Rng) {
        self.order.clear();
        match sampling {
            Sampling::Shuffle => {
                self.order.extend(0..len);
                rng.shuffle(&mut self.order);
            }
            Sampling::WithReplacement => {
                let draws = len / self.batch.max(1) * self.batch;
                self.order.extend((0..draws).map(|_| rng.below(len)));
            }
            Sampling::Sequential => self.order.extend(0..len),
        }
    }

    pub fn batches(&self) -> usize {
        self.order.len() / self.batch.max(1)
    }

    pub fn set_order(&mut self, order: impl IntoIterator<Item = usize>) {
        self.order.clear();
        self.order.extend(order);
    }

    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Copies batch `index` of the epoch's order (samples of `x`, `features` values each, and
    /// their targets `y`, of `Y`'s kind) into the batch buffers. The inputs come back mutable:
    /// augmentation transforms this copy in place.
    pub fn gather(&mut self, x: &[f32], y: Targets<'_>, index: usize) -> (&mut X, &Y) {
        let rows = &self.order[index * self.batch..(index + 1) * self.batch];
        let features = self.features;
        let flat = self.x.flat_mut();
        for (slot, &row) in rows.iter().enumerate() {
            flat[slot * features..(slot + 1) * features]
                .copy_from_slice(&x[row * features..(row + 1) * features]);
            self.y.set_row(slot, y, row);
        }
        (&mut self.x, &self.y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batcher of `B` rows of one feature with class labels.
    fn labelled<const B: usize>() -> Batcher<[[f32; 1]; B], [u32; B]> {
        Batcher::new(B, 1)
    }

    #[test]
    fn sequential_is_file_order_and_drops_the_partial_batch() {
        let mut batcher = labelled::<4>();
        batcher.plan_epoch(Sampling::Sequential, 10, &mut Rng::new(0, 2));
        assert_eq!(batcher.batches(), 2);
        let x: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let labels: Vec<u32> = (0..10).collect();
        let (bx, bl) = batcher.gather(&x, Targets::Classes(&labels), 1);
        assert_eq!(*bx, [[4.0], [5.0], [6.0], [7.0]]);
        assert_eq!(*bl, [4, 5, 6, 7]);
    }

    #[test]
    fn shuffle_is_a_fresh_permutation_each_epoch() {
        let mut batcher = labelled::<5>();
        let mut rng = Rng::new(1, 2);
        batcher.plan_epoch(Sampling::Shuffle, 20, &mut rng);
        let first = batcher.order().to_vec();
        batcher.plan_epoch(Sampling::Shuffle, 20, &mut rng);
        let second = batcher.order().to_vec();
        assert_ne!(first, second);
        for order in [first, second] {
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..20).collect::<Vec<_>>());
        }
    }

    #[test]
    fn with_replacement_draws_whole_batches_with_repeats() {
        let mut batcher = labelled::<4>();
        batcher.plan_epoch(Sampling::WithReplacement, 30, &mut Rng::new(2, 2));
        assert_eq!(batcher.order().len(), 28);
        assert_eq!(batcher.batches(), 7);
        assert!(batcher.order().iter().all(|&i| i < 30));
        let mut unique = batcher.order().to_vec();
        unique.sort_unstable();
        unique.dedup();
        assert!(unique.len() < 28, "28 draws from 30 almost surely repeat");
    }

    #[test]
    fn gather_copies_value_rows_with_their_samples() {
        let mut batcher: Batcher<[[f32; 1]; 2], [[f32; 3]; 2]> = Batcher::new(2, 1);
        batcher.plan_epoch(Sampling::Sequential, 3, &mut Rng::new(0, 2));
        let x = [1.0, 2.0, 3.0];
        let values: Vec<f32> = (0..9).map(|v| v as f32).collect();
        let (bx, by) = batcher.gather(&x, Targets::Values(&values), 0);
        assert_eq!(*bx, [[1.0], [2.0]]);
        assert_eq!(*by, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]);
    }

    #[test]
    fn gather_copies_whole_rows() {
        let mut batcher: Batcher<[[f32; 3]; 2], [u32; 2]> = Batcher::new(2, 3);
        batcher.plan_epoch(Sampling::Sequential, 2, &mut Rng::new(0, 2));
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let (bx, bl) = batcher.gather(&x, Targets::Classes(&[7, 8]), 0);
        assert_eq!((bx.flat(), &bl[..]), (&x[..], &[7u32, 8][..]));
    }
}
