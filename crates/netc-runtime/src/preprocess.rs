//! `preprocess` (data block): input normalization as a fixed first stage of the model. The
//! statistics come from the training split only (never validation or test) and live in the
//! model as two persistent tensors, `input.shift` and `input.scale` (x' = (x − shift)·scale),
//! so checkpoints carry them and prediction on raw data is normalized the same way.

use crate::error::Error;
use crate::features::FeatureView;
use crate::network::Network;
use crate::real::Real;
use crate::scalar::Scalar;

/// Which statistics a model's input stage uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preprocess {
    /// Subtract the training set's mean image (one mean per input feature).
    MeanImage,
    /// Subtract one mean per channel; feature j belongs to channel j mod `channels`
    /// (images are stored height × width × channels, channels fastest).
    ChannelMean { channels: usize },
    /// Per feature: subtract the mean, divide by the standard deviation (population, /n). A
    /// feature that is constant in the training set is only shifted (scale 1).
    Standardize,
}

/// Names of the two tensors the generated input stage exposes in `tensors()`.
pub const SHIFT_TENSOR: &str = "input.shift";
pub const SCALE_TENSOR: &str = "input.scale";

/// (shift, scale) per input feature from the training inputs `x` (samples × features).
pub fn statistics<V: Real>(kind: Preprocess, x: FeatureView<'_, V>) -> (Vec<f64>, Vec<f64>) {
    let (n, features) = (x.rows(), x.width());
    let n = n.max(1) as f64;
    let mut mean = vec![0.0f64; features];
    x.for_each_row(|_, row| {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v.to_f64();
        }
    });
    for m in &mut mean {
        *m /= n;
    }
    match kind {
        Preprocess::MeanImage => (mean, vec![1.0; features]),
        Preprocess::ChannelMean { channels } => {
            let channels = channels.max(1);
            let mut per_channel = vec![0.0f64; channels];
            let mut count = vec![0usize; channels];
            for (j, m) in mean.iter().enumerate() {
                per_channel[j % channels] += m;
                count[j % channels] += 1;
            }
            let shift = (0..features)
                .map(|j| per_channel[j % channels] / count[j % channels].max(1) as f64)
                .collect();
            (shift, vec![1.0; features])
        }
        Preprocess::Standardize => {
            let mut var = vec![0.0f64; features];
            x.for_each_row(|_, row| {
                for ((s, &v), m) in var.iter_mut().zip(row).zip(&mean) {
                    let d = v.to_f64() - m;
                    *s += d * d;
                }
            });
            let scale = var
                .iter()
                .map(|s| {
                    let std = (s / n).sqrt();
                    if std > 1e-12 { 1.0 / std } else { 1.0 }
                })
                .collect();
            (mean, scale)
        }
    }
}

/// Computes the statistics on `train` and writes them into the model's input stage.
pub fn fit_input_stage<M: Network>(
    model: &mut M,
    kind: Preprocess,
    train: FeatureView<'_, M::Float>,
) -> Result<(), Error> {
    let (shift, scale) = statistics(kind, train);
    let Some(stage) = model.input_stage_mut() else {
        return Err(Error::Usage(format!(
            "model `{}` is given preprocessing but has no input stage",
            M::META.name
        )));
    };
    if stage.shift.len() != shift.len() || stage.scale.len() != scale.len() {
        return Err(Error::Usage(format!(
            "the input stage has {} values, the training inputs {} features",
            stage.shift.len(),
            shift.len()
        )));
    }
    for (dst, &v) in stage.shift.iter_mut().zip(&shift) {
        *dst = M::Float::from_f64(v);
    }
    for (dst, &v) in stage.scale.iter_mut().zip(&scale) {
        *dst = M::Float::from_f64(v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;
    use crate::features::Features;

    fn data() -> Features {
        // 4 samples, 4 features = 2 pixels × 2 channels (channels fastest).
        Array2::from_shape_vec(
            (4, 4),
            vec![
                1.0, 10.0, 3.0, 30.0, //
                3.0, 10.0, 5.0, 50.0, //
                1.0, 10.0, 3.0, 30.0, //
                3.0, 10.0, 5.0, 50.0,
            ],
        )
        .unwrap()
        .into()
    }

    #[test]
    fn mean_image_is_the_per_feature_mean() {
        let (shift, scale) = statistics(Preprocess::MeanImage, data().view());
        assert_eq!(shift, vec![2.0, 10.0, 4.0, 40.0]);
        assert_eq!(scale, vec![1.0; 4]);
    }

    #[test]
    fn channel_mean_averages_every_pixel_of_a_channel() {
        let (shift, _) = statistics(Preprocess::ChannelMean { channels: 2 }, data().view());
        // channel 0: features 0 and 2 → (2 + 4)/2; channel 1: features 1 and 3 → (10 + 40)/2.
        assert_eq!(shift, vec![3.0, 25.0, 3.0, 25.0]);
    }

    #[test]
    fn standardize_divides_by_the_population_std_and_leaves_constants_unscaled() {
        let (shift, scale) = statistics(Preprocess::Standardize, data().view());
        assert_eq!(shift, vec![2.0, 10.0, 4.0, 40.0]);
        // std of {1,3,1,3} = 1; {10,10,10,10} is constant; {30,50,30,50} → 10.
        assert_eq!(scale, vec![1.0, 1.0, 1.0, 0.1]);
    }
}
