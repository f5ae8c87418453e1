//! x86-64 SIMD kernels. One kernel source ([`kernels`]) is instantiated per instruction set
//! and element type; each such module supplies the element and vector types, the width and a
//! handful of vector operations.

#[macro_use]
mod kernels;
pub(super) mod avx2;
pub(super) mod avx2_f64;
pub(super) mod avx512;
pub(super) mod avx512_f64;
#[cfg(test)]
mod emulated;
mod scratch;
#[cfg(test)]
mod tests;
mod transpose;
