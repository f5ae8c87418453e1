//! Full-batch solvers for smooth objectives on a flat `f64` parameter vector: L-BFGS
//! ([`lbfgs`]), damped Newton ([`newton`]) and Hessian-vector products ([`hvp`],
//! [`curvature`]).
//!
//! Pure numerics: nothing here knows about networks or data. A caller wraps its model in an
//! [`Objective`] (value and gradient at a point) and gets back a [`SolveReport`]. Every
//! value and gradient the solvers see is checked: a NaN or infinity becomes
//! [`Error::Diverged`](crate::Error::Diverged), never a silently poisoned iterate.
//!
//! ```
//! use netc_runtime::solve::{LbfgsConfig, Objective, lbfgs};
//! use std::ops::ControlFlow;
//!
//! /// f(x, y) = (x - 3)² + 10 (y + 1)²
//! struct Bowl;
//! impl Objective for Bowl {
//!     fn dim(&self) -> usize { 2 }
//!     fn value_grad(&mut self, t: &[f64], g: &mut [f64]) -> Result<f64, netc_runtime::Error> {
//!         g[0] = 2.0 * (t[0] - 3.0);
//!         g[1] = 20.0 * (t[1] + 1.0);
//!         Ok((t[0] - 3.0).powi(2) + 10.0 * (t[1] + 1.0).powi(2))
//!     }
//! }
//!
//! let mut theta = [0.0, 0.0];
//! let report = lbfgs(&mut Bowl, &mut theta, &LbfgsConfig::default(), |_| ControlFlow::Continue(()))?;
//! assert!(report.converged);
//! assert!((theta[0] - 3.0).abs() < 1e-8 && (theta[1] + 1.0).abs() < 1e-8);
//! # Ok::<(), netc_runtime::Error>(())
//! ```

mod cholesky;
mod hvp;
mod lbfgs;
mod line_search;
mod newton;
mod objective;
mod report;
mod resume;
mod vector;

#[cfg(test)]
mod tests;

pub use hvp::{HvpWorkspace, curvature, hvp};
pub use lbfgs::{LbfgsConfig, lbfgs, lbfgs_from};
pub use newton::{NEWTON_MAX_PARAMETERS, NewtonConfig, newton, newton_from};
pub use objective::Objective;
pub use report::{Iteration, SolveReport, StopReason};
pub use resume::{CorrectionPairs, SolverState, SolverView};
