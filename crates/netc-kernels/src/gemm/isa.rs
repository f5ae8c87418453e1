//! Which instruction set the kernels use (f32 and f64 alike), detected once per process.

use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction-set path of the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// Plain Rust (SSE2 at most after auto-vectorization): any CPU.
    Portable,
    /// 256-bit AVX2 with FMA.
    Avx2Fma,
    /// 512-bit AVX-512F.
    Avx512,
}

/// The environment variable that picks a path (if supported) instead of the fastest.
pub const ISA_VAR: &str = "NETC_ISA";

/// Not yet detected.
const UNKNOWN: u8 = u8::MAX;
static DETECTED: AtomicU8 = AtomicU8::new(UNKNOWN);

impl Isa {
    /// Every path, slowest first.
    pub const ALL: [Isa; 3] = [Isa::Portable, Isa::Avx2Fma, Isa::Avx512];

    /// The fastest path this CPU supports, or the one `NETC_ISA` names (`portable`, `avx2`,
    /// `avx512`) if the CPU supports it — to reproduce another machine's rounding (each path
    /// sums in its own order). Detected on first call, then cached.
    pub fn detect() -> Isa {
        match DETECTED.load(Ordering::Relaxed) {
            UNKNOWN => {
                let asked = std::env::var(ISA_VAR).ok().and_then(|v| Isa::named(&v));
                let best = asked
                    .filter(|isa| isa.is_supported())
                    .or_else(|| Self::ALL.into_iter().rev().find(|isa| isa.is_supported()))
                    .unwrap_or(Isa::Portable);
                DETECTED.store(best as u8, Ordering::Relaxed);
                best
            }
            cached => Self::ALL[cached as usize],
        }
    }

    /// The path a `NETC_ISA` value names.
    fn named(value: &str) -> Option<Isa> {
        match value.trim() {
            "portable" => Some(Isa::Portable),
            "avx2" => Some(Isa::Avx2Fma),
            "avx512" => Some(Isa::Avx512),
            _ => None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netc_isa_values() {
        assert_eq!(Isa::named("portable"), Some(Isa::Portable));
        assert_eq!(Isa::named(" avx2 "), Some(Isa::Avx2Fma));
        assert_eq!(Isa::named("avx512"), Some(Isa::Avx512));
        assert_eq!(Isa::named("sse"), None);
    }
}
