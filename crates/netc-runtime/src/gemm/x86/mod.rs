//! x86-64 SIMD kernels (interim: forward to the portable kernels until the SIMD ones land).
#![allow(unused_unsafe)]

pub(super) mod avx2 {
    pub(in crate::gemm) use crate::gemm::portable::{nn, nt, tn};
}
pub(super) mod avx512 {
    pub(in crate::gemm) use crate::gemm::portable::{nn, nt, tn};
}
