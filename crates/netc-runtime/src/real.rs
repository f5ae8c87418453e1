//! The float type a model's data flow in: its features, value targets, `scale` and outputs are
//! in the model's own precision (`precision f32 | f64`), so an f64 model reads a CSV's 17
//! digits, multiplies by `scale` and scores its outputs in f64, exactly as an f64 computation
//! would; an f32 model does every one of those operations in f32, as it always has.

use std::fmt::{Display, LowerExp};
use std::ops::{AddAssign, DivAssign, MulAssign, Neg, SubAssign};
use std::str::FromStr;

use crate::scalar::Scalar;

/// `f32` or `f64` (sealed through [`Scalar`]): the arithmetic, parsing and printing the data
/// path needs. The functions below are the types' own (`f32::ln`, …), named here so generic
/// code can call them.
pub trait Real:
    Scalar
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + std::iter::Sum
    + FromStr
    + Display
    + LowerExp
{
    /// Bits of the type, for messages ("`1e39` is inf as a 32-bit float").
    const BITS: u32;
    const ZERO: Self;
    const ONE: Self;
    /// A stored byte's value (exact in both types).
    fn from_byte(byte: u8) -> Self;
    fn ln(self) -> Self;
    fn exp(self) -> Self;
    fn sqrt(self) -> Self;
    fn abs(self) -> Self;
    fn round(self) -> Self;
    fn fract(self) -> Self;
    fn powi(self, n: i32) -> Self;
    /// The larger of the two; the other one when one is NaN (as `f32::max`).
    fn max(self, other: Self) -> Self;
    fn min(self, other: Self) -> Self;
    fn is_finite(self) -> bool;
    fn is_nan(self) -> bool;
    /// The value's bits (an f32's widened): what hashes of data fold.
    fn bits(self) -> u64;
}

macro_rules! real {
    ($t:ident, $bits:literal) => {
        impl Real for $t {
            const BITS: u32 = $bits;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn from_byte(byte: u8) -> Self {
                $t::from(byte)
            }
            fn ln(self) -> Self {
                $t::ln(self)
            }
            fn exp(self) -> Self {
                $t::exp(self)
            }
            fn sqrt(self) -> Self {
                $t::sqrt(self)
            }
            fn abs(self) -> Self {
                $t::abs(self)
            }
            fn round(self) -> Self {
                $t::round(self)
            }
            fn fract(self) -> Self {
                $t::fract(self)
            }
            fn powi(self, n: i32) -> Self {
                $t::powi(self, n)
            }
            fn max(self, other: Self) -> Self {
                $t::max(self, other)
            }
            fn min(self, other: Self) -> Self {
                $t::min(self, other)
            }
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
            fn bits(self) -> u64 {
                u64::from(self.to_bits())
            }
        }
    };
}

real!(f32, 32);
real!(f64, 64);
