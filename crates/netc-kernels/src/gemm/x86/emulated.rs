//! The kernel source instantiated with plain-Rust "vectors" of exactly the AVX-512 paths'
//! widths (16 f32, 8 f64), blocking (6×4 broadcast tiles, depth 128) and mask semantics. It
//! runs on any x86-64 CPU, so the tests cover the AVX-512 geometry even where the CPU (or a
//! VM hiding AVX-512) cannot run the real thing.

/// One emulated instance: element type and lanes per "vector".
macro_rules! emulated {
    ($e:ty, $lanes:literal) => {
        type E = $e;
        type V = [E; LANES];
        const LANES: usize = $lanes;

        define_kernels! {
            feature: "sse2",
            bcast_vectors: 4,
            bcast_depth: 128,
            bcast_rows: [6, 5, 4, 3, 2, 1],
        }

        fn zero() -> V {
            [0.0; LANES]
        }

        fn splat(x: E) -> V {
            [x; LANES]
        }

        fn fmadd(a: V, b: V, c: V) -> V {
            core::array::from_fn(|l| a[l] * b[l] + c[l])
        }

        /// # Safety
        /// `LANES` elements at `at` are readable.
        unsafe fn load(at: *const E) -> V {
            unsafe { at.cast::<V>().read_unaligned() }
        }

        /// # Safety
        /// `len < LANES` elements at `at` are readable (like a masked load, lanes past `len`
        /// are not touched and read as zero).
        unsafe fn load_part(at: *const E, len: usize) -> V {
            assert!(len < LANES, "partial load of {len} lanes");
            core::array::from_fn(|l| if l < len { unsafe { *at.add(l) } } else { 0.0 })
        }

        /// # Safety
        /// `LANES` elements at `at` are writable.
        unsafe fn store(at: *mut E, v: V) {
            unsafe { at.cast::<V>().write_unaligned(v) }
        }

        /// # Safety
        /// `len < LANES` elements at `at` are writable.
        unsafe fn store_part(at: *mut E, v: V, len: usize) {
            assert!(len < LANES, "partial store of {len} lanes");
            for (l, &x) in v.iter().enumerate().take(len) {
                unsafe { *at.add(l) = x };
            }
        }

        /// `dst[p·dst_stride + j] = src[j·src_stride + p]` for p, j in 0..8.
        ///
        /// # Safety
        /// Both 8×8 blocks are in bounds.
        unsafe fn transpose_8x8(src: *const E, src_stride: usize, dst: *mut E, dst_stride: usize) {
            for p in 0..8 {
                for j in 0..8 {
                    unsafe { *dst.add(p * dst_stride + j) = *src.add(j * src_stride + p) };
                }
            }
        }
    };
}

/// The AVX-512 f32 geometry: 16 lanes.
pub(super) mod f32 {
    emulated!(f32, 16);
}

/// The AVX-512 f64 geometry: 8 lanes.
pub(super) mod f64 {
    emulated!(f64, 8);
}
