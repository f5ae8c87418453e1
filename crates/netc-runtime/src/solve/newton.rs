//! Damped Newton with a dense Hessian built from Hessian-vector products.

use std::ops::ControlFlow;

use super::cholesky::{factor_lower, solve_lower};
use super::hvp::{HvpWorkspace, hvp};
use super::line_search::{Line, backtracking};
use super::objective::{Counted, Objective, check_dimension};
use super::report::{Iteration, SolveReport, StopReason, converged_at_start, end_of_step};
use super::resume::{SolverState, SolverView, starting_point};
use super::vector::{dot, inf_norm};
use crate::Error;

/// The most parameters [`newton`] accepts (the front end refuses `newton` above it too): the
/// dense Hessian takes n² f64s (800 MB at 10,000) and each iteration n³/6 flops to factor.
pub const NEWTON_MAX_PARAMETERS: usize = 10_000;

/// Damping attempts per iteration before the Hessian is declared hopeless.
const MAX_DAMPING_ATTEMPTS: usize = 64;

/// Smallest Cholesky pivot accepted, relative to max(1, max|Hᵢᵢ|) + λ.
const MIN_RELATIVE_PIVOT: f64 = 1e-12;

/// Hyperparameters of [`newton`].
#[derive(Clone, Debug, PartialEq)]
pub struct NewtonConfig {
    /// λ of the first attempt to factor H + λI each iteration (non-negative). Raised ×10
    /// while the factorization fails; from 0 the first raise is to 1e-8·max(1, max|Hᵢᵢ|).
    pub damping: f64,
    /// Stop when ‖∇f‖∞ ≤ tolerance · max(1, |f|). Non-negative.
    pub tolerance: f64,
    /// Accepted steps at most.
    pub max_iterations: usize,
}

impl Default for NewtonConfig {
    /// damping 0, tolerance 1e-8, 100 iterations.
    fn default() -> Self {
        NewtonConfig {
            damping: 0.0,
            tolerance: 1e-8,
            max_iterations: 100,
        }
    }
}

impl NewtonConfig {
    fn validate(&self, dim: usize) -> Result<(), Error> {
        if !(self.damping >= 0.0 && self.damping.is_finite()) {
            return Err(Error::Usage(format!(
                "the Newton damping must be a non-negative number, not {}",
                self.damping
            )));
        }
        if !(self.tolerance >= 0.0 && self.tolerance.is_finite()) {
            return Err(Error::Usage(format!(
                "the Newton tolerance must be a non-negative number, not {}",
                self.tolerance
            )));
        }
        if dim > NEWTON_MAX_PARAMETERS {
            return Err(Error::Usage(format!(
                "newton builds a dense Hessian; {dim} parameters is above its limit of \
                 {NEWTON_MAX_PARAMETERS} (use lbfgs)"
            )));
        }
        Ok(())
    }
}

/// Minimizes `objective` from `theta` by damped Newton steps, leaving the last accepted point
/// in `theta`.
///
/// Each iteration builds the dense Hessian column by column, H·eᵢ by [`hvp`] for i < n, so it
/// costs n Hessian-vector products = 2n gradient evaluations plus an n³/6-flop Cholesky and
/// n² f64s of memory: meant for small problems, at most [`NEWTON_MAX_PARAMETERS`]. The
/// Hessian is symmetrized, (H + Hᵀ)/2, and (H + λI)·p = −g is solved by Cholesky starting
/// from λ = `damping`; when H + λI is not positive definite (near a saddle or a maximum) λ
/// grows ×10 until it is (Levenberg), so p is always a descent direction. The step is then
/// backtracked from α = 1 by halving until f decreases sufficiently (Armijo, c1 = 1e-4).
///
/// The callback, stopping test and errors are those of [`lbfgs`](super::lbfgs), plus
/// [`Error::Usage`] above the parameter limit.
pub fn newton<O: Objective + ?Sized>(
    objective: &mut O,
    theta: &mut [f64],
    config: &NewtonConfig,
    on_iteration: impl FnMut(&Iteration) -> ControlFlow<()>,
) -> Result<SolveReport, Error> {
    newton_from(objective, theta, config, None, on_iteration)
}

/// [`newton`], continued from `resume` as [`lbfgs_from`](super::lbfgs_from) continues
/// [`lbfgs`](super::lbfgs) (a Newton state has no correction pairs).
pub fn newton_from<O: Objective + ?Sized>(
    objective: &mut O,
    theta: &mut [f64],
    config: &NewtonConfig,
    resume: Option<&SolverState>,
    mut on_iteration: impl FnMut(&Iteration) -> ControlFlow<()>,
) -> Result<SolveReport, Error> {
    let n = objective.dim();
    config.validate(n)?;
    check_dimension(n, theta.len())?;
    let mut f = Counted::new(objective);
    let mut grad = vec![0.0; n];
    let mut trial_x = vec![0.0; n];
    let mut trial_grad = vec![0.0; n];
    let mut direction = vec![0.0; n];
    let mut hessian = DenseHessian::new(n);
    let mut workspace = HvpWorkspace::new(n);

    // A Newton state keeps no correction pairs.
    let (done, mut value) = starting_point(&mut f, theta, &mut grad, resume, 0)?;
    let mut grad_norm = inf_norm(&grad);
    if let Some(done) = converged_at_start(done, f.evaluations, value, grad_norm, config.tolerance)
    {
        return Ok(done);
    }

    for k in done + 1..=config.max_iterations {
        f.iteration = k;
        hessian.build(&mut f, &mut workspace, theta)?;
        hessian.damped_factor(config.damping, k, f.evaluations)?;
        for (d, g) in direction.iter_mut().zip(&grad) {
            *d = -g;
        }
        solve_lower(&hessian.matrix, n, &mut direction);

        let line = Line {
            x: theta,
            value,
            slope: dot(&grad, &direction),
            direction: &direction,
        };
        let accepted = if line.slope < 0.0 {
            backtracking(&mut f, &line, &mut trial_x, &mut trial_grad)?
        } else {
            None // only when g underflowed: no descent left to find
        };
        let Some(accepted) = accepted else {
            return Ok(SolveReport::new(
                k - 1,
                f.evaluations,
                value,
                grad_norm,
                StopReason::LineSearchFailed,
            ));
        };

        theta.copy_from_slice(&trial_x);
        std::mem::swap(&mut grad, &mut trial_grad);
        value = accepted.value;
        grad_norm = inf_norm(&grad);
        let step = Iteration {
            k,
            value,
            grad_norm,
            step: accepted.step,
            state: SolverView {
                theta,
                grad: &grad,
                iterations: k,
                evaluations: f.evaluations,
                value,
                history: None,
            },
        };
        if let Some(done) = end_of_step(&step, f.evaluations, config.tolerance, &mut on_iteration) {
            return Ok(done);
        }
    }
    Ok(SolveReport::new(
        config.max_iterations.max(done),
        f.evaluations,
        value,
        grad_norm,
        StopReason::MaxIterations,
    ))
}

/// One n×n buffer holding the symmetrized Hessian's strict upper triangle, its diagonal
/// apart, and each factorization attempt's L in the lower triangle.
struct DenseHessian {
    n: usize,
    matrix: Vec<f64>,
    diagonal: Vec<f64>,
    /// eᵢ, then H·eᵢ
    basis: Vec<f64>,
    column: Vec<f64>,
}

impl DenseHessian {
    fn new(n: usize) -> DenseHessian {
        DenseHessian {
            n,
            matrix: vec![0.0; n * n],
            diagonal: vec![0.0; n],
            basis: vec![0.0; n],
            column: vec![0.0; n],
        }
    }

    /// H(θ) column by column (H·eᵢ), symmetrized into the upper triangle and the diagonal.
    fn build<O: Objective + ?Sized>(
        &mut self,
        objective: &mut O,
        workspace: &mut HvpWorkspace,
        theta: &[f64],
    ) -> Result<(), Error> {
        let n = self.n;
        for i in 0..n {
            self.basis[i] = 1.0;
            hvp(objective, workspace, theta, &self.basis, &mut self.column)?;
            self.basis[i] = 0.0;
            // Column i holds H[j][i]: above the diagonal it is the upper triangle's own entry,
            // below it waits in the lower triangle to be averaged with H[i][j].
            for (j, &h) in self.column.iter().enumerate() {
                if j == i {
                    self.diagonal[i] = h;
                } else {
                    self.matrix[j * n + i] = h;
                }
            }
        }
        for i in 0..n {
            for j in i + 1..n {
                let upper = i * n + j;
                self.matrix[upper] = 0.5 * (self.matrix[upper] + self.matrix[j * n + i]);
            }
        }
        Ok(())
    }

    /// Cholesky of H + λI into the lower triangle, raising λ from `damping` until it succeeds.
    fn damped_factor(
        &mut self,
        damping: f64,
        iteration: usize,
        evaluation: usize,
    ) -> Result<(), Error> {
        let n = self.n;
        let scale = self.diagonal.iter().fold(1.0f64, |m, d| m.max(d.abs()));
        let mut lambda = damping;
        for _ in 0..MAX_DAMPING_ATTEMPTS {
            for i in 0..n {
                for j in 0..i {
                    self.matrix[i * n + j] = self.matrix[j * n + i];
                }
                self.matrix[i * n + i] = self.diagonal[i] + lambda;
            }
            // A pivot at roundoff level of H's scale means λ landed on −λ_min(H): the step
            // would be huge and meaningless, so count it as a failure and damp more.
            let min_pivot = MIN_RELATIVE_PIVOT * (scale + lambda);
            if factor_lower(&mut self.matrix, n, min_pivot) {
                return Ok(());
            }
            lambda = if lambda > 0.0 {
                lambda * 10.0
            } else {
                1e-8 * scale
            };
        }
        Err(Error::Diverged {
            epoch: iteration,
            step: evaluation as u64,
            message: format!("the Hessian stayed indefinite with damping up to {lambda:e}"),
        })
    }
}
