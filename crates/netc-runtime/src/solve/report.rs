//! What a solver tells its caller: once per iteration, and once at the end.

use std::fmt;

/// One accepted iteration, handed to the caller's `on_iteration` callback.
///
/// Guarantee: when the callback runs, the objective's most recent `value_grad` call was at
/// the accepted point, so an objective that keeps state (a model holding its parameters) holds
/// that point's.
#[derive(Clone, Copy, Debug)]
pub struct Iteration<'a> {
    /// Iterations completed, starting at 1.
    pub k: usize,
    /// f at the new point.
    pub value: f64,
    /// ‖∇f‖∞ at the new point.
    pub grad_norm: f64,
    /// The accepted line-search step length α (the new point is θ + α·p for the search
    /// direction p).
    pub step: f64,
    /// The solve's whole state at the new point: what a caller saves to continue the solve
    /// later with [`lbfgs_from`](super::lbfgs_from) / [`newton_from`](super::newton_from).
    pub state: super::SolverView<'a>,
}

/// Why a solver stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// ‖∇f‖∞ ≤ tolerance · max(1, |f|).
    Converged,
    /// `max_iterations` iterations ran without converging.
    MaxIterations,
    /// The `on_iteration` callback returned `ControlFlow::Break`.
    Stopped,
    /// No step along the search direction decreased f enough (usually: f is as small as
    /// floating point can tell, with a tolerance tighter than its roundoff).
    LineSearchFailed,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopReason::Converged => "converged",
            StopReason::MaxIterations => "reached the iteration limit",
            StopReason::Stopped => "stopped by the caller",
            StopReason::LineSearchFailed => "the line search found no acceptable step",
        })
    }
}

/// The outcome of a solve; the final point is left in the caller's `theta`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SolveReport {
    /// Iterations completed (accepted steps).
    pub iterations: usize,
    /// Objective evaluations (one value and one gradient each), Hessian-vector products
    /// included (two each).
    pub evaluations: usize,
    /// f at the final point.
    pub value: f64,
    /// ‖∇f‖∞ at the final point.
    pub grad_inf_norm: f64,
    /// `reason == StopReason::Converged`.
    pub converged: bool,
    pub reason: StopReason,
}

impl SolveReport {
    pub(super) fn new(
        iterations: usize,
        evaluations: usize,
        value: f64,
        grad_inf_norm: f64,
        reason: StopReason,
    ) -> SolveReport {
        SolveReport {
            iterations,
            evaluations,
            value,
            grad_inf_norm,
            converged: reason == StopReason::Converged,
            reason,
        }
    }
}

/// After an accepted step: hands it to the caller's callback, then ends the solve if the
/// gradient is small enough (converged) or the callback asked to stop.
pub(super) fn end_of_step(
    step: &Iteration,
    evaluations: usize,
    tolerance: f64,
    on_iteration: &mut impl FnMut(&Iteration) -> std::ops::ControlFlow<()>,
) -> Option<SolveReport> {
    let flow = on_iteration(step);
    let reason = if super::vector::gradient_small(step.grad_norm, step.value, tolerance) {
        StopReason::Converged
    } else if flow.is_break() {
        StopReason::Stopped
    } else {
        return None;
    };
    Some(SolveReport::new(
        step.k,
        evaluations,
        step.value,
        step.grad_norm,
        reason,
    ))
}

/// Before the first iteration (or the first after `iterations` done before a resume): a point
/// whose gradient is already small is the answer.
pub(super) fn converged_at_start(
    iterations: usize,
    evaluations: usize,
    value: f64,
    grad_norm: f64,
    tolerance: f64,
) -> Option<SolveReport> {
    super::vector::gradient_small(grad_norm, value, tolerance).then(|| {
        SolveReport::new(
            iterations,
            evaluations,
            value,
            grad_norm,
            StopReason::Converged,
        )
    })
}
