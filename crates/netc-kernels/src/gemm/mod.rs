//! Cache-blocked SIMD matrix products (row-major f32 here, f64 in [`f64`]), dispatched at run
//! time.
//!
//! Every matrix is row-major and contiguous (leading dimension = row width). `accumulate ==
//! false` overwrites C (its previous contents are ignored, they may be garbage or NaN);
//! `accumulate == true` adds the product to C. Slices may be longer than needed; a slice that is
//! too short is a caller bug and panics.
//!
//! One register-blocked broadcast micro-kernel serves all three variants, each with its own
//! operand handling so that none pays a strided load in the inner loop (see `x86::kernels`):
//! [`nn`] reads A in place, [`tn`] packs A into row panels, and [`nt`] computes Cᵀ = B·Aᵀ so
//! that B (a weight, n×k) is read in place while A (a batch) is packed transposed.
//!
//! The instruction set is chosen once per process ([`Isa::detect`]), the same for both element
//! types: AVX-512F, else AVX2+FMA, else portable Rust. The `*_on` entry points take either
//! element type ([`Element`]) and a chosen path. Large products are split by rows of C over the threads that
//! [`crate::threads::set_threads`] allows (default one); the results are bit-identical for any
//! thread count. Packing uses a per-thread buffer that grows to the largest call and is
//! then reused: steady-state calls allocate nothing.

mod check;
mod element;
pub mod f64;
mod float;
mod isa;
mod portable;
mod split;
#[cfg(test)]
mod threaded_tests;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use element::Element;
pub use isa::Isa;

/// C[m×n] (+)= A[m×k] · B[k×n]
pub fn nn(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    nn_on(Isa::detect(), m, n, k, a, b, c, accumulate);
}

/// C[m×n] (+)= A[m×k] · B[n×k]ᵀ
pub fn nt(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    nt_on(Isa::detect(), m, n, k, a, b, c, accumulate);
}

/// C[m×n] (+)= A[k×m]ᵀ · B[k×n]
pub fn tn(m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], accumulate: bool) {
    tn_on(Isa::detect(), m, n, k, a, b, c, accumulate);
}

/// The checks every `*_on` entry shares.
fn check_call<T>(isa: Isa, m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &[T]) {
    check::lengths(m, n, k, a, b, c);
    assert!(isa.is_supported(), "{isa:?} is not supported by this CPU");
}

/// [`nn`] on a chosen instruction set, in f32 or f64 (for tests and benchmarks).
///
/// # Panics
/// If `isa` is not supported by this CPU, or a slice is too short.
#[allow(clippy::too_many_arguments)]
pub fn nn_on<T: Element>(
    isa: Isa,
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    accumulate: bool,
) {
    check_call(isa, m, n, k, a, b, c);
    // Rows of C are rows of A.
    split::by_rows(m, n, k, c, &|rows, c| {
        let a = &a[rows.start * k..];
        // SAFETY: `isa` and the lengths were checked.
        unsafe { T::nn(isa, rows.len(), n, k, a, b, c, accumulate) }
    });
}

/// [`nt`] on a chosen instruction set, in f32 or f64 (for tests and benchmarks).
///
/// # Panics
/// If `isa` is not supported by this CPU, or a slice is too short.
#[allow(clippy::too_many_arguments)]
pub fn nt_on<T: Element>(
    isa: Isa,
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    accumulate: bool,
) {
    check_call(isa, m, n, k, a, b, c);
    // Rows of C are rows of A.
    split::by_rows(m, n, k, c, &|rows, c| {
        let a = &a[rows.start * k..];
        // SAFETY: `isa` and the lengths were checked.
        unsafe { T::nt(isa, rows.len(), n, k, a, b, c, accumulate) }
    });
}

/// [`tn`] on a chosen instruction set, in f32 or f64 (for tests and benchmarks).
///
/// # Panics
/// If `isa` is not supported by this CPU, or a slice is too short.
#[allow(clippy::too_many_arguments)]
pub fn tn_on<T: Element>(
    isa: Isa,
    m: usize,
    n: usize,
    k: usize,
    a: &[T],
    b: &[T],
    c: &mut [T],
    accumulate: bool,
) {
    check_call(isa, m, n, k, a, b, c);
    // Rows of C are columns of A: a part reads its columns with A's full row stride m.
    split::by_rows(m, n, k, c, &|rows, c| {
        let a = &a[rows.start..];
        // SAFETY: `isa` and the lengths were checked.
        unsafe { T::tn(isa, rows.len(), n, k, a, m, b, c, accumulate) }
    });
}
