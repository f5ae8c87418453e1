//! Cache-blocked SIMD matrix products (row-major f32), dispatched at run time.
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
//! The instruction set is chosen once per process ([`Isa::detect`]): AVX-512F, else AVX2+FMA,
//! else portable Rust. Large products are split by rows of C over the threads that
//! [`crate::threads::set_threads`] allows (default one); the results are bit-identical for any
//! thread count. Packing uses a per-thread buffer that grows to the largest call and is
//! then reused: steady-state calls allocate nothing.

mod check;
pub mod f64;
mod float;
mod isa;
mod portable;
mod split;
#[cfg(test)]
mod threaded_tests;
#[cfg(target_arch = "x86_64")]
mod x86;

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

/// Runs a variant's single-threaded kernel on `isa`.
macro_rules! on_isa {
    ($isa:expr, $variant:ident($($arg:expr),* $(,)?)) => {
        match $isa {
            Isa::Portable => portable::$variant($($arg),*),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the caller checked that the CPU supports `isa`, and the slice lengths.
            Isa::Avx2Fma => unsafe { x86::avx2::$variant($($arg),*) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Isa::Avx512 => unsafe { x86::avx512::$variant($($arg),*) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => portable::$variant($($arg),*),
        }
    };
}

/// The checks every `*_on` entry shares.
fn check_call(isa: Isa, m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &[f32]) {
    check::lengths(m, n, k, a, b, c);
    assert!(isa.is_supported(), "{isa:?} is not supported by this CPU");
}

/// [`nn`] on a chosen instruction set (for tests and benchmarks).
///
/// # Panics
/// If `isa` is not supported by this CPU, or a slice is too short.
#[allow(clippy::too_many_arguments)]
pub fn nn_on(
    isa: Isa,
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    accumulate: bool,
) {
    check_call(isa, m, n, k, a, b, c);
    // Rows of C are rows of A.
    split::by_rows(m, n, k, c, &|rows, c| {
        let a = &a[rows.start * k..];
        on_isa!(isa, nn(rows.len(), n, k, a, b, c, accumulate))
    });
}

/// [`nt`] on a chosen instruction set (for tests and benchmarks).
///
/// # Panics
/// If `isa` is not supported by this CPU, or a slice is too short.
#[allow(clippy::too_many_arguments)]
pub fn nt_on(
    isa: Isa,
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    accumulate: bool,
) {
    check_call(isa, m, n, k, a, b, c);
    // Rows of C are rows of A.
    split::by_rows(m, n, k, c, &|rows, c| {
        let a = &a[rows.start * k..];
        on_isa!(isa, nt(rows.len(), n, k, a, b, c, accumulate))
    });
}

/// [`tn`] on a chosen instruction set (for tests and benchmarks).
///
/// # Panics
/// If `isa` is not supported by this CPU, or a slice is too short.
#[allow(clippy::too_many_arguments)]
pub fn tn_on(
    isa: Isa,
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    accumulate: bool,
) {
    check_call(isa, m, n, k, a, b, c);
    // Rows of C are columns of A: a part reads its columns with A's full row stride m.
    split::by_rows(m, n, k, c, &|rows, c| {
        let a = &a[rows.start..];
        on_isa!(isa, tn(rows.len(), n, k, a, m, b, c, accumulate))
    });
}
