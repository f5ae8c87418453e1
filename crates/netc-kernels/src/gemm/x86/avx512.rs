//! AVX-512F kernels: 16 lanes, 32 vector registers (6×64 broadcast tile: 24 accumulators).

use core::arch::x86_64::*;

use super::transpose::transpose_8x8;

type E = f32;
type V = __m512;
const LANES: usize = 16;

define_kernels! {
    feature: "avx512f",
    bcast_vectors: 4,
    bcast_depth: 128,
    bcast_rows: [6, 5, 4, 3, 2, 1],
}

#[target_feature(enable = "avx512f")]
#[inline]
fn zero() -> V {
    _mm512_setzero_ps()
}

#[target_feature(enable = "avx512f")]
#[inline]
fn splat(x: f32) -> V {
    _mm512_set1_ps(x)
}

#[target_feature(enable = "avx512f")]
#[inline]
fn fmadd(a: V, b: V, c: V) -> V {
    _mm512_fmadd_ps(a, b, c)
}

/// Lanes `0..len` set (`len < LANES`).
#[target_feature(enable = "avx512f")]
#[inline]
fn first_lanes(len: usize) -> __mmask16 {
    ((1u32 << len) - 1) as __mmask16
}

/// # Safety
/// `LANES` floats at `at` are readable.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn load(at: *const f32) -> V {
    unsafe { _mm512_loadu_ps(at) }
}

/// The first `len` lanes from `at`, the rest zero.
///
/// # Safety
/// `len < LANES` floats at `at` are readable.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn load_part(at: *const f32, len: usize) -> V {
    unsafe { _mm512_maskz_loadu_ps(first_lanes(len), at) }
}

/// # Safety
/// `LANES` floats at `at` are writable.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn store(at: *mut f32, v: V) {
    unsafe { _mm512_storeu_ps(at, v) }
}

/// # Safety
/// `len < LANES` floats at `at` are writable.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn store_part(at: *mut f32, v: V, len: usize) {
    unsafe { _mm512_mask_storeu_ps(at, first_lanes(len), v) }
}
