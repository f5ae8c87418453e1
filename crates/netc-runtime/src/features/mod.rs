//! A dataset's feature matrix, kept as it was loaded: values in the model's precision `V`
//! (CSV, float IDX files, data built in memory), or the bytes of a u8 IDX file (MNIST's
//! pixels) with the data block's `scale` applied only as rows are read. Bytes take a quarter
//! of the memory of f32 (an eighth of f64): MNIST's 60,000 training images are 47 MB instead
//! of 188 MB.
//!
//! A byte's value is `V::from_byte(byte) * scale`, the arithmetic the loader used when it
//! converted every pixel to `V` and multiplied the whole matrix by `scale` (both in `V`), so
//! batches, statistics and evaluations are bit-identical to that.

mod compact;
mod view;

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};

use crate::real::Real;

pub(crate) use compact::keep_matrix_rows;
pub use view::FeatureView;
use view::Values;

/// `rows × width` feature values, row-major (every constructor makes a standard layout, so
/// rows are contiguous and a chunk of rows is one slice).
#[derive(Clone, Debug, PartialEq)]
pub struct Features<V = f32>(Storage<V>);

#[derive(Clone, Debug, PartialEq)]
enum Storage<V> {
    Floats(Array2<V>),
    /// Value = `V::from_byte(byte) * scale`.
    Bytes {
        bytes: Array2<u8>,
        scale: V,
    },
}

impl<V: Real> From<Array2<V>> for Features<V> {
    fn from(values: Array2<V>) -> Features<V> {
        let values = if values.is_standard_layout() {
            values
        } else {
            values.as_standard_layout().into_owned()
        };
        Features(Storage::Floats(values))
    }
}

impl<V: Real> PartialEq<Array2<V>> for Features<V> {
    /// Equal values, whichever way they are stored.
    fn eq(&self, other: &Array2<V>) -> bool {
        self.to_floats() == *other
    }
}

impl<V: Real> Features<V> {
    /// Bytes read as their values (scale 1 until [`scale_by`](Self::scale_by)).
    pub fn from_bytes(bytes: Array2<u8>) -> Features<V> {
        let bytes = if bytes.is_standard_layout() {
            bytes
        } else {
            bytes.as_standard_layout().into_owned()
        };
        Features(Storage::Bytes {
            bytes,
            scale: V::ONE,
        })
    }

    pub fn nrows(&self) -> usize {
        match &self.0 {
            Storage::Floats(values) => values.nrows(),
            Storage::Bytes { bytes, .. } => bytes.nrows(),
        }
    }

    pub fn ncols(&self) -> usize {
        match &self.0 {
            Storage::Floats(values) => values.ncols(),
            Storage::Bytes { bytes, .. } => bytes.ncols(),
        }
    }

    /// The memory the values take: 4 bytes per f32 value, 8 per f64 value, 1 per stored byte.
    pub fn stored_bytes(&self) -> u64 {
        match &self.0 {
            Storage::Floats(values) => (values.len() as u64).saturating_mul(V::BYTES as u64),
            Storage::Bytes { bytes, .. } => bytes.len() as u64,
        }
    }

    /// Whether the values are kept as the bytes of a u8 file.
    pub fn is_bytes(&self) -> bool {
        matches!(self.0, Storage::Bytes { .. })
    }

    /// The rows, to read.
    pub fn view(&self) -> FeatureView<'_, V> {
        let values = match &self.0 {
            Storage::Floats(values) => Values::Floats(standard_slice(values)),
            Storage::Bytes { bytes, scale } => Values::Bytes {
                bytes: standard_slice(bytes),
                scale: *scale,
            },
        };
        FeatureView::new(self.nrows(), self.ncols(), values)
    }

    /// The value matrix, when the values are stored as values (not bytes).
    pub fn floats(&self) -> Option<ArrayView2<'_, V>> {
        match &self.0 {
            Storage::Floats(values) => Some(values.view()),
            Storage::Bytes { .. } => None,
        }
    }

    /// The value matrix to change values in place, when the values are stored as values (a
    /// view: its shape and layout cannot change).
    pub fn floats_mut(&mut self) -> Option<ArrayViewMut2<'_, V>> {
        match &mut self.0 {
            Storage::Floats(values) => Some(values.view_mut()),
            Storage::Bytes { .. } => None,
        }
    }

    /// Every value, in a new matrix.
    pub fn to_floats(&self) -> Array2<V> {
        match &self.0 {
            Storage::Floats(values) => values.clone(),
            Storage::Bytes { bytes, scale } => bytes.mapv(|b| view::byte_value(b, *scale)),
        }
    }

    /// Every value, row-major, in a new vector.
    pub fn to_vec(&self) -> Vec<V> {
        let view = self.view();
        let mut values = vec![V::ZERO; self.nrows() * self.ncols()];
        view.rows_into(0, view.rows(), &mut values);
        values
    }

    /// Every value multiplied by `scale` (in `V`). Bytes keep their storage and take the scale
    /// along, unless already scaled: `(b·s₁)·s₂` is not `b·(s₁·s₂)` in floating point, so those
    /// become values scaled once more.
    pub fn scale_by(&mut self, scale: V) {
        match &mut self.0 {
            Storage::Floats(values) => *values *= scale,
            Storage::Bytes { scale: kept, .. } if *kept == V::ONE => *kept = scale,
            Storage::Bytes { .. } => {
                let mut values = self.to_floats();
                values *= scale;
                self.0 = Storage::Floats(values);
            }
        }
    }

    /// The first value that is NaN or infinite (a float file may hold them, a huge `scale`
    /// overflows bytes), as (index in row-major order, value).
    pub fn first_non_finite(&self) -> Option<(usize, V)> {
        match &self.0 {
            Storage::Floats(values) => standard_slice(values)
                .iter()
                .position(|v| !v.is_finite())
                .map(|at| (at, standard_slice(values)[at])),
            Storage::Bytes { bytes, scale } => {
                // 256 possible values: the common case (all finite) reads no byte.
                let finite: Vec<bool> = (0..=u8::MAX)
                    .map(|b| view::byte_value(b, *scale).is_finite())
                    .collect();
                if finite.iter().all(|&f| f) {
                    return None;
                }
                let bytes = standard_slice(bytes);
                let at = bytes.iter().position(|&b| !finite[usize::from(b)])?;
                Some((at, view::byte_value(bytes[at], *scale)))
            }
        }
    }

    /// The rows at `indices`, in that order, stored as these are.
    pub fn select(&self, indices: &[usize]) -> Features<V> {
        Features(match &self.0 {
            Storage::Floats(values) => Storage::Floats(values.select(Axis(0), indices)),
            Storage::Bytes { bytes, scale } => Storage::Bytes {
                bytes: bytes.select(Axis(0), indices),
                scale: *scale,
            },
        })
    }

    /// [`select`](Self::select) written into `target`'s buffer (`indices.len()` rows of this
    /// width, stored the same way: what an earlier `select` made); anything else is replaced.
    pub fn select_into(&self, indices: &[usize], target: &mut Features<V>) {
        let same_shape = target.nrows() == indices.len() && target.ncols() == self.ncols();
        match (&self.0, &mut target.0) {
            (Storage::Floats(from), Storage::Floats(to)) if same_shape => {
                copy_rows(standard_slice(from), to, indices);
            }
            (
                Storage::Bytes { bytes: from, scale },
                Storage::Bytes {
                    bytes: to,
                    scale: to_scale,
                },
            ) if same_shape => {
                copy_rows(standard_slice(from), to, indices);
                *to_scale = *scale;
            }
            _ => *target = self.select(indices),
        }
    }

    /// Reduced to the rows `kept` (ascending), compacted in its own buffer.
    pub(crate) fn keep_rows(self, kept: &[usize]) -> Features<V> {
        Features(match self.0 {
            Storage::Floats(values) => Storage::Floats(keep_matrix_rows(values, kept)),
            Storage::Bytes { bytes, scale } => Storage::Bytes {
                bytes: keep_matrix_rows(bytes, kept),
                scale,
            },
        })
    }
}

/// The values of a matrix the constructors made standard-layout.
fn standard_slice<T>(matrix: &Array2<T>) -> &[T] {
    matrix
        .as_slice()
        .expect("Features keeps its matrices in standard layout")
}

/// Rows `indices` of the row-major `from` into the standard-layout `to` (one row per index).
fn copy_rows<T: Copy>(from: &[T], to: &mut Array2<T>, indices: &[usize]) {
    let width = to.ncols();
    let to = to
        .as_slice_mut()
        .expect("Features keeps its matrices in standard layout");
    for (slot, &i) in to.chunks_exact_mut(width.max(1)).zip(indices) {
        slot.copy_from_slice(&from[i * width..(i + 1) * width]);
    }
}

#[cfg(test)]
mod tests;
