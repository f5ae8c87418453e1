//! Per-label scores of a multi-label model: each output unit, thresholded at 0.5, is a yes/no
//! classifier of its own target column.

use crate::data::Dataset;
use crate::error::Error;
use crate::evaluate::{PredictFn, check_dataset, for_each_prediction};
use crate::network::Network;
use crate::scalar::Scalar;

/// Counts for one output unit against its 0/1 target column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LabelCounts {
    pub true_positives: usize,
    pub false_positives: usize,
    pub true_negatives: usize,
    pub false_negatives: usize,
}

impl LabelCounts {
    pub fn samples(&self) -> usize {
        self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
    }

    /// Samples whose target is 1.
    pub fn positives(&self) -> usize {
        self.true_positives + self.false_negatives
    }

    /// Fraction of samples this unit gets right.
    pub fn accuracy(&self) -> f32 {
        (self.true_positives + self.true_negatives) as f32 / self.samples().max(1) as f32
    }

    /// TP / (TP + FP); `None` when the unit never says yes.
    pub fn precision(&self) -> Option<f32> {
        let predicted = self.true_positives + self.false_positives;
        (predicted > 0).then(|| self.true_positives as f32 / predicted as f32)
    }

    /// TP / (TP + FN); `None` when no sample has this label.
    pub fn recall(&self) -> Option<f32> {
        let positives = self.positives();
        (positives > 0).then(|| self.true_positives as f32 / positives as f32)
    }
}

/// One [`LabelCounts`] per output unit over `data`, which must carry value targets (0/1)
/// and fit the model (as [`crate::evaluate`] checks). A unit says yes when its output is
/// ≥ 0.5 (a probability for logistic models).
pub fn label_counts<M: Network>(
    model: &mut M,
    data: &Dataset<M::Float>,
) -> Result<Vec<LabelCounts>, Error> {
    label_counts_by::<M>(&mut |x, rows, out| model.predict_batch(x, rows, out), data)
}

/// [`label_counts`] of the outputs `predict` writes.
pub(crate) fn label_counts_by<M: Network>(
    predict: &mut PredictFn<'_, M::Float>,
    data: &Dataset<M::Float>,
) -> Result<Vec<LabelCounts>, Error> {
    check_dataset::<M>(data, "evaluation")?;
    let mut counts = vec![LabelCounts::default(); M::OUTPUT];
    if !data.has_value_targets() {
        return Ok(counts);
    }
    let half = M::Float::from_f64(0.5);
    for_each_prediction::<M>(predict, data, |row, outputs| {
        for ((count, &p), &t) in counts.iter_mut().zip(outputs).zip(data.targets.row(row)) {
            match (p >= half, t >= half) {
                (true, true) => count.true_positives += 1,
                (true, false) => count.false_positives += 1,
                (false, false) => count.true_negatives += 1,
                (false, true) => count.false_negatives += 1,
            }
        }
    });
    Ok(counts)
}

/// The per-label table of the test report, one line per unit.
///
/// ```text
/// label  accuracy  precision  recall  positives
///     0    98.44%     97.60%  99.19%        124
/// ```
pub fn label_table(counts: &[LabelCounts]) -> String {
    let percent = |v: Option<f32>| v.map_or("—".to_string(), |v| format!("{:.2}%", 100.0 * v));
    let mut table = String::from("label  accuracy  precision  recall  positives");
    for (label, count) in counts.iter().enumerate() {
        table.push_str(&format!(
            "\n{label:>5}  {:>8}  {:>9}  {:>6}  {:>9}",
            percent(Some(count.accuracy())),
            percent(count.precision()),
            percent(count.recall()),
            count.positives()
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_from_counts() {
        let count = LabelCounts {
            true_positives: 3,
            false_positives: 1,
            true_negatives: 5,
            false_negatives: 1,
        };
        assert_eq!((count.samples(), count.positives()), (10, 4));
        assert_eq!(count.accuracy(), 0.8);
        assert_eq!(count.precision(), Some(0.75));
        assert_eq!(count.recall(), Some(0.75));
        let silent = LabelCounts {
            true_negatives: 4,
            ..LabelCounts::default()
        };
        assert_eq!((silent.precision(), silent.recall()), (None, None));
        insta::assert_snapshot!(label_table(&[count, silent]), @r"
        label  accuracy  precision  recall  positives
            0    80.00%     75.00%  75.00%          4
            1   100.00%          —       —          0
        ");
    }
}
