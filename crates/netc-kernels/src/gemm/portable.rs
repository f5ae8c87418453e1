//! Plain Rust kernels, generic over the element type: the fallback on CPUs without AVX2+FMA
//! and on other architectures (and the tests' reference). Loop orders keep every inner loop
//! contiguous so the compiler can vectorize it.

use super::float::Float;

/// Independent partial sums in a dot product (lets the compiler keep a vector of them).
const DOT_LANES: usize = 8;

/// C[m×n] (+)= A[m×k] · B[k×n]: each C row accumulates scaled B rows.
pub(super) fn nn<T: Float>(m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &mut [T], acc: bool) {
    if n == 0 {
        return;
    }
    for (i, c_row) in c[..m * n].chunks_exact_mut(n).enumerate() {
        if !acc {
            c_row.fill(T::ZERO);
        }
        let a_row = &a[i * k..(i + 1) * k];
        for (&a_ip, b_row) in a_row.iter().zip(b.chunks_exact(n)) {
            axpy(a_ip, b_row, c_row);
        }
    }
}

/// C[m×n] (+)= A[m×k] · B[n×k]ᵀ: each C element is a dot product of two contiguous rows.
pub(super) fn nt<T: Float>(m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &mut [T], acc: bool) {
    if n == 0 {
        return;
    }
    for (i, c_row) in c[..m * n].chunks_exact_mut(n).enumerate() {
        let a_row = &a[i * k..(i + 1) * k];
        for (j, c_ij) in c_row.iter_mut().enumerate() {
            let d = dot(a_row, &b[j * k..(j + 1) * k]);
            *c_ij = if acc { *c_ij + d } else { d };
        }
    }
}

/// C[m×n] (+)= A[k×m]ᵀ · B[k×n] where A's rows are `lda ≥ m` apart (the first m columns of a
/// wider matrix): row p of A scales row p of B into every C row.
#[allow(clippy::too_many_arguments)]
pub(super) fn tn<T: Float>(
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    lda: usize,
    b: &[T],
    c: &mut [T],
    acc: bool,
) {
    if n == 0 || m == 0 {
        return;
    }
    let c = &mut c[..m * n];
    if !acc {
        c.fill(T::ZERO);
    }
    for p in 0..k {
        let b_row = &b[p * n..(p + 1) * n];
        for (&a_pi, c_row) in a[p * lda..p * lda + m].iter().zip(c.chunks_exact_mut(n)) {
            axpy(a_pi, b_row, c_row);
        }
    }
}

/// y += alpha · x
fn axpy<T: Float>(alpha: T, x: &[T], y: &mut [T]) {
    for (y_j, &x_j) in y.iter_mut().zip(x) {
        *y_j = *y_j + alpha * x_j;
    }
}

fn dot<T: Float>(x: &[T], y: &[T]) -> T {
    let mut partial = [T::ZERO; DOT_LANES];
    let (x_body, x_tail) = x.split_at(x.len() / DOT_LANES * DOT_LANES);
    let (y_body, y_tail) = y.split_at(x_body.len());
    for (xs, ys) in x_body
        .chunks_exact(DOT_LANES)
        .zip(y_body.chunks_exact(DOT_LANES))
    {
        for lane in 0..DOT_LANES {
            partial[lane] = partial[lane] + xs[lane] * ys[lane];
        }
    }
    let mut sum = partial.iter().fold(T::ZERO, |s, &v| s + v);
    for (&x_p, &y_p) in x_tail.iter().zip(y_tail) {
        sum = sum + x_p * y_p;
    }
    sum
}
