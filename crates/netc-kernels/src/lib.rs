//! The bottom layer of netc's runtime: what every layer above computes with, knowing nothing
//! of models, data or runs — matrix products ([`gemm`], AVX2/AVX-512 kernels and a portable
//! fallback, split over [`threads`]), the seeded generator ([`rng`]), the float types a model
//! computes in ([`scalar`]), whether a thread flushes subnormals ([`subnormals`]) and weight
//! initialization ([`init`]).
//!
//! ```
//! use netc_kernels::init::{Init, fill};
//! use netc_kernels::rng::{Rng, streams};
//!
//! // Deterministic on every platform: same seed and stream, same numbers.
//! let mut rng = Rng::new(42, streams::INIT);
//! let mut weight = vec![0.0f32; 3 * 4];
//! fill(&mut weight, Init::He, 4, 3, &mut rng);
//! assert!(weight.iter().all(|w| w.abs() < 5.0));
//! ```

pub mod gemm;
pub mod init;
pub mod rng;
pub mod scalar;
pub mod subnormals;
pub mod threads;
