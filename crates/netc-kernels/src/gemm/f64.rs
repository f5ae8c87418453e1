//! The same products in f64: the f32 kernels' source instantiated for doubles (half the
//! columns per register), on the same detected path and split over threads the same way.

use super::{Isa, nn_on, nt_on, tn_on};

/// C[m×n] (+)= A[m×k] · B[k×n]
pub fn nn(m: usize, n: usize, k: usize, a: &[f64], b: &[f64], c: &mut [f64], accumulate: bool) {
    nn_on(Isa::detect(), m, n, k, a, b, c, accumulate);
}

/// C[m×n] (+)= A[m×k] · B[n×k]ᵀ
pub fn nt(m: usize, n: usize, k: usize, a: &[f64], b: &[f64], c: &mut [f64], accumulate: bool) {
    nt_on(Isa::detect(), m, n, k, a, b, c, accumulate);
}

/// C[m×n] (+)= A[k×m]ᵀ · B[k×n]
pub fn tn(m: usize, n: usize, k: usize, a: &[f64], b: &[f64], c: &mut [f64], accumulate: bool) {
    tn_on(Isa::detect(), m, n, k, a, b, c, accumulate);
}
