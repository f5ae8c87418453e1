//! netc for users: the `net!` macro (feature `macros`, on by default) and the runtime the
//! generated code links.
//!
//! ```ignore
//! netc::net!(include "specs/xor.net");
//! let (mut model, report) = xor::train()?;
//! ```
//!
//! Standalone trainers depend on `netc` with `default-features = false`: they get the
//! runtime without compiling syn, quote or pest.

#[cfg(feature = "macros")]
pub use netc_macros::net;

pub use netc_procedures::EnsembleReport;
/// The processes of a run: one, or the ranks of an MPI job with the feature `mpi` (call
/// [`cluster::join`] first in `main` and keep what it returns alive).
pub use netc_runtime::cluster;
pub use netc_runtime::{
    Dataset, Ensemble, Error, Evaluation, Hyperparams, Network, Real, Report, Splits, TargetKind,
    Targets, Vote,
};

/// The array crate behind [`Dataset`] (`Dataset::new(Array2<F>, labels)`, `F` the model's
/// precision: f32, or f64 for `precision f64`).
pub use ndarray;

/// What generated code names (`::netc::__private::...`); not a public API.
#[doc(hidden)]
pub mod __private {
    pub use netc_procedures::{EnsembleReport, MemberReport, Plan, bagging, search};
    pub use netc_runtime::*;
    pub use netc_trainer::{BenchReport, bench, trainer_main};
    /// The trainer's command line, for tests that run its commands in-process.
    pub mod trainer {
        pub use netc_trainer::*;
    }
}
