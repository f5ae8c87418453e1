//! Sample order per epoch and batch assembly into one reused buffer.

use crate::config::Sampling;
use crate::data::FeatureView;
use crate::network::{BatchInput, BatchTargets, Targets};
use crate::rng::Rng;

/// How many rows ahead of the one being copied [`Batcher::gather`] pulls rows into cache.
const WARM_AHEAD: usize = 4;

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

impl<X: BatchInput, Y: BatchTargets<X::Value>> Batcher<X, Y> {
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

    /// Copies batch `index` of the epoch's order (samples of `x`, `features` values each, as
    /// values of the model's precision however they are stored, and their targets `y`, of
    /// `Y`'s kind) into the batch buffers. The inputs come back mutable: augmentation
    /// transforms this copy in place.
    pub fn gather(
        &mut self,
        x: FeatureView<'_, X::Value>,
        y: Targets<'_, X::Value>,
        index: usize,
    ) -> (&mut X, &Y) {
        debug_assert_eq!(x.width(), self.features, "rows of the batch's width");
        let rows = &self.order[index * self.batch..(index + 1) * self.batch];
        let features = self.features;
        let flat = self.x.flat_mut();
        for (slot, &row) in rows.iter().enumerate() {
            if let Some(&ahead) = rows.get(slot + WARM_AHEAD) {
                x.warm_row(ahead);
            }
            x.copy_row(row, &mut flat[slot * features..(slot + 1) * features]);
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
        let (bx, bl) = batcher.gather(FeatureView::floats(&x, 1), Targets::Classes(&labels), 1);
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
        let (bx, by) = batcher.gather(FeatureView::floats(&x, 1), Targets::Values(&values), 0);
        assert_eq!(*bx, [[1.0], [2.0]]);
        assert_eq!(*by, [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]);
    }

    #[test]
    fn a_u8_dataset_gathers_the_batch_the_converted_f32_dataset_did() {
        // 5 images of 3 pixels, scaled by 1/255 as MNIST's are.
        let pixels = ndarray::Array2::from_shape_fn((5, 3), |(r, c)| (r * 50 + c * 7) as u8);
        let scale = 1.0f32 / 255.0;
        let mut bytes = crate::data::Features::from_bytes(pixels.clone());
        bytes.scale_by(scale);
        let mut converted = pixels.mapv(f32::from);
        converted *= scale;
        let labels: Vec<u32> = (0..5).collect();
        let mut from_bytes: Batcher<[[f32; 3]; 4], [u32; 4]> = Batcher::new(4, 3);
        let mut from_floats: Batcher<[[f32; 3]; 4], [u32; 4]> = Batcher::new(4, 3);
        for batcher in [&mut from_bytes, &mut from_floats] {
            batcher.plan_epoch(Sampling::Shuffle, 5, &mut Rng::new(9, 2));
        }
        let (bx, _) = from_bytes.gather(bytes.view(), Targets::Classes(&labels), 0);
        let gathered: Vec<u32> = bx.flat().iter().map(|v| v.to_bits()).collect();
        let floats = FeatureView::floats(converted.as_slice().unwrap(), 3);
        let (fx, _) = from_floats.gather(floats, Targets::Classes(&labels), 0);
        let expected: Vec<u32> = fx.flat().iter().map(|v| v.to_bits()).collect();
        assert_eq!(gathered, expected);
        let first = from_bytes.order()[0];
        assert_eq!(from_bytes.x.flat()[..3], converted.row(first).to_vec()[..]);
    }

    #[test]
    fn gather_copies_whole_rows() {
        let mut batcher: Batcher<[[f32; 3]; 2], [u32; 2]> = Batcher::new(2, 3);
        batcher.plan_epoch(Sampling::Sequential, 2, &mut Rng::new(0, 2));
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let (bx, bl) = batcher.gather(FeatureView::floats(&x, 3), Targets::Classes(&[7, 8]), 0);
        assert_eq!((bx.flat(), &bl[..]), (&x[..], &[7u32, 8][..]));
    }
}
