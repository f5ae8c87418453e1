//! netc's runtime: everything generated trainers need that does not depend on the spec.
//!
//! Generated code implements [`Network`]; the driver here trains, evaluates, benchmarks and
//! checkpoints any such model.

pub mod config;
pub mod error;
pub mod gemm;
pub mod network;

pub use config::*;
pub use error::Error;
pub use network::*;
