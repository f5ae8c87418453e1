//! Limited-memory BFGS (Nocedal & Wright, Algorithm 7.5 with the two-loop recursion of
//! Algorithm 7.4) and a strong-Wolfe line search.

use std::ops::ControlFlow;

use super::line_search::{Line, strong_wolfe};
use super::objective::{Counted, Objective, check_dimension};
use super::report::{Iteration, SolveReport, StopReason, converged_at_start, end_of_step};
use super::resume::{CorrectionPairs, SolverState, SolverView, starting_point};
use super::vector::{dot, inf_norm, norm2};
use crate::Error;

/// Hyperparameters of [`lbfgs`].
#[derive(Clone, Debug, PartialEq)]
pub struct LbfgsConfig {
    /// Correction pairs (s, y) kept; 3–20 is usual, and with `history ≥ dim` L-BFGS is full
    /// BFGS (rescaled every iteration). At least 1.
    pub history: usize,
    /// Stop when ‖∇f‖∞ ≤ tolerance · max(1, |f|): absolute for |f| ≤ 1, relative to f above.
    /// Non-negative. Near 1e-8 and below, a step's decrease of f (≈ ‖g‖²/2L) falls under
    /// f's own roundoff (≈ 1e-16·|f|), so a solve can end in
    /// [`StopReason::LineSearchFailed`] with a gradient that is already tiny: the point is
    /// then as good as f64 can tell.
    pub tolerance: f64,
    /// Accepted steps at most.
    pub max_iterations: usize,
}

impl Default for LbfgsConfig {
    /// history 10, tolerance 1e-8, 1000 iterations.
    fn default() -> Self {
        LbfgsConfig {
            history: 10,
            tolerance: 1e-8,
            max_iterations: 1000,
        }
    }
}

impl LbfgsConfig {
    fn validate(&self) -> Result<(), Error> {
        if self.history == 0 {
            return Err(Error::Usage(
                "L-BFGS needs a history of at least 1 pair".into(),
            ));
        }
        if !(self.tolerance >= 0.0 && self.tolerance.is_finite()) {
            return Err(Error::Usage(format!(
                "the L-BFGS tolerance must be a non-negative number, not {}",
                self.tolerance
            )));
        }
        Ok(())
    }
}

/// Minimizes `objective` from `theta`, leaving the last accepted point in `theta`.
///
/// Each iteration takes the two-loop direction p = −H·g, with H₀ = γI and γ = sᵀy / yᵀy of
/// the newest pair, then a line search satisfying the strong Wolfe conditions (c1 = 1e-4,
/// c2 = 0.9) starting at α = 1 — at α = min(1, 1/‖g‖₂) while the history is empty, so the
/// first step moves θ by at most a unit. A pair is skipped when sᵀy ≤ 1e-10·‖s‖‖y‖, which
/// keeps H positive definite. If the line search fails with a non-empty history, the history
/// is dropped and a steepest-descent step is tried before giving up with
/// [`StopReason::LineSearchFailed`].
///
/// `on_iteration` sees every accepted step and may stop the solve with
/// `ControlFlow::Break(())`. Errors: [`Error::Usage`] for a bad config or a `theta` of the
/// wrong length, [`Error::Diverged`] for a non-finite value or gradient, and whatever the
/// objective returns.
pub fn lbfgs<O: Objective + ?Sized>(
    objective: &mut O,
    theta: &mut [f64],
    config: &LbfgsConfig,
    on_iteration: impl FnMut(&Iteration) -> ControlFlow<()>,
) -> Result<SolveReport, Error> {
    lbfgs_from(objective, theta, config, None, on_iteration)
}

/// [`lbfgs`], continued from `resume` (saved from an [`Iteration`]'s `state` with `theta` at
/// its point) when given: the same iterates, evaluation counts and report as the solve that
/// was stopped there, which is not evaluated again. Refused ([`Error::Usage`]) when the state
/// does not fit the problem or the config.
pub fn lbfgs_from<O: Objective + ?Sized>(
    objective: &mut O,
    theta: &mut [f64],
    config: &LbfgsConfig,
    resume: Option<&SolverState>,
    mut on_iteration: impl FnMut(&Iteration) -> ControlFlow<()>,
) -> Result<SolveReport, Error> {
    config.validate()?;
    let n = objective.dim();
    check_dimension(n, theta.len())?;
    let mut f = Counted::new(objective);
    let mut grad = vec![0.0; n];
    let mut trial_x = vec![0.0; n];
    let mut trial_grad = vec![0.0; n];
    let mut direction = vec![0.0; n];
    let mut history = History::new(config.history, n);

    let (done, mut value) = starting_point(&mut f, theta, &mut grad, resume, config.history)?;
    if let Some(state) = resume {
        history.restore(&state.pairs)?;
    }
    let mut grad_norm = inf_norm(&grad);
    if let Some(done) = converged_at_start(done, f.evaluations, value, grad_norm, config.tolerance)
    {
        return Ok(done);
    }

    for k in done + 1..=config.max_iterations {
        f.iteration = k;
        let accepted = loop {
            history.direction(&grad, &mut direction);
            let slope = dot(&grad, &direction);
            if slope.is_nan() || slope >= 0.0 {
                if history.is_empty() {
                    break None; // even −g is no descent direction: g underflowed
                }
                // Roundoff can cost H its definiteness; start over from steepest descent.
                history.clear();
                continue;
            }
            let initial_step = if history.is_empty() {
                (1.0 / norm2(&grad)).min(1.0)
            } else {
                1.0
            };
            let line = Line {
                x: theta,
                value,
                slope,
                direction: &direction,
            };
            match strong_wolfe(&mut f, &line, initial_step, &mut trial_x, &mut trial_grad)? {
                Some(accepted) => break Some(accepted),
                None if !history.is_empty() => history.clear(),
                None => break None,
            }
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

        history.push(theta, &trial_x, &grad, &trial_grad);
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
                history: Some(&history),
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

/// The newest `capacity` correction pairs s = θₖ₊₁ − θₖ, y = ∇fₖ₊₁ − ∇fₖ, in a ring.
#[derive(Debug)]
pub(super) struct History {
    s: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
    /// 1 / sᵀy per pair
    rho: Vec<f64>,
    /// The two-loop recursion's αᵢ, one per pair
    alpha: Vec<f64>,
    len: usize,
    /// The slot the next pair goes into
    next: usize,
}

impl History {
    pub(super) fn new(capacity: usize, dim: usize) -> History {
        History {
            s: vec![vec![0.0; dim]; capacity],
            y: vec![vec![0.0; dim]; capacity],
            rho: vec![0.0; capacity],
            alpha: vec![0.0; capacity],
            len: 0,
            next: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn clear(&mut self) {
        self.len = 0;
    }

    /// Stores the pair from (x, g) to (x_new, g_new) unless sᵀy ≤ 1e-10·‖s‖‖y‖ (not enough
    /// curvature to keep H positive definite). Written straight into the next slot, which a
    /// skipped pair leaves free.
    pub(super) fn push(&mut self, x: &[f64], x_new: &[f64], g: &[f64], g_new: &[f64]) {
        let slot = self.next;
        for (s, (a, b)) in self.s[slot].iter_mut().zip(x_new.iter().zip(x)) {
            *s = a - b;
        }
        for (y, (a, b)) in self.y[slot].iter_mut().zip(g_new.iter().zip(g)) {
            *y = a - b;
        }
        self.keep_next_slot();
    }

    /// Makes the pair written into the next slot part of the history if it has enough
    /// curvature; returns whether it did.
    fn keep_next_slot(&mut self) -> bool {
        let slot = self.next;
        let (s, y) = (&self.s[slot], &self.y[slot]);
        let sy = dot(s, y);
        if sy <= 1e-10 * norm2(s) * norm2(y) {
            return false;
        }
        self.rho[slot] = 1.0 / sy;
        self.next = (slot + 1) % self.s.len();
        self.len = (self.len + 1).min(self.s.len());
        true
    }

    /// The pairs, oldest first.
    pub(super) fn pairs(&self) -> CorrectionPairs {
        (0..self.len)
            .rev()
            .map(|i| {
                let slot = self.slot(i);
                (self.s[slot].clone(), self.y[slot].clone())
            })
            .collect()
    }

    /// Puts back pairs saved by [`History::pairs`] (into an empty history of at least their
    /// number of slots). The directions that follow are bit for bit the saved history's: ρ is
    /// recomputed by the same arithmetic, and the recursion reads pairs by age, not by slot.
    pub(super) fn restore(&mut self, pairs: &[(Vec<f64>, Vec<f64>)]) -> Result<(), Error> {
        for (s, y) in pairs {
            let slot = self.next;
            self.s[slot].copy_from_slice(s);
            self.y[slot].copy_from_slice(y);
            if !self.keep_next_slot() {
                return Err(Error::Usage(
                    "the saved L-BFGS history holds a pair without positive curvature (sᵀy);                      it was not written by this solver"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    /// Slot of the i-th newest pair (0 = newest).
    fn slot(&self, i: usize) -> usize {
        let capacity = self.s.len();
        (self.next + capacity - 1 - i) % capacity
    }

    /// direction = −H·g by the two-loop recursion (Algorithm 7.4).
    pub(super) fn direction(&mut self, g: &[f64], direction: &mut [f64]) {
        for (d, g) in direction.iter_mut().zip(g) {
            *d = -g;
        }
        for i in 0..self.len {
            let slot = self.slot(i);
            let alpha = self.rho[slot] * dot(&self.s[slot], direction);
            self.alpha[slot] = alpha;
            axpy(direction, -alpha, &self.y[slot]);
        }
        if self.len > 0 {
            let newest = self.slot(0);
            let (s, y) = (&self.s[newest], &self.y[newest]);
            let gamma = dot(s, y) / dot(y, y);
            direction.iter_mut().for_each(|d| *d *= gamma);
        }
        for i in (0..self.len).rev() {
            let slot = self.slot(i);
            let beta = self.rho[slot] * dot(&self.y[slot], direction);
            axpy(direction, self.alpha[slot] - beta, &self.s[slot]);
        }
    }
}

/// `out += a * x`
fn axpy(out: &mut [f64], a: f64, x: &[f64]) {
    for (o, x) in out.iter_mut().zip(x) {
        *o += a * x;
    }
}
