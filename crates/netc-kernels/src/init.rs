//! Parameter initialization schemes.

use crate::rng::Rng;
use crate::scalar::Scalar;

/// How a weight matrix or bias vector starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    Zeros,
    /// N(0, std²).
    Normal {
        std: f32,
    },
    /// U(−a, a).
    Uniform {
        a: f32,
    },
    /// N(0, 1/fan_in).
    Xavier,
    /// N(0, 2/(fan_in + fan_out)).
    Glorot,
    /// N(0, 2/fan_in).
    He,
}

/// Fills `w` (a [fan_out × fan_in] weight or a bias) by the scheme: xavier N(0, 1/fan_in),
/// glorot N(0, 2/(fan_in+fan_out)), he N(0, 2/fan_in), normal N(0,std²), uniform U(−a,a).
///
/// Values are drawn in order, one per element, so the same `rng` state gives the same tensor;
/// an f64 model gets the same draws as its f32 twin, widened.
pub fn fill<T: Scalar>(w: &mut [T], init: Init, fan_in: usize, fan_out: usize, rng: &mut Rng) {
    // max(1) keeps a degenerate 0-fan layer finite instead of dividing by zero.
    let fan_in = fan_in.max(1) as f32;
    let fan_out = fan_out.max(1) as f32;
    let std = match init {
        Init::Zeros => {
            w.fill(T::from_f64(0.0));
            return;
        }
        Init::Uniform { a } => {
            for v in w.iter_mut() {
                *v = T::from_f64(f64::from((2.0 * rng.uniform() - 1.0) * a));
            }
            return;
        }
        Init::Normal { std } => std,
        Init::Xavier => (1.0 / fan_in).sqrt(),
        Init::Glorot => (2.0 / (fan_in + fan_out)).sqrt(),
        Init::He => (2.0 / fan_in).sqrt(),
    };
    for v in w.iter_mut() {
        *v = T::from_f64(f64::from(rng.normal() * std));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variance_of(init: Init, fan_in: usize, fan_out: usize) -> f64 {
        let mut w = vec![0.0f32; 50_000];
        fill(&mut w, init, fan_in, fan_out, &mut Rng::new(9, 1));
        w.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / w.len() as f64
    }

    #[test]
    fn schemes_have_their_documented_variance() {
        let close = |actual: f64, expected: f64| (actual / expected - 1.0).abs() < 0.05;
        assert!(close(variance_of(Init::Xavier, 100, 10), 1.0 / 100.0));
        assert!(close(variance_of(Init::Glorot, 100, 50), 2.0 / 150.0));
        assert!(close(variance_of(Init::He, 200, 10), 2.0 / 200.0));
        assert!(close(variance_of(Init::Normal { std: 0.5 }, 1, 1), 0.25));
        // U(-a, a) has variance a²/3.
        assert!(close(
            variance_of(Init::Uniform { a: 0.3 }, 1, 1),
            0.09 / 3.0
        ));
    }

    #[test]
    fn zeros_and_bounds() {
        let mut w = vec![1.0; 16];
        fill(&mut w, Init::Zeros, 4, 4, &mut Rng::new(0, 1));
        assert!(w.iter().all(|&v| v == 0.0));
        fill(&mut w, Init::Uniform { a: 0.1 }, 4, 4, &mut Rng::new(0, 1));
        assert!(w.iter().all(|&v| (-0.1..0.1).contains(&v)));
        assert!(w.iter().any(|&v| v != 0.0));
    }

    #[test]
    fn same_rng_state_gives_same_tensor() {
        let mut a = vec![0.0; 32];
        let mut b = vec![0.0; 32];
        fill(&mut a, Init::He, 8, 4, &mut Rng::new(5, 1));
        fill(&mut b, Init::He, 8, 4, &mut Rng::new(5, 1));
        assert_eq!(a, b);
    }
}
