//! Inference on raw feature rows.

use crate::error::Error;
use crate::evaluate::PredictFn;
use crate::network::Network;
use crate::real::Real;

/// Outputs for every row of `x` (row-major, `M::INPUT` values per row), computed `M::BATCH`
/// rows at a time.
///
/// # Shapes
/// - x: `[rows * INPUT]`
/// - returns `[rows * OUTPUT]`
pub fn predict<M: Network>(model: &mut M, x: &[M::Float]) -> Result<Vec<M::Float>, Error> {
    predict_by::<M>(&mut |x, rows, out| model.predict_batch(x, rows, out), x)
}

/// [`predict`] with the outputs `predict_batch` writes (one model's, or an ensemble's).
pub(crate) fn predict_by<M: Network>(
    predict_batch: &mut PredictFn<'_, M::Float>,
    x: &[M::Float],
) -> Result<Vec<M::Float>, Error> {
    if !x.len().is_multiple_of(M::INPUT) {
        return Err(Error::Usage(format!(
            "{} input values are not whole samples: the model `{}` takes {} features per sample",
            x.len(),
            M::META.name,
            M::INPUT
        )));
    }
    if let Some(at) = x.iter().position(|v| !v.is_finite()) {
        return Err(Error::Data {
            path: "<predict input>".into(),
            message: format!(
                "sample {}, feature {}: the value is {}; inputs must be finite numbers",
                at / M::INPUT,
                at % M::INPUT,
                x[at]
            ),
        });
    }
    let rows = x.len() / M::INPUT;
    let mut out = vec![M::Float::ZERO; rows * M::OUTPUT];
    for (inputs, outputs) in x
        .chunks(M::BATCH * M::INPUT)
        .zip(out.chunks_mut(M::BATCH * M::OUTPUT))
    {
        predict_batch(inputs, inputs.len() / M::INPUT, outputs);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_model::{LogReg, LogRegHyper};

    #[test]
    fn predicts_every_row_including_a_partial_batch() {
        let mut model = LogReg::new(LogRegHyper::zero_init(), 0);
        let out = predict(&mut model, &[0.5; 4 * 11]).unwrap();
        assert_eq!(out.len(), 11 * 3);
        assert!(out.iter().all(|&p| (p - 1.0 / 3.0).abs() < 1e-6));
    }

    #[test]
    fn refuses_nan_and_infinite_inputs_naming_sample_and_feature() {
        let mut model = LogReg::new(LogRegHyper::zero_init(), 0);
        for (bad, shown) in [(f32::NAN, "NaN"), (f32::NEG_INFINITY, "-inf")] {
            let mut x = [0.5; 4 * 3];
            x[9] = bad;
            let error = predict(&mut model, &x).unwrap_err().to_string();
            assert_eq!(
                error,
                format!(
                    "<predict input>: sample 2, feature 1: the value is {shown}; inputs must be \
                     finite numbers"
                )
            );
        }
    }

    #[test]
    fn refuses_a_partial_row() {
        let mut model = LogReg::new(LogRegHyper::zero_init(), 0);
        let error = predict(&mut model, &[0.0; 6]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("6 input values are not whole samples"),
            "{error}"
        );
    }
}
