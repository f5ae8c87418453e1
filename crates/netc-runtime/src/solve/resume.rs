//! Where a solve stands after an accepted step, so it can be stopped there and continued to
//! exactly the iterates an uninterrupted solve would have taken (run-state files save it).
//!
//! The point θ itself is the caller's (`theta`); the rest is here: the iteration count, the
//! evaluation count, f and ∇f at θ (so a continued solve evaluates nothing twice) and, for
//! L-BFGS, the correction pairs. Newton keeps nothing else between iterations: its Hessian
//! and damping are rebuilt at every point.

use super::lbfgs::History;
use super::objective::{Counted, Objective};
use crate::Error;

/// L-BFGS correction pairs (s, y), oldest first.
pub type CorrectionPairs = Vec<(Vec<f64>, Vec<f64>)>;

/// A solve's state after an accepted step (owned; see [`SolverView::to_state`]).
#[derive(Clone, Debug, PartialEq)]
pub struct SolverState {
    /// Accepted steps so far.
    pub iterations: usize,
    /// Objective evaluations so far.
    pub evaluations: usize,
    /// f at θ.
    pub value: f64,
    /// ∇f at θ.
    pub grad: Vec<f64>,
    /// L-BFGS correction pairs (s, y), oldest first; empty for Newton.
    pub pairs: CorrectionPairs,
}

/// A borrowed view of the solve's state, handed out with every [`super::Iteration`].
#[derive(Clone, Copy, Debug)]
pub struct SolverView<'a> {
    pub(super) theta: &'a [f64],
    pub(super) grad: &'a [f64],
    pub(super) iterations: usize,
    pub(super) evaluations: usize,
    pub(super) value: f64,
    pub(super) history: Option<&'a History>,
}

impl<'a> SolverView<'a> {
    /// θ, the accepted point.
    pub fn theta(&self) -> &'a [f64] {
        self.theta
    }

    /// ∇f at θ.
    pub fn grad(&self) -> &'a [f64] {
        self.grad
    }

    /// An owned copy, to continue the solve from later.
    pub fn to_state(&self) -> SolverState {
        SolverState {
            iterations: self.iterations,
            evaluations: self.evaluations,
            value: self.value,
            grad: self.grad.to_vec(),
            pairs: self.history.map_or_else(Vec::new, History::pairs),
        }
    }
}

/// Where a solve starts: from `resume` (checked against `dim` parameters and `max_pairs`
/// pairs; its pairs are the caller's to restore) or by evaluating θ. Leaves ∇f in `grad` and
/// returns (iterations already done, f at θ).
pub(super) fn starting_point<O: Objective + ?Sized>(
    f: &mut Counted<'_, O>,
    theta: &[f64],
    grad: &mut [f64],
    resume: Option<&SolverState>,
    max_pairs: usize,
) -> Result<(usize, f64), Error> {
    match resume {
        Some(state) => {
            state.check(grad.len(), max_pairs)?;
            grad.copy_from_slice(&state.grad);
            f.evaluations = state.evaluations;
            Ok((state.iterations, state.value))
        }
        None => Ok((0, f.value_grad(theta, grad)?)),
    }
}

impl SolverState {
    /// Refuses a state that cannot belong to a solve of `dim` parameters keeping at most
    /// `max_pairs` pairs.
    pub(super) fn check(&self, dim: usize, max_pairs: usize) -> Result<(), Error> {
        let wrong_length = self.grad.len() != dim
            || self
                .pairs
                .iter()
                .any(|(s, y)| s.len() != dim || y.len() != dim);
        if wrong_length {
            return Err(Error::Usage(format!(
                "the saved solver state is not of a problem with {dim} parameters"
            )));
        }
        if self.pairs.len() > max_pairs {
            return Err(Error::Usage(format!(
                "the saved solver state holds {} correction pairs, the solver keeps {max_pairs}",
                self.pairs.len()
            )));
        }
        if !self.value.is_finite() || self.grad.iter().any(|g| !g.is_finite()) {
            return Err(Error::Usage(
                "the saved solver state holds a non-finite value or gradient".into(),
            ));
        }
        Ok(())
    }
}
