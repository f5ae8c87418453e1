//! The same products in f64 (portable code: correctness first, auto-vectorized loops).

use super::{check, portable};

/// C[m×n] (+)= A[m×k] · B[k×n]
pub fn nn(m: usize, n: usize, k: usize, a: &[f64], b: &[f64], c: &mut [f64], accumulate: bool) {
    check::lengths(m, n, k, a, b, c);
    portable::nn(m, n, k, a, b, c, accumulate);
}

/// C[m×n] (+)= A[m×k] · B[n×k]ᵀ
pub fn nt(m: usize, n: usize, k: usize, a: &[f64], b: &[f64], c: &mut [f64], accumulate: bool) {
    check::lengths(m, n, k, a, b, c);
    portable::nt(m, n, k, a, b, c, accumulate);
}

/// C[m×n] (+)= A[k×m]ᵀ · B[k×n]
pub fn tn(m: usize, n: usize, k: usize, a: &[f64], b: &[f64], c: &mut [f64], accumulate: bool) {
    check::lengths(m, n, k, a, b, c);
    portable::tn(m, n, k, a, b, c, accumulate);
}
