//! x86-64 SIMD kernels. One kernel source ([`kernels`]) is instantiated per instruction set;
//! each ISA module supplies the vector type, its width and a handful of vector operations.

#[macro_use]
mod kernels;
pub(super) mod avx2;
pub(super) mod avx512;
#[cfg(test)]
mod emulated;
mod scratch;
#[cfg(test)]
mod tests;
mod transpose;
