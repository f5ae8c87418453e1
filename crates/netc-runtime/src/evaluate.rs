//! Loss and accuracy of a model on a dataset, in inference mode.

use std::borrow::Cow;
use std::path::PathBuf;

use ndarray::Array2;

use crate::data::Dataset;
use crate::error::Error;
use crate::network::{Network, OutputKind};

/// Floor for probabilities inside logarithms, so a confident wrong answer costs ~27.6, not ∞.
const PROBABILITY_FLOOR: f32 = 1e-12;

/// Mean loss and accuracy over `samples` samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub loss: f32,
    /// Fraction (0..=1) of samples whose arg-max output equals the label.
    pub accuracy: f32,
    pub samples: usize,
}

/// Runs `predict_batch` over `data` in batches of `M::BATCH` rows (the last one partial) and
/// scores the outputs by `M::OUTPUT_KIND`: softmax mean `−ln max(p[label], 1e-12)`; logistic mean
/// over samples of Σ_j binary cross-entropy against the one-hot label; linear mean squared
/// error against the one-hot label (mean over samples and outputs).
pub fn evaluate<M: Network>(model: &mut M, data: &Dataset) -> Result<Evaluation, Error> {
    check_dataset::<M>(data, "evaluation")?;
    if data.is_empty() {
        return Err(dataset_error(
            "evaluation",
            "the dataset is empty".to_string(),
        ));
    }
    let x = row_major(&data.x);
    let mut out = vec![0.0f32; M::BATCH * M::OUTPUT];
    let (mut loss_sum, mut correct) = (0.0f64, 0usize);
    for (batch_index, labels) in data.labels.chunks(M::BATCH).enumerate() {
        let rows = labels.len();
        let first = batch_index * M::BATCH * M::INPUT;
        model.predict_batch(
            &x[first..first + rows * M::INPUT],
            rows,
            &mut out[..rows * M::OUTPUT],
        );
        for (outputs, &label) in out.chunks_exact(M::OUTPUT).zip(labels) {
            loss_sum += f64::from(sample_loss(M::OUTPUT_KIND, outputs, label as usize));
            correct += usize::from(arg_max(outputs) == label as usize);
        }
    }
    let samples = data.len();
    Ok(Evaluation {
        loss: (loss_sum / samples as f64) as f32,
        accuracy: correct as f32 / samples as f32,
        samples,
    })
}

/// Index of the largest output (the first one on ties; NaN never wins).
pub fn arg_max(outputs: &[f32]) -> usize {
    let mut best = 0;
    for (i, &value) in outputs.iter().enumerate() {
        if value > outputs[best] || (outputs[best].is_nan() && !value.is_nan()) {
            best = i;
        }
    }
    best
}

fn sample_loss(kind: OutputKind, outputs: &[f32], label: usize) -> f32 {
    match kind {
        OutputKind::Softmax => -outputs[label].max(PROBABILITY_FLOOR).ln(),
        OutputKind::Logistic => outputs
            .iter()
            .enumerate()
            .map(|(j, &p)| {
                let p_target = if j == label { p } else { 1.0 - p };
                -p_target.max(PROBABILITY_FLOOR).ln()
            })
            .sum(),
        OutputKind::Linear => {
            let squares: f32 = outputs
                .iter()
                .enumerate()
                .map(|(j, &y)| (y - if j == label { 1.0 } else { 0.0 }).powi(2))
                .sum();
            squares / outputs.len() as f32
        }
    }
}

/// Errors unless `data` has `M::INPUT` features and every label is below `M::OUTPUT`.
pub(crate) fn check_dataset<M: Network>(data: &Dataset, role: &str) -> Result<(), Error> {
    if data.features() != M::INPUT {
        return Err(dataset_error(
            role,
            format!(
                "samples have {} features, the model `{}` takes {}",
                data.features(),
                M::META.name,
                M::INPUT
            ),
        ));
    }
    if let Some(&label) = data.labels.iter().find(|&&l| l as usize >= M::OUTPUT) {
        return Err(dataset_error(
            role,
            format!(
                "label {label} out of range: the model has {} outputs",
                M::OUTPUT
            ),
        ));
    }
    Ok(())
}

fn dataset_error(role: &str, message: String) -> Error {
    Error::Data {
        path: PathBuf::from(format!("<{role} data>")),
        message,
    }
}

/// The samples as one row-major slice (copied only if `x` is not already laid out that way).
pub(crate) fn row_major(x: &Array2<f32>) -> Cow<'_, [f32]> {
    match x.as_slice() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(x.iter().copied().collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_model::{LogReg, LogRegHyper, separable_dataset};

    #[test]
    fn losses_by_output_kind() {
        let p = [0.7, 0.2, 0.1];
        assert!((sample_loss(OutputKind::Softmax, &p, 0) - -(0.7f32.ln())).abs() < 1e-6);
        assert!((sample_loss(OutputKind::Softmax, &[0.0, 1.0], 0) - 27.631021).abs() < 1e-4);
        let bce = -(0.7f32.ln() + 0.8f32.ln() + 0.9f32.ln());
        assert!((sample_loss(OutputKind::Logistic, &p, 0) - bce).abs() < 1e-6);
        let mse = (0.09 + 0.04 + 0.01) / 3.0;
        assert!((sample_loss(OutputKind::Linear, &p, 0) - mse).abs() < 1e-6);
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
}
