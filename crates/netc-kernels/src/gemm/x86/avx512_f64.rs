//! AVX-512F kernels in f64: 8 lanes, 32 vector registers (6×32 broadcast tile: 24
//! accumulators), the f32 path's geometry in vectors.

use core::arch::x86_64::*;

use super::transpose::transpose_8x8_f64_avx512 as transpose_8x8;

type E = f64;
type V = __m512d;
const LANES: usize = 8;

define_kernels! {
    feature: "avx512f",
    bcast_vectors: 4,
    bcast_depth: 128,
    bcast_rows: [6, 5, 4, 3, 2, 1],
}

#[target_feature(enable = "avx512f")]
#[inline]
fn zero() -> V {
    _mm512_setzero_pd()
}

#[target_feature(enable = "avx512f")]
#[inline]
fn splat(x: f64) -> V {
    _mm512_set1_pd(x)
}

#[target_feature(enable = "avx512f")]
#[inline]
fn fmadd(a: V, b: V, c: V) -> V {
    _mm512_fmadd_pd(a, b, c)
}

/// Lanes `0..len` set (`len < LANES`).
#[target_feature(enable = "avx512f")]
#[inline]
fn first_lanes(len: usize) -> __mmask8 {
    ((1u32 << len) - 1) as __mmask8
}

/// # Safety
/// `LANES` doubles at `at` are readable.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn load(at: *const f64) -> V {
    unsafe { _mm512_loadu_pd(at) }
}

/// The first `len` lanes from `at`, the rest zero.
///
/// # Safety
/// `len < LANES` doubles at `at` are readable.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn load_part(at: *const f64, len: usize) -> V {
    unsafe { _mm512_maskz_loadu_pd(first_lanes(len), at) }
}

/// # Safety
/// `LANES` doubles at `at` are writable.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn store(at: *mut f64, v: V) {
    unsafe { _mm512_storeu_pd(at, v) }
}

/// # Safety
/// `len < LANES` doubles at `at` are writable.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn store_part(at: *mut f64, v: V, len: usize) {
    unsafe { _mm512_mask_storeu_pd(at, first_lanes(len), v) }
}
