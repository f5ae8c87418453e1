//! Loss and accuracy of a model on a dataset, in inference mode.

mod labels;

use std::borrow::Cow;
use std::path::PathBuf;

use ndarray::Array2;

use crate::data::Dataset;
use crate::error::Error;
use crate::network::{Network, OutputKind, TargetKind, Targets};
use crate::real::Real;
use crate::scalar::Scalar;

pub use labels::{LabelCounts, label_counts, label_table};

/// Floor for probabilities inside logarithms, so a confident wrong answer costs ~27.6, not ∞
/// (rounded to the model's precision).
const PROBABILITY_FLOOR: f64 = 1e-12;

/// Mean loss and accuracy over `samples` samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub loss: f32,
    /// Fraction (0..=1) of samples predicted right: the arg-max output equals the label
    /// (softmax, one-vs-all logistic); the output thresholded at 0.5 equals the 0/1 label (one
    /// logistic unit); every label thresholded at 0.5 is right (multi-label logistic,
    /// "exact match"); the output rounded to the nearest integer equals the label (mse on a
    /// class label). 0 for mse regression on value targets, which has no accuracy.
    pub accuracy: f32,
    pub samples: usize,
    /// √(mean over samples and outputs of (y − t)²) for mse models; `None` otherwise.
    pub rmse: Option<f32>,
    /// `accuracy` is the exact-match accuracy of a multi-label model.
    pub exact_match: bool,
}

impl Evaluation {
    /// The one-line test summary: `test accuracy 97.83% (loss 0.0712)`, `test rmse 0.1234
    /// (loss 0.0076)`, or `test exact-match accuracy 91.20% (loss 0.2345)`.
    pub fn summary_line(&self) -> String {
        let loss = crate::report::format_loss(self.loss);
        match (self.rmse, self.exact_match) {
            (Some(rmse), _) => format!(
                "test rmse {} (loss {loss})",
                crate::report::format_loss(rmse)
            ),
            (None, true) => format!(
                "test exact-match accuracy {:.2}% (loss {loss})",
                100.0 * self.accuracy
            ),
            (None, false) => crate::report::test_line(self.accuracy, self.loss),
        }
    }
}

/// Runs `predict_batch` over `data` in batches of `M::BATCH` rows (the last one partial) and
/// scores the outputs by `M::OUTPUT_KIND` against the sample's target row `t` (the dataset's
/// value targets, or from a class label: one-hot, or the label itself for a single output):
/// softmax mean `−ln max(p[label], 1e-12)`; logistic mean over samples of Σ_j binary
/// cross-entropy; linear (mse) mean over samples of Σ_j ½(y_j − t_j)², the loss the step
/// minimizes.
pub fn evaluate<M: Network>(model: &mut M, data: &Dataset<M::Float>) -> Result<Evaluation, Error> {
    evaluate_by::<M>(&mut |x, rows, out| model.predict_batch(x, rows, out), data)
}

/// Inference outputs of `rows ≤ M::BATCH` samples, as [`Network::predict_batch`] writes them:
/// one model's, or an ensemble's combined outputs (`M` gives the shapes and the output kind).
pub(crate) type PredictFn<'a, V> = dyn FnMut(&[V], usize, &mut [V]) + 'a;

/// [`evaluate`] of the outputs `predict` writes.
pub(crate) fn evaluate_by<M: Network>(
    predict: &mut PredictFn<'_, M::Float>,
    data: &Dataset<M::Float>,
) -> Result<Evaluation, Error> {
    check_dataset::<M>(data, "evaluation")?;
    if data.is_empty() {
        return Err(dataset_error(
            "evaluation",
            "the dataset is empty".to_string(),
        ));
    }
    let mut loss_sum = 0.0f64;
    let mut squares = 0.0f64;
    let mut correct = 0usize;
    let mut target = vec![M::Float::ZERO; M::OUTPUT];
    for_each_prediction::<M>(predict, data, |row, outputs| {
        let label = sample_target(data, row, M::OUTPUT, &mut target);
        loss_sum += sample_loss(M::OUTPUT_KIND, outputs, &target, label).to_f64();
        squares += outputs
            .iter()
            .zip(&target)
            .map(|(&y, &t)| (y - t).to_f64().powi(2))
            .sum::<f64>();
        correct += usize::from(is_correct(M::OUTPUT_KIND, outputs, &target, label));
    });
    let samples = data.len();
    let regression = M::OUTPUT_KIND == OutputKind::Linear;
    Ok(Evaluation {
        loss: (loss_sum / samples as f64) as f32,
        accuracy: correct as f32 / samples as f32,
        samples,
        rmse: regression.then(|| (squares / (samples * M::OUTPUT) as f64).sqrt() as f32),
        exact_match: !regression && data.has_value_targets() && M::OUTPUT > 1,
    })
}

/// The test report: [`Evaluation::summary_line`], and for a multi-label model the
/// [`label_table`] below it.
pub fn test_report<M: Network>(
    model: &mut M,
    data: &Dataset<M::Float>,
) -> Result<(Evaluation, String), Error> {
    test_report_by::<M>(&mut |x, rows, out| model.predict_batch(x, rows, out), data)
}

/// [`test_report`] of the outputs `predict` writes.
pub(crate) fn test_report_by<M: Network>(
    predict: &mut PredictFn<'_, M::Float>,
    data: &Dataset<M::Float>,
) -> Result<(Evaluation, String), Error> {
    let evaluation = evaluate_by::<M>(predict, data)?;
    let mut report = evaluation.summary_line();
    if evaluation.exact_match {
        report.push('\n');
        report.push_str(&label_table(&labels::label_counts_by::<M>(predict, data)?));
    }
    Ok((evaluation, report))
}

/// The dataset's targets as a step takes them: its class labels, or `values`, its value
/// targets row-major (`row_major(&data.targets)`).
pub(crate) fn targets_of<'a, V: Real>(data: &'a Dataset<V>, values: &'a [V]) -> Targets<'a, V> {
    if data.has_value_targets() {
        Targets::Values(values)
    } else {
        Targets::Classes(&data.labels)
    }
}

/// Calls `score(row, outputs)` for every sample of `data`, in order, with its `M::OUTPUT`
/// inference outputs from `predict`.
pub(crate) fn for_each_prediction<M: Network>(
    predict: &mut PredictFn<'_, M::Float>,
    data: &Dataset<M::Float>,
    mut score: impl FnMut(usize, &[M::Float]),
) {
    let x = data.x.view();
    // Bytes become values one batch at a time, never the whole set at once.
    let mut chunk = Vec::new();
    let mut out = vec![M::Float::ZERO; M::BATCH * M::OUTPUT];
    for first_row in (0..data.len()).step_by(M::BATCH) {
        let rows = M::BATCH.min(data.len() - first_row);
        predict(
            x.chunk(first_row, rows, &mut chunk),
            rows,
            &mut out[..rows * M::OUTPUT],
        );
        for (offset, outputs) in out[..rows * M::OUTPUT].chunks_exact(M::OUTPUT).enumerate() {
            score(first_row + offset, outputs);
        }
    }
}

/// Writes sample `row`'s target row into `target` (`outputs` values) and returns its class
/// label, if the dataset has labels. A label becomes a one-hot row, or the label itself as a
/// number when the model has a single output (a yes/no logistic unit, a 1-unit regression).
pub(crate) fn sample_target<V: Real>(
    data: &Dataset<V>,
    row: usize,
    outputs: usize,
    target: &mut [V],
) -> Option<usize> {
    if data.has_value_targets() {
        for (slot, &value) in target.iter_mut().zip(data.targets.row(row)) {
            *slot = value;
        }
        return None;
    }
    let label = data.labels[row] as usize;
    if outputs == 1 {
        target[0] = V::from_f64(label as f64);
    } else {
        for (j, slot) in target.iter_mut().enumerate() {
            *slot = if j == label { V::ONE } else { V::ZERO };
        }
    }
    Some(label)
}

/// Index of the largest output (the first one on ties; NaN never wins).
pub fn arg_max<V: Real>(outputs: &[V]) -> usize {
    let mut best = 0;
    for (i, &value) in outputs.iter().enumerate() {
        if value > outputs[best] || (outputs[best].is_nan() && !value.is_nan()) {
            best = i;
        }
    }
    best
}

fn sample_loss<V: Real>(kind: OutputKind, outputs: &[V], target: &[V], label: Option<usize>) -> V {
    let floor = V::from_f64(PROBABILITY_FLOOR);
    match kind {
        OutputKind::Softmax => {
            let label = label.unwrap_or_else(|| arg_max(target));
            -outputs[label].max(floor).ln()
        }
        OutputKind::Logistic => outputs
            .iter()
            .zip(target)
            .map(|(&p, &t)| -(t * p.max(floor).ln() + (V::ONE - t) * (V::ONE - p).max(floor).ln()))
            .sum(),
        OutputKind::Linear => outputs
            .iter()
            .zip(target)
            .map(|(&y, &t)| V::from_f64(0.5) * (y - t).powi(2))
            .sum(),
    }
}

fn is_correct<V: Real>(
    kind: OutputKind,
    outputs: &[V],
    target: &[V],
    label: Option<usize>,
) -> bool {
    let half = V::from_f64(0.5);
    match (kind, label) {
        (OutputKind::Softmax, _) => Some(arg_max(outputs)) == label.or(Some(arg_max(target))),
        (OutputKind::Logistic, Some(label)) if outputs.len() > 1 => arg_max(outputs) == label,
        (OutputKind::Logistic, _) => outputs
            .iter()
            .zip(target)
            .all(|(&p, &t)| (p >= half) == (t >= half)),
        (OutputKind::Linear, Some(label)) if outputs.len() == 1 => {
            outputs[0].round() == V::from_f64(label as f64)
        }
        (OutputKind::Linear, Some(label)) => arg_max(outputs) == label,
        (OutputKind::Linear, None) => false,
    }
}

/// Errors unless `data` has `M::INPUT` features, finite values and targets the model trains
/// on: class labels it has outputs for, or value rows of its width.
pub fn check_dataset<M: Network>(data: &Dataset<M::Float>, role: &str) -> Result<(), Error> {
    if data.features() != M::INPUT {
        return Err(Error::Data {
            path: file_of(data, role, Part::Features),
            message: format!(
                "samples have {} features, the model `{}` takes {}",
                data.features(),
                M::META.name,
                M::INPUT
            ),
        });
    }
    check_targets::<M>(data, role)?;
    check_finite(data, role)?;
    let Some(classes) = label_bound::<M>() else {
        return Ok(());
    };
    if let Some(row) = data.labels.iter().position(|&l| l as usize >= classes) {
        return Err(Error::Data {
            path: file_of(data, role, Part::Targets),
            message: format!(
                "{}: label {} out of range: the model has {} outputs, so labels go from 0 to {}",
                place_of(data, row),
                data.labels[row],
                M::OUTPUT,
                classes - 1
            ),
        });
    }
    Ok(())
}

/// The labels a model takes are below this bound: one per output unit (softmax, one-vs-all),
/// 0 and 1 for a single logistic unit (yes/no); `None` for a single mse unit, which regresses
/// the label as a number (`loss mse` on a CSV label column).
fn label_bound<M: Network>() -> Option<usize> {
    match (M::OUTPUT_KIND, M::OUTPUT) {
        (OutputKind::Linear, 1) => None,
        (OutputKind::Logistic, 1) => Some(2),
        (_, outputs) => Some(outputs),
    }
}

/// Errors on a NaN or infinite feature or target value: it would poison the weights (a NaN
/// input through relu still gives a finite loss, so divergence checks would not see it).
/// Loaders refuse such values already; this catches data built in memory or overflowed by
/// `scale`.
fn check_finite<V: Real>(data: &Dataset<V>, role: &str) -> Result<(), Error> {
    let first_bad_target = data
        .targets
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite())
        .map(|(at, &value)| (at, value));
    for (bad, width, part, what) in [
        (
            data.x.first_non_finite(),
            data.features(),
            Part::Features,
            "feature",
        ),
        (
            first_bad_target,
            data.target_width(),
            Part::Targets,
            "target",
        ),
    ] {
        if let Some((at, value)) = bad {
            let width = width.max(1);
            return Err(Error::Data {
                path: file_of(data, role, part),
                message: format!(
                    "{}, {what} {}: the value is {value}; data must be finite numbers",
                    place_of(data, at / width),
                    at % width
                ),
            });
        }
    }
    Ok(())
}

/// Which file of a dataset an error is about.
#[derive(Clone, Copy)]
enum Part {
    Features,
    Targets,
}

/// The file of `data`'s features or targets, or `<role data>` for data built in memory.
fn file_of<V: Real>(data: &Dataset<V>, role: &str, part: Part) -> PathBuf {
    match (data.origin(), part) {
        (Some(origin), Part::Features) => origin.features_file().to_path_buf(),
        (Some(origin), Part::Targets) => origin.targets_file().to_path_buf(),
        (None, _) => PathBuf::from(format!("<{role} data>")),
    }
}

/// Row `row`'s place in its file (`line 17`, `record 1234`), or `sample 3` for data built in
/// memory. Never the row's index in a split: that changes with the seed.
fn place_of<V: Real>(data: &Dataset<V>, row: usize) -> String {
    match data.origin() {
        Some(origin) => origin.place(row),
        None => format!("sample {row}"),
    }
}

/// Errors unless the dataset's kind of targets is the one the model trains on: value rows of
/// width `M::OUTPUT` for a [`TargetKind::Values`] model (0/1 for logistic), class labels
/// otherwise.
fn check_targets<M: Network>(data: &Dataset<M::Float>, role: &str) -> Result<(), Error> {
    let error = |message| Error::Data {
        path: file_of(data, role, Part::Targets),
        message,
    };
    match (M::TARGET_KIND, data.has_value_targets()) {
        (TargetKind::Classes, false) => Ok(()),
        (TargetKind::Classes, true) => Err(error(format!(
            "the data has {} target columns, but the model `{}` trains on one class label per sample (write `label=` instead of `targets=`)",
            data.target_width(),
            M::META.name
        ))),
        (TargetKind::Values, false) => Err(error(format!(
            "the model `{}` trains on {} target values per sample, but the data has class labels (write `targets=` in the csv source)",
            M::META.name,
            M::OUTPUT
        ))),
        (TargetKind::Values, true) if data.target_width() != M::OUTPUT => Err(error(format!(
            "the data has {} target columns, the model `{}` has {} outputs",
            data.target_width(),
            M::META.name,
            M::OUTPUT
        ))),
        (TargetKind::Values, true) => {
            let binary = |t: &M::Float| *t == M::Float::ZERO || *t == M::Float::ONE;
            match data.targets.iter().position(|t| !binary(t)) {
                Some(at) if M::OUTPUT_KIND == OutputKind::Logistic => Err(error(format!(
                    "{}: target {} is not 0 or 1, as multi-label logistic targets must be",
                    place_of(data, at / M::OUTPUT),
                    data.targets.iter().nth(at).copied().unwrap_or_default()
                ))),
                _ => Ok(()),
            }
        }
    }
}

fn dataset_error(role: &str, message: String) -> Error {
    Error::Data {
        path: PathBuf::from(format!("<{role} data>")),
        message,
    }
}

/// The samples as one row-major slice (copied only if `x` is not already laid out that way).
pub fn row_major<V: Clone>(x: &Array2<V>) -> Cow<'_, [V]> {
    match x.as_slice() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(x.iter().cloned().collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_model::{LogReg, LogRegHyper, separable_dataset};

    #[test]
    fn losses_by_output_kind() {
        let p = [0.7, 0.2, 0.1];
        let one_hot = [1.0, 0.0, 0.0];
        let loss = |kind, target: &[f32], label| sample_loss(kind, &p, target, label);
        assert!((loss(OutputKind::Softmax, &one_hot, Some(0)) - -(0.7f32.ln())).abs() < 1e-6);
        let certain = sample_loss(OutputKind::Softmax, &[0.0, 1.0], &[1.0, 0.0], Some(0));
        assert!((certain - 27.631021).abs() < 1e-4);
        let bce = -(0.7f32.ln() + 0.8f32.ln() + 0.9f32.ln());
        assert!((loss(OutputKind::Logistic, &one_hot, Some(0)) - bce).abs() < 1e-6);
        // Multi-hot: labels 0 and 2 are on.
        let bce = -(0.7f32.ln() + 0.8f32.ln() + 0.1f32.ln());
        assert!((loss(OutputKind::Logistic, &[1.0, 0.0, 1.0], None) - bce).abs() < 1e-6);
        // mse is Σ_j ½(y − t)² per sample.
        let mse = 0.5 * (0.09 + 0.04 + 0.01);
        assert!((loss(OutputKind::Linear, &one_hot, Some(0)) - mse).abs() < 1e-6);
        let mse = 0.5 * (0.25 + 0.04 + 0.81);
        assert!((loss(OutputKind::Linear, &[1.2, 0.0, -0.8], None) - mse).abs() < 1e-6);
    }

    #[test]
    fn correctness_by_output_kind_and_targets() {
        let p = [0.7, 0.2, 0.6];
        assert!(is_correct(OutputKind::Logistic, &p, &[0.0; 3], Some(0)));
        assert!(is_correct(OutputKind::Logistic, &p, &[1.0, 0.0, 1.0], None));
        assert!(!is_correct(
            OutputKind::Logistic,
            &p,
            &[1.0, 0.0, 0.0],
            None
        ));
        // One logistic unit: thresholded at 0.5 against the 0/1 label.
        assert!(is_correct(OutputKind::Logistic, &[0.6], &[1.0], Some(1)));
        assert!(!is_correct(OutputKind::Logistic, &[0.4], &[1.0], Some(1)));
        assert!(is_correct(OutputKind::Linear, &[2.4], &[2.0], Some(2)));
        assert!(!is_correct(
            OutputKind::Linear,
            &[0.5, 1.0],
            &[0.5, 1.0],
            None
        ));
    }

    #[test]
    fn a_label_becomes_a_one_hot_row_or_a_single_value() {
        let data = separable_dataset(3, 1);
        let mut target = [9.0; 3];
        assert_eq!(sample_target(&data, 2, 3, &mut target), Some(2));
        assert_eq!(target, [0.0, 0.0, 1.0]);
        let mut single = [9.0];
        assert_eq!(sample_target(&data, 2, 1, &mut single), Some(2));
        assert_eq!(single, [2.0]);
        let values = Dataset::with_targets(
            Array2::zeros((2, 1)),
            ndarray::array![[0.5, 1.5], [2.5, 3.5]],
        )
        .unwrap();
        let mut row = [0.0; 2];
        assert_eq!(sample_target(&values, 1, 2, &mut row), None);
        assert_eq!(row, [2.5, 3.5]);
    }

    #[test]
    fn summary_lines_by_metric() {
        let evaluation = Evaluation {
            loss: 0.25,
            accuracy: 0.912,
            samples: 10,
            rmse: None,
            exact_match: true,
        };
        assert_eq!(
            evaluation.summary_line(),
            "test exact-match accuracy 91.20% (loss 0.2500)"
        );
        let regression = Evaluation {
            rmse: Some(0.1234),
            exact_match: false,
            ..evaluation
        };
        assert_eq!(regression.summary_line(), "test rmse 0.1234 (loss 0.2500)");
        let classes = Evaluation {
            exact_match: false,
            ..evaluation
        };
        assert_eq!(classes.summary_line(), "test accuracy 91.20% (loss 0.2500)");
    }

    #[test]
    fn value_targets_are_refused_by_a_class_model() {
        let data = Dataset::with_targets(Array2::zeros((4, 4)), Array2::zeros((4, 3))).unwrap();
        let mut model = LogReg::new(LogRegHyper::zero_init(), 0);
        let error = evaluate(&mut model, &data).unwrap_err();
        assert!(
            error.to_string().contains(
                "the data has 3 target columns, but the model `logreg` trains on one class label"
            ),
            "{error}"
        );
    }

    #[test]
    fn arg_max_takes_the_first_largest() {
        assert_eq!(arg_max(&[0.1, 0.5, 0.5, 0.2]), 1);
        assert_eq!(arg_max(&[f32::NAN, 0.5]), 1);
    }

    #[test]
    fn a_partial_last_batch_is_evaluated_and_counted() {
        // 8-row batches over 21 samples: 8 + 8 + 5.
        let data = separable_dataset(21, 3);
        let mut model = LogReg::new(LogRegHyper::zero_init(), 0);
        let evaluation = evaluate(&mut model, &data).unwrap();
        assert_eq!(evaluation.samples, 21);
        // Zero-initialized logistic regression predicts uniform probabilities.
        assert!(
            (evaluation.loss - 3.0f32.ln()).abs() < 1e-5,
            "{evaluation:?}"
        );
    }

    #[test]
    fn out_of_range_labels_and_wrong_widths_are_refused() {
        let mut data = separable_dataset(10, 3);
        data.labels[4] = 3;
        let mut model = LogReg::new(LogRegHyper::zero_init(), 0);
        let error = evaluate(&mut model, &data).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("label 3 out of range: the model has 3 outputs"),
            "{error}"
        );
        let narrow = Dataset::new(Array2::zeros((4, 2)), vec![0; 4]).unwrap();
        let error = evaluate(&mut model, &narrow).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("samples have 2 features, the model `logreg` takes 4"),
            "{error}"
        );
    }

    #[test]
    fn a_bad_row_is_named_by_its_file_line_whatever_the_split() {
        // 30 rows of 4 features and a label from line 3 on (after a header and a blank line); line 18 has
        // label 3, which a 3-class model cannot take.
        let mut text = String::from("a,b,c,d,label\n\n");
        for row in 0..30 {
            let label = if row == 15 { 3 } else { row % 3 };
            text += &format!("{row},1,2,3,{label}\n");
        }
        let path = crate::test_model::temp_path("bad-row.csv");
        std::fs::write(&path, text).unwrap();
        let cfg = crate::config::DataConfig {
            train: crate::config::DataSource::Csv {
                path: path.clone(),
                label_column: -1,
                header: true,
            },
            test: None,
            validation: crate::config::ValidationSplit::Count(10),
            scale: 1.0,
            base_dir: None,
        };
        let expected = format!(
            "{}: line 18: label 3 out of range: the model has 3 outputs, so labels go from 0 to 2",
            path.display()
        );
        let mut model = LogReg::new(LogRegHyper::zero_init(), 0);
        for seed in 0..6 {
            let splits = crate::data::load_splits(&cfg, seed).unwrap();
            let validation = splits.validation.unwrap();
            let errors: Vec<String> = [&splits.train, &validation]
                .into_iter()
                .filter_map(|data| evaluate(&mut model, data).err())
                .map(|e| e.to_string())
                .collect();
            assert_eq!(errors, std::slice::from_ref(&expected), "seed {seed}");
        }
    }

    #[test]
    fn non_finite_values_are_refused() {
        let mut model = LogReg::new(LogRegHyper::zero_init(), 0);
        let mut data = separable_dataset(10, 1);
        data.x.floats_mut().unwrap()[[3, 1]] = f32::NAN;
        let error = evaluate(&mut model, &data).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("sample 3, feature 1: the value is NaN"),
            "{error}"
        );
        data.x.floats_mut().unwrap()[[3, 1]] = f32::INFINITY;
        let error = evaluate(&mut model, &data).unwrap_err();
        assert!(error.to_string().contains("the value is inf"), "{error}");
    }
}
