//! netc's training procedures: what a trainer runs around one training run of the driver
//! ([`netc_runtime::fit`]). The layer above the runtime (netc-kernels → netc-runtime →
//! netc-procedures → netc-trainer): it uses the runtime's public API only, nothing below
//! imports it.
//!
//! - [`search`]: random search in log space, coarse to fine; [`search::train_model`] is the
//!   one entry for a single model (with or without a search).
//! - [`bagging`]: an ensemble of members on bootstrap samples ([`bagging::train_ensemble`]).
//! - [`Plan`]: which of them a spec asks for, generated beside the model as `plan()`.
//!
//! Each procedure owns its part of the run-state format (`search/state.rs`,
//! `bagging/state.rs`), written with the runtime's [`netc_runtime::run_state`] codec, so a
//! search resumes after its last finished trial and bagging after its last finished member.

// `say!`: `println!` that ignores a closed stdout (`trainer train | head`).
#[macro_use]
extern crate netc_runtime;

pub mod bagging;
pub mod plan;
pub mod search;
mod spread;

pub use bagging::{EnsembleReport, MemberReport, train_ensemble};
pub use plan::Plan;
