//! The element types the portable kernels are generic over (sealed: f32 and f64 only).

use core::ops::{Add, Mul};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element: what the portable kernels need and nothing more.
pub trait Float: sealed::Sealed + Copy + Add<Output = Self> + Mul<Output = Self> {
    const ZERO: Self;
}

impl Float for f32 {
    const ZERO: Self = 0.0;
}

impl Float for core::primitive::f64 {
    const ZERO: Self = 0.0;
}
