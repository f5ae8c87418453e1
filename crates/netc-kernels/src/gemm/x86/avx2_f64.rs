//! AVX2+FMA kernels in f64: 4 lanes, 16 vector registers (6×8 broadcast tile: 12
//! accumulators), the f32 path's geometry in vectors.

use core::arch::x86_64::*;

use super::transpose::transpose_8x8_f64_avx as transpose_8x8;

type E = f64;
type V = __m256d;
const LANES: usize = 4;

define_kernels! {
    feature: "avx2,fma",
    bcast_vectors: 2,
    bcast_depth: 256,
    bcast_rows: [6, 5, 4, 3, 2, 1],
}

#[target_feature(enable = "avx2,fma")]
#[inline]
fn zero() -> V {
    _mm256_setzero_pd()
}

#[target_feature(enable = "avx2,fma")]
#[inline]
fn splat(x: f64) -> V {
    _mm256_set1_pd(x)
}

#[target_feature(enable = "avx2,fma")]
#[inline]
fn fmadd(a: V, b: V, c: V) -> V {
    _mm256_fmadd_pd(a, b, c)
}

/// All bits set in lanes `0..len`: the mask `maskload`/`maskstore` expect.
#[target_feature(enable = "avx2,fma")]
#[inline]
fn first_lanes(len: usize) -> __m256i {
    _mm256_cmpgt_epi64(
        _mm256_set1_epi64x(len as i64),
        _mm256_setr_epi64x(0, 1, 2, 3),
    )
}

/// # Safety
/// `LANES` doubles at `at` are readable.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn load(at: *const f64) -> V {
    unsafe { _mm256_loadu_pd(at) }
}

/// The first `len` lanes from `at`, the rest zero.
///
/// # Safety
/// `len < LANES` doubles at `at` are readable.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn load_part(at: *const f64, len: usize) -> V {
    unsafe { _mm256_maskload_pd(at, first_lanes(len)) }
}

/// # Safety
/// `LANES` doubles at `at` are writable.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store(at: *mut f64, v: V) {
    unsafe { _mm256_storeu_pd(at, v) }
}

/// # Safety
/// `len < LANES` doubles at `at` are writable.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn store_part(at: *mut f64, v: V, len: usize) {
    unsafe { _mm256_maskstore_pd(at, first_lanes(len), v) }
}
