//! Dense Cholesky factorization A = L·Lᵀ and the solve with it, on row-major n×n storage
//! where only the lower triangle is read or written (Newton keeps the Hessian's upper half
//! there, so one n×n buffer is enough).

/// Overwrites the lower triangle of `a` (diagonal included) with L; returns `false`, with
/// the lower triangle clobbered, when a pivot is not above `min_pivot` (A is not positive
/// definite, or so nearly singular that its solve would be mostly roundoff).
pub(super) fn factor_lower(a: &mut [f64], n: usize, min_pivot: f64) -> bool {
    for j in 0..n {
        let row_j = j * n;
        let pivot = a[row_j + j] - dot_prefix(a, row_j, row_j, j);
        if !(pivot > min_pivot && pivot.is_finite()) {
            return false;
        }
        let diagonal = pivot.sqrt();
        a[row_j + j] = diagonal;
        for i in j + 1..n {
            let row_i = i * n;
            a[row_i + j] = (a[row_i + j] - dot_prefix(a, row_i, row_j, j)) / diagonal;
        }
    }
    true
}

/// Solves L·Lᵀ·x = b in place (`b` becomes x), with L from [`factor_lower`].
pub(super) fn solve_lower(l: &[f64], n: usize, b: &mut [f64]) {
    // Forward: L·z = b.
    for i in 0..n {
        let row = i * n;
        let sum: f64 = (0..i).map(|k| l[row + k] * b[k]).sum();
        b[i] = (b[i] - sum) / l[row + i];
    }
    // Backward: Lᵀ·x = z, Lᵀ[i][k] = L[k][i].
    for i in (0..n).rev() {
        let sum: f64 = (i + 1..n).map(|k| l[k * n + i] * b[k]).sum();
        b[i] = (b[i] - sum) / l[i * n + i];
    }
}

/// Σₖ₍ₖ<len₎ a[row_a + k]·a[row_b + k]
fn dot_prefix(a: &[f64], row_a: usize, row_b: usize, len: usize) -> f64 {
    a[row_a..row_a + len]
        .iter()
        .zip(&a[row_b..row_b + len])
        .map(|(x, y)| x * y)
        .sum()
}
