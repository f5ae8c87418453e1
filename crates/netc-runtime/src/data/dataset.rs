//! An in-memory labelled dataset.

use std::path::PathBuf;

use ndarray::Array2;

use crate::error::Error;

/// `n` samples: features row-major in `x` (n × features), one class index per sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    pub x: Array2<f32>,
    pub labels: Vec<u32>,
}

impl Dataset {
    /// Errors when `x` has not exactly one row per label.
    pub fn new(x: Array2<f32>, labels: Vec<u32>) -> Result<Dataset, Error> {
        if x.nrows() != labels.len() {
            return Err(Error::Data {
                path: PathBuf::from("<dataset>"),
                message: format!(
                    "{} samples but {} labels: every sample needs exactly one label",
                    x.nrows(),
                    labels.len()
                ),
            });
        }
        Ok(Dataset { x, labels })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn features(&self) -> usize {
        self.x.ncols()
    }

    /// The samples at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            x: self.x.select(ndarray::Axis(0), indices),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_refuses_a_label_count_mismatch() {
        let error = Dataset::new(Array2::zeros((3, 2)), vec![0, 1]).unwrap_err();
        assert!(
            error.to_string().contains("3 samples but 2 labels"),
            "{error}"
        );
        let data = Dataset::new(Array2::zeros((2, 5)), vec![0, 1]).unwrap();
        assert_eq!(
            (data.len(), data.features(), data.is_empty()),
            (2, 5, false)
        );
    }

    #[test]
    fn select_keeps_rows_and_labels_together() {
        let x = Array2::from_shape_fn((4, 2), |(r, c)| (r * 10 + c) as f32);
        let data = Dataset::new(x, vec![0, 1, 2, 3]).unwrap();
        let picked = data.select(&[3, 1]);
        assert_eq!(picked.labels, vec![3, 1]);
        assert_eq!(picked.x.row(0).to_vec(), vec![30.0, 31.0]);
        assert_eq!(picked.x.row(1).to_vec(), vec![10.0, 11.0]);
    }
}
