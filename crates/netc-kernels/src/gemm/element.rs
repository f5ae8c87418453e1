//! The element types the products take (f32 and f64; sealed through [`Float`]), each with its
//! single-threaded kernel on every instruction-set path.

use super::float::Float;
use super::isa::Isa;
use super::portable;
#[cfg(target_arch = "x86_64")]
use super::x86;

/// An element type of the products: f32 or f64.
///
/// Its methods are the per-path kernels behind [`super::nn_on`] and the others, which split
/// over threads and check lengths first; they are not meant to be called directly.
pub trait Element: Float + Send + Sync {
    /// C[m×n] (+)= A[m×k] · B[k×n] on `isa`, on this thread.
    ///
    /// # Safety
    /// The CPU supports `isa`; the slices hold what the sizes need.
    #[allow(clippy::too_many_arguments)]
    #[doc(hidden)]
    unsafe fn nn(
        isa: Isa,
        m: usize,
        n: usize,
        k: usize,
        a: &[Self],
        b: &[Self],
        c: &mut [Self],
        acc: bool,
    );

    /// C[m×n] (+)= A[m×k] · B[n×k]ᵀ on `isa`, on this thread.
    ///
    /// # Safety
    /// As for [`Element::nn`].
    #[allow(clippy::too_many_arguments)]
    #[doc(hidden)]
    unsafe fn nt(
        isa: Isa,
        m: usize,
        n: usize,
        k: usize,
        a: &[Self],
        b: &[Self],
        c: &mut [Self],
        acc: bool,
    );

    /// C[m×n] (+)= A[k×m]ᵀ · B[k×n] on `isa`, on this thread, A's rows `lda ≥ m` apart.
    ///
    /// # Safety
    /// As for [`Element::nn`]; A holds (k−1)·lda + m elements (if m, k > 0).
    #[allow(clippy::too_many_arguments)]
    #[doc(hidden)]
    unsafe fn tn(
        isa: Isa,
        m: usize,
        n: usize,
        k: usize,
        a: &[Self],
        lda: usize,
        b: &[Self],
        c: &mut [Self],
        acc: bool,
    );
}

/// Runs a variant's kernel on `isa`: the portable one, or the one in the named x86 modules.
macro_rules! on_isa {
    ($isa:expr, $avx2:ident, $avx512:ident, $variant:ident($($arg:expr),* $(,)?)) => {
        match $isa {
            Isa::Portable => portable::$variant($($arg),*),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the caller checked that the CPU supports `isa`, and the slice lengths.
            Isa::Avx2Fma => unsafe { x86::$avx2::$variant($($arg),*) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Isa::Avx512 => unsafe { x86::$avx512::$variant($($arg),*) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => portable::$variant($($arg),*),
        }
    };
}

/// `Element` for a type whose x86 kernels are the modules `$avx2` and `$avx512`.
macro_rules! element {
    ($t:ty, $avx2:ident, $avx512:ident) => {
        impl Element for $t {
            unsafe fn nn(
                isa: Isa,
                m: usize,
                n: usize,
                k: usize,
                a: &[Self],
                b: &[Self],
                c: &mut [Self],
                acc: bool,
            ) {
                on_isa!(isa, $avx2, $avx512, nn(m, n, k, a, b, c, acc))
            }

            unsafe fn nt(
                isa: Isa,
                m: usize,
                n: usize,
                k: usize,
                a: &[Self],
                b: &[Self],
                c: &mut [Self],
                acc: bool,
            ) {
                on_isa!(isa, $avx2, $avx512, nt(m, n, k, a, b, c, acc))
            }

            unsafe fn tn(
                isa: Isa,
                m: usize,
                n: usize,
                k: usize,
                a: &[Self],
                lda: usize,
                b: &[Self],
                c: &mut [Self],
                acc: bool,
            ) {
                on_isa!(isa, $avx2, $avx512, tn(m, n, k, a, lda, b, c, acc))
            }
        }
    };
}

element!(f32, avx2, avx512);
element!(f64, avx2_f64, avx512_f64);
