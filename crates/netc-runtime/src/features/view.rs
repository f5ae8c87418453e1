//! Reading rows of a [`Features`](super::Features) as values, whichever way they are stored.

use crate::real::Real;

/// Bytes per cache line on the machines netc targets (x86-64, aarch64).
const CACHE_LINE: usize = 64;

/// A borrowed [`Features`](super::Features): what the batcher, evaluation and the full-batch objective read
/// rows from. Copy, so the step loop holds it by value.
#[derive(Clone, Copy, Debug)]
pub struct FeatureView<'a, V = f32> {
    rows: usize,
    width: usize,
    values: Values<'a, V>,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Values<'a, V> {
    Floats(&'a [V]),
    Bytes { bytes: &'a [u8], scale: V },
}

impl<'a, V: Real> FeatureView<'a, V> {
    pub(super) fn new(rows: usize, width: usize, values: Values<'a, V>) -> FeatureView<'a, V> {
        FeatureView {
            rows,
            width,
            values,
        }
    }

    /// Rows of `width` values, row-major (`values.len()` a multiple of `width`).
    pub fn floats(values: &'a [V], width: usize) -> FeatureView<'a, V> {
        debug_assert!(values.len().is_multiple_of(width.max(1)), "whole rows");
        FeatureView {
            rows: values.len().checked_div(width).unwrap_or(0),
            width,
            values: Values::Floats(values),
        }
    }

    /// Values per row.
    pub fn width(&self) -> usize {
        self.width
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Writes row `row`'s values into `out` (`width` values).
    #[inline]
    pub fn copy_row(&self, row: usize, out: &mut [V]) {
        self.rows_into(row, 1, out);
    }

    /// Writes `count` rows from `first` into `out` (`count × width` values). The batcher's hot
    /// loop: for bytes a conversion and a multiplication each, which the compiler vectorizes.
    #[inline]
    pub fn rows_into(&self, first: usize, count: usize, out: &mut [V]) {
        let range = first * self.width..(first + count) * self.width;
        match self.values {
            Values::Floats(values) => out.copy_from_slice(&values[range]),
            Values::Bytes { bytes, scale } => {
                for (slot, &b) in out.iter_mut().zip(&bytes[range]) {
                    *slot = byte_value(b, scale);
                }
            }
        }
    }

    /// Reads one value of every cache line of row `row`, so that a later [`copy_row`] of it
    /// finds the row in cache: the batcher's rows are scattered over the whole set, and each
    /// one waits for main memory otherwise (MNIST's bytes, a shuffled batch of 64: gathered in
    /// ~32 µs with rows warmed four ahead, ~52 µs without; the f32 rows unwarmed took ~44 µs).
    ///
    /// [`copy_row`]: Self::copy_row
    #[inline]
    pub fn warm_row(&self, row: usize) {
        let range = row * self.width..(row + 1) * self.width;
        let folded = match self.values {
            Values::Floats(values) => values[range]
                .iter()
                .step_by(CACHE_LINE / size_of::<V>())
                .fold(0.0f64, |acc, v| acc + v.to_f64()),
            Values::Bytes { bytes, .. } => bytes[range]
                .iter()
                .step_by(CACHE_LINE)
                .fold(0.0f64, |acc, &b| acc + f64::from(b)),
        };
        // Keeps the loads: nothing else uses their values.
        std::hint::black_box(folded);
    }

    /// `count` rows from `first` as one slice: borrowed from value storage, else converted into
    /// `buffer` (resized as needed), so evaluation never holds more than a chunk as values.
    pub fn chunk<'b>(&self, first: usize, count: usize, buffer: &'b mut Vec<V>) -> &'b [V]
    where
        'a: 'b,
    {
        match self.values {
            Values::Floats(values) => &values[first * self.width..(first + count) * self.width],
            Values::Bytes { .. } => {
                buffer.resize(count * self.width, V::ZERO);
                self.rows_into(first, count, buffer);
                buffer
            }
        }
    }

    /// Calls `visit(row, values)` for every row, in order.
    pub fn for_each_row(&self, mut visit: impl FnMut(usize, &[V])) {
        let mut buffer = Vec::new();
        for row in 0..self.rows() {
            visit(row, self.chunk(row, 1, &mut buffer));
        }
    }
}

/// A stored byte's value: the conversion to `V`, then the scale, as the loader once computed
/// every pixel.
#[inline]
pub(super) fn byte_value<V: Real>(byte: u8, scale: V) -> V {
    V::from_byte(byte) * scale
}
