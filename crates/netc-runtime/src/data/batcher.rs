//! Sample order per epoch and batch assembly into one reused buffer.

use crate::config::Sampling;
use crate::network::Targets;
use crate::rng::Rng;

/// Owns the epoch's sample order and the one `batch × features` buffer (+ labels, or
/// `batch × width` value targets) every batch is copied into: after [`Batcher::new`] and the first [`Batcher::plan_epoch`], nothing
/// allocates. The last incomplete batch of an epoch is dropped (`len % batch` samples; with
/// shuffling a different few each epoch), because the compiled step takes exactly `batch` rows.
#[derive(Clone, Debug)]
pub struct Batcher {
    batch: usize,
    features: usize,
    order: Vec<usize>,
    x: Vec<f32>,
    labels: Vec<u32>,
    /// Values per sample of value targets (0: class labels).
    target_width: usize,
    values: Vec<f32>,
}

impl Batcher {
    pub fn new(batch: usize, features: usize) -> Batcher {
        Batcher {
            batch,
            features,
            order: Vec::new(),
            x: vec![0.0; batch * features],
            labels: vec![0; batch],
            target_width: 0,
            values: Vec::new(),
        }
    }

    /// A batcher that also gathers `width` value targets per sample ([`Batcher::gather_targets`]
    /// with [`Targets::Values`]).
    pub fn with_target_width(mut self, width: usize) -> Batcher {
        self.target_width = width;
        self.values = vec![0.0; self.batch * width];
        self
    }

    /// Chooses the order of the next epoch over `len` samples:
    /// `Shuffle` a fresh permutation from `rng`, `WithReplacement` `len / batch` batches of
    /// uniformly drawn indices, `Sequential` file order.
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

    /// Full batches in the planned epoch.
    pub fn batches(&self) -> usize {
        self.order.len() / self.batch.max(1)
    }

    /// Replaces the planned order with a saved one (a resumed run's epoch in progress).
    pub fn set_order(&mut self, order: impl IntoIterator<Item = usize>) {
        self.order.clear();
        self.order.extend(order);
    }

    /// Sample indices of the planned epoch, in order.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Copies batch `index` of the planned epoch out of `x` (row-major, `features` per row) and
    /// `labels`.
    ///
    /// # Shapes
    /// - returns x: `[batch * features]`, labels: `[batch]`
    pub fn gather(&mut self, x: &[f32], labels: &[u32], index: usize) -> (&[f32], &[u32]) {
        let rows = &self.order[index * self.batch..(index + 1) * self.batch];
        for (slot, &row) in rows.iter().enumerate() {
            let source = &x[row * self.features..(row + 1) * self.features];
            self.x[slot * self.features..(slot + 1) * self.features].copy_from_slice(source);
            self.labels[slot] = labels[row];
        }
        (&self.x, &self.labels)
    }

    /// Copies batch `index` of the planned epoch out of `x` and the targets `y` (class labels,
    /// or `target_width` values per row as set by [`Batcher::with_target_width`]).
    ///
    /// # Shapes
    /// - returns x: `[batch * features]`, targets: `[batch]` labels or `[batch * width]` values
    ///
    /// # Panics
    /// When `y` holds values and the batcher was built for another width (a driver bug: the
    /// driver builds the batcher from the dataset it gathers from).
    pub fn gather_targets(
        &mut self,
        x: &[f32],
        y: Targets<'_>,
        index: usize,
    ) -> (&[f32], Targets<'_>) {
        match y {
            Targets::Classes(labels) => {
                let (x, labels) = self.gather(x, labels, index);
                (x, Targets::Classes(labels))
            }
            Targets::Values(values) => {
                let width = self.target_width;
                assert!(width > 0, "the batcher was built without a target width");
                let rows = &self.order[index * self.batch..(index + 1) * self.batch];
                for (slot, &row) in rows.iter().enumerate() {
                    let source = &x[row * self.features..(row + 1) * self.features];
                    self.x[slot * self.features..(slot + 1) * self.features]
                        .copy_from_slice(source);
                    self.values[slot * width..(slot + 1) * width]
                        .copy_from_slice(&values[row * width..(row + 1) * width]);
                }
                (&self.x, Targets::Values(&self.values))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_is_file_order_and_drops_the_partial_batch() {
        let mut batcher = Batcher::new(4, 1);
        batcher.plan_epoch(Sampling::Sequential, 10, &mut Rng::new(0, 2));
        assert_eq!(batcher.batches(), 2);
        let x: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let labels: Vec<u32> = (0..10).collect();
        let (bx, bl) = batcher.gather(&x, &labels, 1);
        assert_eq!(bx, &[4.0, 5.0, 6.0, 7.0]);
        assert_eq!(bl, &[4, 5, 6, 7]);
    }

    #[test]
    fn shuffle_is_a_fresh_permutation_each_epoch() {
        let mut batcher = Batcher::new(5, 1);
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
        let mut batcher = Batcher::new(4, 1);
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
    fn gather_targets_copies_value_rows_with_their_samples() {
        let mut batcher = Batcher::new(2, 1).with_target_width(3);
        batcher.plan_epoch(Sampling::Sequential, 3, &mut Rng::new(0, 2));
        let x = [1.0, 2.0, 3.0];
        let values: Vec<f32> = (0..9).map(|v| v as f32).collect();
        let (bx, by) = batcher.gather_targets(&x, Targets::Values(&values), 0);
        assert_eq!(bx, &[1.0, 2.0]);
        assert_eq!(by, Targets::Values(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]));
        let (_, by) = batcher.gather_targets(&x, Targets::Classes(&[4, 5, 6]), 0);
        assert_eq!(by, Targets::Classes(&[4, 5]));
    }

    #[test]
    fn gather_copies_whole_rows() {
        let mut batcher = Batcher::new(2, 3);
        batcher.plan_epoch(Sampling::Sequential, 2, &mut Rng::new(0, 2));
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let (bx, bl) = batcher.gather(&x, &[7, 8], 0);
        assert_eq!((bx, bl), (&x[..], &[7u32, 8][..]));
    }
}
