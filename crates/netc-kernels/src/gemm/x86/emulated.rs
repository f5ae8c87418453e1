//! The kernel source instantiated with a plain-Rust 16-lane "vector" and exactly the AVX-512
//! path's blocking (6×4 broadcast tiles, depth 128) and mask semantics. It runs
//! on any x86-64 CPU, so the tests cover the AVX-512 geometry even where the CPU (or a VM
//! hiding AVX-512) cannot run the real thing.

type E = f32;
type V = [f32; 16];
const LANES: usize = 16;

define_kernels! {
    feature: "sse2",
    bcast_vectors: 4,
    bcast_depth: 128,
    bcast_rows: [6, 5, 4, 3, 2, 1],
}

fn zero() -> V {
    [0.0; LANES]
}

fn splat(x: f32) -> V {
    [x; LANES]
}

fn fmadd(a: V, b: V, c: V) -> V {
    core::array::from_fn(|l| a[l] * b[l] + c[l])
}

/// # Safety
/// `LANES` floats at `at` are readable.
unsafe fn load(at: *const f32) -> V {
    unsafe { at.cast::<V>().read_unaligned() }
}

/// # Safety
/// `len < LANES` floats at `at` are readable (like a masked load, lanes past `len` are not
/// touched and read as zero).
unsafe fn load_part(at: *const f32, len: usize) -> V {
    assert!(len < LANES, "partial load of {len} lanes");
    core::array::from_fn(|l| if l < len { unsafe { *at.add(l) } } else { 0.0 })
}

/// # Safety
/// `LANES` floats at `at` are writable.
unsafe fn store(at: *mut f32, v: V) {
    unsafe { at.cast::<V>().write_unaligned(v) }
}

/// # Safety
/// `len < LANES` floats at `at` are writable.
unsafe fn store_part(at: *mut f32, v: V, len: usize) {
    assert!(len < LANES, "partial store of {len} lanes");
    for (l, &x) in v.iter().enumerate().take(len) {
        unsafe { *at.add(l) = x };
    }
}

/// `dst[p·dst_stride + j] = src[j·src_stride + p]` for p, j in 0..8.
///
/// # Safety
/// Both 8×8 blocks are in bounds.
unsafe fn transpose_8x8(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
    for p in 0..8 {
        for j in 0..8 {
            unsafe { *dst.add(p * dst_stride + j) = *src.add(j * src_stride + p) };
        }
    }
}
