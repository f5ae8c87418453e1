//! What a solver minimizes, and the checked, counting view the solvers actually call.

use crate::Error;

/// A smooth objective on a flat parameter vector.
pub trait Objective {
    /// Number of parameters.
    fn dim(&self) -> usize;

    /// f(θ), with ∇f(θ) written into `grad` (len [`dim`](Objective::dim)). Errors (a data
    /// problem, say) propagate unchanged out of every solver.
    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64, Error>;
}

impl<O: Objective + ?Sized> Objective for &mut O {
    fn dim(&self) -> usize {
        (**self).dim()
    }

    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64, Error> {
        (**self).value_grad(theta, grad)
    }
}

/// The objective as a solver sees it: every evaluation is counted and checked for NaN and
/// infinity, and a failure names the solver iteration and evaluation where it happened.
pub(super) struct Counted<'a, O: ?Sized> {
    objective: &'a mut O,
    /// Evaluations so far (each is one value and one gradient).
    pub evaluations: usize,
    /// The iteration under way, for error messages.
    pub iteration: usize,
}

impl<'a, O: Objective + ?Sized> Counted<'a, O> {
    pub fn new(objective: &'a mut O) -> Self {
        Counted {
            objective,
            evaluations: 0,
            iteration: 0,
        }
    }
}

impl<O: Objective + ?Sized> Objective for Counted<'_, O> {
    fn dim(&self) -> usize {
        self.objective.dim()
    }

    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64, Error> {
        self.evaluations += 1;
        let value = self.objective.value_grad(theta, grad)?;
        ensure_finite(value, grad, self.iteration, self.evaluations)?;
        Ok(value)
    }
}

/// `Err(Diverged)` when the value or a gradient entry is NaN or infinite. For a full-batch
/// solver one iteration is one pass over the data, so `epoch` is the solver iteration and
/// `step` the evaluation count.
pub(super) fn ensure_finite(
    value: f64,
    grad: &[f64],
    iteration: usize,
    evaluation: usize,
) -> Result<(), Error> {
    let diverged = |message: String| Error::Diverged {
        epoch: iteration,
        step: evaluation as u64,
        message,
    };
    if !value.is_finite() {
        return Err(diverged(format!("the objective value is {value}")));
    }
    match grad.iter().position(|g| !g.is_finite()) {
        Some(i) => Err(diverged(format!(
            "gradient entry {i} of {} is {}",
            grad.len(),
            grad[i]
        ))),
        None => Ok(()),
    }
}

/// `Err(Usage)` unless `theta` has the objective's dimension.
pub(super) fn check_dimension(objective_dim: usize, theta_len: usize) -> Result<(), Error> {
    if objective_dim == theta_len {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "the objective has {objective_dim} parameters but the starting point has {theta_len}"
        )))
    }
}
