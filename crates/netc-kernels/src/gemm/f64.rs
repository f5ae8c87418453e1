//! The same products in f64 (portable code: correctness first, auto-vectorized loops), split
//! by rows of C over threads like the f32 ones.

use super::{check, portable, split};

/// C[m×n] (+)= A[m×k] · B[k×n]
pub fn nn(m: usize, n: usize, k: usize, a: &[f64], b: &[f64], c: &mut [f64], accumulate: bool) {
    check::lengths(m, n, k, a, b, c);
    split::by_rows(m, n, k, c, &|rows, c| {
        portable::nn(rows.len(), n, k, &a[rows.start * k..], b, c, accumulate)
    });
}

/// C[m×n] (+)= A[m×k] · B[n×k]ᵀ
pub fn nt(m: usize, n: usize, k: usize, a: &[f64], b: &[f64], c: &mut [f64], accumulate: bool) {
    check::lengths(m, n, k, a, b, c);
    split::by_rows(m, n, k, c, &|rows, c| {
        portable::nt(rows.len(), n, k, &a[rows.start * k..], b, c, accumulate)
    });
}

/// C[m×n] (+)= A[k×m]ᵀ · B[k×n]
pub fn tn(m: usize, n: usize, k: usize, a: &[f64], b: &[f64], c: &mut [f64], accumulate: bool) {
    check::lengths(m, n, k, a, b, c);
    split::by_rows(m, n, k, c, &|rows, c| {
        portable::tn(rows.len(), n, k, &a[rows.start..], m, b, c, accumulate)
    });
}
