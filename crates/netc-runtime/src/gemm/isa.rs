//! Which instruction set the f32 kernels use, detected once per process.

use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction-set path of the f32 kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// Plain Rust (SSE2 at most after auto-vectorization): any CPU.
    Portable,
    /// 256-bit AVX2 with FMA.
    Avx2Fma,
    /// 512-bit AVX-512F.
    Avx512,
}

/// Not yet detected.
const UNKNOWN: u8 = u8::MAX;
static DETECTED: AtomicU8 = AtomicU8::new(UNKNOWN);

impl Isa {
    /// Every path, slowest first.
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2Fma, Isa::Avx512];

    /// The fastest path this CPU supports (detected on first call, then cached).
    pub fn detect() -> Isa {
        match DETECTED.load(Ordering::Relaxed) {
            UNKNOWN => {
                let best = Self::ALL.into_iter().rev().find(|isa| isa.is_supported());
                let best = best.unwrap_or(Isa::Portable);
                DETECTED.store(best as u8, Ordering::Relaxed);
                best
            }
            cached => Self::ALL[cached as usize],
        }
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}
