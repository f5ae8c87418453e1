//! AVX2+FMA kernels: 8 lanes, 16 vector registers (6×16 broadcast tile: 12 accumulators).

use core::arch::x86_64::*;

use super::transpose::transpose_8x8;

type E = f32;
type V = __m256;
const LANES: usize = 8;

define_kernels! {
    feature: "avx2,fma",
    bcast_vectors: 2,
    bcast_depth: 256,
    bcast_rows: [6, 5, 4, 3, 2, 1],
}

#[target_feature(enable = "avx2,fma")]
#[inline]
fn zero() -> V {
    _mm256_setzero_ps()
}

#[target_feature(enable = "avx2,fma")]
#[inline]
fn splat(x: f32) -> V {
    _mm256_set1_ps(x)
}

#[target_feature(enable = "avx2,fma")]
#[inline]
fn fmadd(a: V, b: V, c: V) -> V {
    _mm256_fmadd_ps(a, b, c)
}

/// All bits set in lanes `0..len`: the mask `maskload`/`maskstore` expect.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn first_lanes(len: usize) -> __m256i {
    _mm256_cmpgt_epi32(
        _mm256_set1_epi32(len as i32),
        _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
    )
}

/// # Safety
/// `LANES` floats at `at` are readable.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn load(at: *const f32) -> V {
    unsafe { _mm256_loadu_ps(at) }
}

/// The first `len` lanes from `at`, the rest zero.
///
/// # Safety
/// `len < LANES` floats at `at` are readable.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn load_part(at: *const f32, len: usize) -> V {
    unsafe { _mm256_maskload_ps(at, first_lanes(len)) }
}

/// # Safety
/// `LANES` floats at `at` are writable.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store(at: *mut f32, v: V) {
    unsafe { _mm256_storeu_ps(at, v) }
}

/// # Safety
/// `len < LANES` floats at `at` are writable.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store_part(at: *mut f32, v: V, len: usize) {
    unsafe { _mm256_maskstore_ps(at, first_lanes(len), v) }
}
