//! The shared kernel source at the AVX-512 geometry (see `emulated`), in f32 and f64, against
//! the portable kernels run in f64.

use super::emulated;
use crate::gemm::portable;

type Kernel<T> = unsafe fn(usize, usize, usize, &[T], &[T], &mut [T], bool);
type Reference = fn(usize, usize, usize, &[f64], &[f64], &mut [f64], bool);

fn values<T: From<f32>>(len: usize, seed: usize) -> Vec<T> {
    (0..len)
        .map(|i| T::from(((i * 7919 + seed * 104729) % 2003) as f32 / 1001.5 - 1.0))
        .collect()
}

/// `kernel` against `reference` over every remainder of the tile and depth chunk; `tolerance`
/// is the allowed error per unit of depth, relative to 1 + |result|.
fn check<T>(name: &str, kernel: Kernel<T>, reference: Reference, tolerance: f64)
where
    T: Copy + From<f32> + Into<f64> + std::fmt::Display,
{
    let sizes = [0, 1, 3, 5, 6, 7, 15, 16, 17, 63, 64, 65, 79];
    let depths = [0, 1, 15, 16, 17, 64, 127, 128, 129, 300];
    for &m in &sizes {
        for &n in &sizes {
            for &k in &depths {
                for acc in [false, true] {
                    let a = values::<T>(m * k, 1);
                    let b = values::<T>(k * n, 2);
                    let c0 = values::<T>(m * n, 3);
                    let mut c = if acc {
                        c0.clone()
                    } else {
                        vec![T::from(f32::NAN); m * n]
                    };
                    // SAFETY: emulated kernels need no CPU feature; lengths are exact.
                    unsafe { kernel(m, n, k, &a, &b, &mut c, acc) };
                    let wide = |v: &[T]| v.iter().map(|&x| x.into()).collect::<Vec<f64>>();
                    let mut want = wide(&c0);
                    reference(m, n, k, &wide(&a), &wide(&b), &mut want, acc);
                    for (idx, (&got, &want)) in c.iter().zip(&want).enumerate() {
                        let tol = tolerance * (k as f64 + 1.0) * (1.0 + want.abs());
                        assert!(
                            (got.into() - want).abs() <= tol,
                            "{name} m={m} n={n} k={k} acc={acc}: C[{idx}] = {got}, want {want}"
                        );
                    }
                }
            }
        }
    }
}

const F32_TOLERANCE: f64 = 1e-5;
const F64_TOLERANCE: f64 = 1e-14;

#[test]
fn nn_at_avx512_geometry_matches_reference() {
    check("nn", emulated::f32::nn, portable::nn::<f64>, F32_TOLERANCE);
    check(
        "f64 nn",
        emulated::f64::nn,
        portable::nn::<f64>,
        F64_TOLERANCE,
    );
}

#[test]
fn nt_at_avx512_geometry_matches_reference() {
    check("nt", emulated::f32::nt, portable::nt::<f64>, F32_TOLERANCE);
    check(
        "f64 nt",
        emulated::f64::nt,
        portable::nt::<f64>,
        F64_TOLERANCE,
    );
}

#[test]
fn tn_at_avx512_geometry_matches_reference() {
    check("tn", tn_dense_f32, tn_dense_reference, F32_TOLERANCE);
    check("f64 tn", tn_dense_f64, tn_dense_reference, F64_TOLERANCE);
}

/// `tn` on a dense A (row stride m).
unsafe fn tn_dense_f32(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    acc: bool,
) {
    // SAFETY: forwarded from the caller.
    unsafe { emulated::f32::tn(m, n, k, a, m, b, c, acc) }
}

/// `tn` on a dense A (row stride m).
unsafe fn tn_dense_f64(
    m: usize,
    n: usize,
    k: usize,
    a: &[f64],
    b: &[f64],
    c: &mut [f64],
    acc: bool,
) {
    // SAFETY: forwarded from the caller.
    unsafe { emulated::f64::tn(m, n, k, a, m, b, c, acc) }
}

fn tn_dense_reference(
    m: usize,
    n: usize,
    k: usize,
    a: &[f64],
    b: &[f64],
    c: &mut [f64],
    acc: bool,
) {
    portable::tn(m, n, k, a, m, b, c, acc);
}

#[test]
fn tn_reads_columns_of_a_wider_a() {
    // The middle 7 of 20 columns of A (k×20): the same as tn on those columns copied out.
    let (m, n, k, lda, first) = (7, 33, 19, 20, 5);
    let wide = values::<f32>(k * lda, 4);
    let narrow: Vec<f32> = (0..k)
        .flat_map(|p| wide[p * lda + first..p * lda + first + m].to_vec())
        .collect();
    let b = values::<f32>(k * n, 5);
    let (mut got, mut want) = (vec![f32::NAN; m * n], vec![f32::NAN; m * n]);
    // SAFETY: emulated kernels need no CPU feature; A holds (k−1)·lda + m floats past `first`.
    unsafe {
        emulated::f32::tn(m, n, k, &wide[first..], lda, &b, &mut got, false);
        emulated::f32::tn(m, n, k, &narrow, m, &b, &mut want, false);
    }
    assert_eq!(got, want);
}
