//! 8×8 in-register transposes (f32 with AVX; f64 with AVX as four 4×4 blocks, or with
//! AVX-512F whole): how `nt` packs its batch operand transposed, and writes Cᵀ back, without
//! a scalar gather per element.

use core::arch::x86_64::*;

/// `dst[p·dst_stride + j] = src[j·src_stride + p]` for p, j in 0..8.
///
/// # Safety
/// The CPU has AVX; 8 rows of 8 floats at `src` (row stride `src_stride`) are readable and 8
/// rows of 8 at `dst` (row stride `dst_stride`) are writable.
#[target_feature(enable = "avx")]
#[inline]
pub(super) unsafe fn transpose_8x8(
    src: *const f32,
    src_stride: usize,
    dst: *mut f32,
    dst_stride: usize,
) {
    // SAFETY: the caller guarantees both 8×8 blocks are in bounds.
    unsafe {
        let row = |j: usize| _mm256_loadu_ps(src.add(j * src_stride));
        let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
        let (r4, r5, r6, r7) = (row(4), row(5), row(6), row(7));
        // Interleave pairs of rows: [a0 b0 a1 b1 | a4 b4 a5 b5] and [a2 b2 a3 b3 | a6 b6 a7 b7].
        let (t0, t1) = (_mm256_unpacklo_ps(r0, r1), _mm256_unpackhi_ps(r0, r1));
        let (t2, t3) = (_mm256_unpacklo_ps(r2, r3), _mm256_unpackhi_ps(r2, r3));
        let (t4, t5) = (_mm256_unpacklo_ps(r4, r5), _mm256_unpackhi_ps(r4, r5));
        let (t6, t7) = (_mm256_unpacklo_ps(r6, r7), _mm256_unpackhi_ps(r6, r7));
        // Columns c | c+4 of four rows each: u0 = col 0|4, u1 = col 1|5, u2 = 2|6, u3 = 3|7.
        let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        // Join the halves of rows 0..4 and 4..8: low lanes give columns 0..4, high 4..8.
        let cols = [
            _mm256_permute2f128_ps::<0x20>(u0, u4),
            _mm256_permute2f128_ps::<0x20>(u1, u5),
            _mm256_permute2f128_ps::<0x20>(u2, u6),
            _mm256_permute2f128_ps::<0x20>(u3, u7),
            _mm256_permute2f128_ps::<0x31>(u0, u4),
            _mm256_permute2f128_ps::<0x31>(u1, u5),
            _mm256_permute2f128_ps::<0x31>(u2, u6),
            _mm256_permute2f128_ps::<0x31>(u3, u7),
        ];
        for (p, col) in cols.into_iter().enumerate() {
            _mm256_storeu_ps(dst.add(p * dst_stride), col);
        }
    }
}

/// `dst[p·dst_stride + j] = src[j·src_stride + p]` for p, j in 0..8, in f64 as four 4×4
/// blocks of 256-bit registers.
///
/// # Safety
/// The CPU has AVX; 8 rows of 8 doubles at `src` (row stride `src_stride`) are readable and
/// 8 rows of 8 at `dst` (row stride `dst_stride`) are writable.
#[target_feature(enable = "avx")]
#[inline]
pub(super) unsafe fn transpose_8x8_f64_avx(
    src: *const f64,
    src_stride: usize,
    dst: *mut f64,
    dst_stride: usize,
) {
    // SAFETY: the caller guarantees both 8×8 blocks are in bounds.
    unsafe {
        for (jb, pb) in [(0, 0), (0, 4), (4, 0), (4, 4)] {
            let row = |j: usize| _mm256_loadu_pd(src.add((jb + j) * src_stride + pb));
            let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
            // [a0 b0 a2 b2], [a1 b1 a3 b3], [c0 d0 c2 d2], [c1 d1 c3 d3]
            let (t0, t1) = (_mm256_unpacklo_pd(r0, r1), _mm256_unpackhi_pd(r0, r1));
            let (t2, t3) = (_mm256_unpacklo_pd(r2, r3), _mm256_unpackhi_pd(r2, r3));
            let cols = [
                _mm256_permute2f128_pd::<0x20>(t0, t2),
                _mm256_permute2f128_pd::<0x20>(t1, t3),
                _mm256_permute2f128_pd::<0x31>(t0, t2),
                _mm256_permute2f128_pd::<0x31>(t1, t3),
            ];
            for (p, col) in cols.into_iter().enumerate() {
                _mm256_storeu_pd(dst.add((pb + p) * dst_stride + jb), col);
            }
        }
    }
}

/// `dst[p·dst_stride + j] = src[j·src_stride + p]` for p, j in 0..8, in f64 with one 512-bit
/// register per row.
///
/// # Safety
/// The CPU has AVX-512F; 8 rows of 8 doubles at `src` (row stride `src_stride`) are readable
/// and 8 rows of 8 at `dst` (row stride `dst_stride`) are writable.
#[target_feature(enable = "avx512f")]
#[inline]
pub(super) unsafe fn transpose_8x8_f64_avx512(
    src: *const f64,
    src_stride: usize,
    dst: *mut f64,
    dst_stride: usize,
) {
    // SAFETY: the caller guarantees both 8×8 blocks are in bounds.
    unsafe {
        let row = |j: usize| _mm512_loadu_pd(src.add(j * src_stride));
        let (r0, r1, r2, r3) = (row(0), row(1), row(2), row(3));
        let (r4, r5, r6, r7) = (row(4), row(5), row(6), row(7));
        // Pairs of rows interleaved: t0 = [a0 b0 | a2 b2 | a4 b4 | a6 b6], t1 = the odd columns.
        let (t0, t1) = (_mm512_unpacklo_pd(r0, r1), _mm512_unpackhi_pd(r0, r1));
        let (t2, t3) = (_mm512_unpacklo_pd(r2, r3), _mm512_unpackhi_pd(r2, r3));
        let (t4, t5) = (_mm512_unpacklo_pd(r4, r5), _mm512_unpackhi_pd(r4, r5));
        let (t6, t7) = (_mm512_unpacklo_pd(r6, r7), _mm512_unpackhi_pd(r6, r7));
        // 128-bit lanes 0, 2 (0x88) or 1, 3 (0xDD) of each of two: u0 = [a0 b0 | a4 b4 | c0 d0 |
        // c4 d4], u1 = columns 2 | 6, u2 = 1 | 5, u3 = 3 | 7; u4..u7 the same for rows e..h.
        let u0 = _mm512_shuffle_f64x2::<0x88>(t0, t2);
        let u1 = _mm512_shuffle_f64x2::<0xDD>(t0, t2);
        let u2 = _mm512_shuffle_f64x2::<0x88>(t1, t3);
        let u3 = _mm512_shuffle_f64x2::<0xDD>(t1, t3);
        let u4 = _mm512_shuffle_f64x2::<0x88>(t4, t6);
        let u5 = _mm512_shuffle_f64x2::<0xDD>(t4, t6);
        let u6 = _mm512_shuffle_f64x2::<0x88>(t5, t7);
        let u7 = _mm512_shuffle_f64x2::<0xDD>(t5, t7);
        // The same selection across rows a..d and e..h gives whole columns.
        let cols = [
            _mm512_shuffle_f64x2::<0x88>(u0, u4),
            _mm512_shuffle_f64x2::<0x88>(u2, u6),
            _mm512_shuffle_f64x2::<0x88>(u1, u5),
            _mm512_shuffle_f64x2::<0x88>(u3, u7),
            _mm512_shuffle_f64x2::<0xDD>(u0, u4),
            _mm512_shuffle_f64x2::<0xDD>(u2, u6),
            _mm512_shuffle_f64x2::<0xDD>(u1, u5),
            _mm512_shuffle_f64x2::<0xDD>(u3, u7),
        ];
        for (p, col) in cols.into_iter().enumerate() {
            _mm512_storeu_pd(dst.add(p * dst_stride), col);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{transpose_8x8, transpose_8x8_f64_avx, transpose_8x8_f64_avx512};

    type Transpose<T> = unsafe fn(*const T, usize, *mut T, usize);

    /// Transposes a block inside larger matrices (strides 11 and 13), leaving the rest alone.
    fn check<T: Copy + PartialEq + std::fmt::Debug + From<u16>>(transpose: Transpose<T>) {
        let (src_stride, dst_stride) = (11, 13);
        let src: Vec<T> = (0..8 * src_stride as u16).map(T::from).collect();
        let untouched = T::from(u16::MAX);
        let mut dst = vec![untouched; 8 * dst_stride];
        // SAFETY: the caller checked the CPU feature; both blocks fit their buffers.
        unsafe { transpose(src.as_ptr(), src_stride, dst.as_mut_ptr(), dst_stride) };
        for p in 0..8 {
            for j in 0..dst_stride {
                let want = if j < 8 {
                    src[j * src_stride + p]
                } else {
                    untouched
                };
                assert_eq!(dst[p * dst_stride + j], want, "dst[{p}][{j}]");
            }
        }
    }

    #[test]
    fn transposes_a_block_inside_larger_matrices() {
        if std::arch::is_x86_feature_detected!("avx") {
            check::<f32>(transpose_8x8);
            check::<f64>(transpose_8x8_f64_avx);
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            check::<f64>(transpose_8x8_f64_avx512);
        }
    }
}
