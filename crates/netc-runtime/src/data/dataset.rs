//! An in-memory dataset: features plus either class labels or value targets.

use std::path::PathBuf;

use ndarray::{Array2, Axis};

use crate::data::{Features, Origin};
use crate::error::Error;
use crate::real::Real;

/// `n` samples: features in `x` (n × features, values in the model's precision `V` or the
/// bytes of a u8 file) and the targets, one of
/// - class labels (`labels`, one index per sample; `targets` has 0 columns), or
/// - value targets (`targets`, n × width: regression values or 0/1 multi-label indicators;
///   `labels` is empty).
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<V = f32> {
    pub x: Features<V>,
    /// One class index per sample; empty when the dataset has value targets.
    pub labels: Vec<u32>,
    /// Value targets, n × width; n × 0 when the dataset has class labels.
    pub targets: Array2<V>,
    /// Each row's file and line or record, when it was loaded from files (errors name it).
    pub(crate) origin: Option<Origin>,
}

impl<V: Real> Dataset<V> {
    /// A class-labelled dataset. Errors when `x` has not exactly one row per label.
    pub fn new(x: impl Into<Features<V>>, labels: Vec<u32>) -> Result<Dataset<V>, Error> {
        let x = x.into();
        if x.nrows() != labels.len() {
            return Err(mismatch(x.nrows(), labels.len(), "labels", "label"));
        }
        let targets = Array2::zeros((x.nrows(), 0));
        Ok(Dataset {
            x,
            labels,
            targets,
            origin: None,
        })
    }

    /// A dataset with value targets (one row of `width ≥ 1` values per sample). Errors when
    /// the row counts differ or `targets` has no columns.
    pub fn with_targets(
        x: impl Into<Features<V>>,
        targets: Array2<V>,
    ) -> Result<Dataset<V>, Error> {
        let x = x.into();
        if x.nrows() != targets.nrows() {
            return Err(mismatch(
                x.nrows(),
                targets.nrows(),
                "target rows",
                "target row",
            ));
        }
        if targets.ncols() == 0 {
            return Err(Error::data(
                std::path::Path::new("<dataset>"),
                "value targets need at least one column",
            ));
        }
        Ok(Dataset {
            x,
            labels: Vec::new(),
            targets,
            origin: None,
        })
    }

    /// The dataset with each row's origin (one record per row, from the loader that read it).
    pub(super) fn with_origin(self, origin: Origin) -> Dataset<V> {
        debug_assert_eq!(origin.rows(), self.len(), "one origin record per row");
        Dataset {
            origin: Some(origin),
            ..self
        }
    }

    /// Where the rows came from (the files, and each row's line or record); `None` for data
    /// built in memory.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    pub fn len(&self) -> usize {
        self.x.nrows()
    }

    pub fn is_empty(&self) -> bool {
        self.x.nrows() == 0
    }

    pub fn features(&self) -> usize {
        self.x.ncols()
    }

    /// Values per sample of the value targets; 0 for a class-labelled dataset.
    pub fn target_width(&self) -> usize {
        self.targets.ncols()
    }

    /// Whether the samples carry value targets (rather than class labels).
    pub fn has_value_targets(&self) -> bool {
        self.target_width() > 0
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset<V> {
        let labels = if self.labels.is_empty() {
            Vec::new()
        } else {
            indices.iter().map(|&i| self.labels[i]).collect()
        };
        Dataset {
            x: self.x.select(indices),
            labels,
            targets: self.targets.select(Axis(0), indices),
            origin: self.origin.as_ref().map(|o| o.select(indices)),
        }
    }

    /// [`select`](Self::select) written into `target`'s buffers (same shapes, `indices.len()`
    /// rows): a bagging member's bootstrap sample without a new allocation of the features.
    pub fn select_into(&self, indices: &[usize], target: &mut Dataset<V>) {
        self.x.select_into(indices, &mut target.x);
        for (mut row, &i) in target.targets.rows_mut().into_iter().zip(indices) {
            row.assign(&self.targets.row(i));
        }
        for (label, &i) in target.labels.iter_mut().zip(indices) {
            *label = self.labels[i];
        }
        // Errors about a row name its file and line, also in a later member's sample.
        target.origin = self.origin.as_ref().map(|o| o.select(indices));
    }
}

/// `value` as a class label: a whole number in 0..2³² (what label columns and label files
/// hold, however they store it); `None` otherwise.
pub(super) fn class_index(value: f64) -> Option<u32> {
    (value >= 0.0 && value.fract() == 0.0 && value < 4_294_967_296.0).then_some(value as u32)
}

fn mismatch(samples: usize, found: usize, what: &str, one: &str) -> Error {
    Error::Data {
        path: PathBuf::from("<dataset>"),
        message: format!(
            "{samples} samples but {found} {what}: every sample needs exactly one {one}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_refuses_a_label_count_mismatch() {
        let error = Dataset::<f32>::new(Array2::zeros((3, 2)), vec![0, 1]).unwrap_err();
        assert!(
            error.to_string().contains("3 samples but 2 labels"),
            "{error}"
        );
        let data = Dataset::<f32>::new(Array2::zeros((2, 5)), vec![0, 1]).unwrap();
        assert_eq!(
            (data.len(), data.features(), data.is_empty()),
            (2, 5, false)
        );
        assert_eq!((data.target_width(), data.has_value_targets()), (0, false));
    }

    #[test]
    fn select_keeps_rows_and_labels_together() {
        let x = Array2::from_shape_fn((4, 2), |(r, c)| (r * 10 + c) as f32);
        let data = Dataset::new(x, vec![0, 1, 2, 3]).unwrap();
        let picked = data.select(&[3, 1]);
        assert_eq!(picked.labels, vec![3, 1]);
        assert_eq!(picked.x, ndarray::array![[30.0, 31.0], [10.0, 11.0]]);
        assert_eq!(picked.targets.dim(), (2, 0));
    }

    #[test]
    fn value_targets_travel_with_their_rows() {
        let x = Array2::from_shape_fn((3, 1), |(r, _)| r as f32);
        let targets = Array2::from_shape_fn((3, 2), |(r, c)| (r * 10 + c) as f32);
        let data = Dataset::with_targets(x, targets).unwrap();
        assert_eq!((data.len(), data.target_width()), (3, 2));
        assert!(data.has_value_targets() && data.labels.is_empty());
        let picked = data.select(&[2, 0]);
        assert_eq!(picked.targets, ndarray::array![[20.0, 21.0], [0.0, 1.0]]);
        assert!(picked.labels.is_empty());

        let error = Dataset::<f32>::with_targets(Array2::zeros((3, 1)), Array2::zeros((2, 1)));
        assert!(
            error
                .unwrap_err()
                .to_string()
                .contains("3 samples but 2 target rows")
        );
        assert!(
            Dataset::<f32>::with_targets(Array2::zeros((2, 1)), Array2::zeros((2, 0))).is_err()
        );
    }
}
