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
//! else portable Rust. Packing uses a per-thread buffer that grows to the largest call and is
//! then reused: steady-state calls allocate nothing.

mod check;
pub mod f64;
mod float;
mod isa;
mod portable;
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

/// Defines `<variant>_on`: the variant on a chosen instruction set, with the checks shared.
macro_rules! on_isa {
    ($on:ident, $variant:ident, $doc:literal) => {
        #[doc = $doc]
        ///
        /// # Panics
        /// If `isa` is not supported by this CPU, or a slice is too short.
        #[allow(clippy::too_many_arguments)]
        pub fn $on(
            isa: Isa,
            m: usize,
            n: usize,
            k: usize,
            a: &[f32],
            b: &[f32],
            c: &mut [f32],
            accumulate: bool,
        ) {
            check::lengths(m, n, k, a, b, c);
            assert!(isa.is_supported(), "{isa:?} is not supported by this CPU");
            match isa {
                Isa::Portable => portable::$variant(m, n, k, a, b, c, accumulate),
                #[cfg(target_arch = "x86_64")]
                Isa::Avx2Fma => unsafe { x86::avx2::$variant(m, n, k, a, b, c, accumulate) },
                #[cfg(target_arch = "x86_64")]
                Isa::Avx512 => unsafe { x86::avx512::$variant(m, n, k, a, b, c, accumulate) },
                #[cfg(not(target_arch = "x86_64"))]
                _ => portable::$variant(m, n, k, a, b, c, accumulate),
            }
        }
    };
}

on_isa!(
    nn_on,
    nn,
    "[`nn`] on a chosen instruction set (for tests and benchmarks)."
);
on_isa!(
    nt_on,
    nt,
    "[`nt`] on a chosen instruction set (for tests and benchmarks)."
);
on_isa!(
    tn_on,
    tn,
    "[`tn`] on a chosen instruction set (for tests and benchmarks)."
);
