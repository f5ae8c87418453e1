//! Line searches along a descent direction p from x: find a step α for x + α·p.
//!
//! [`strong_wolfe`] is Nocedal & Wright's Algorithm 3.5 (bracketing) with Algorithm 3.6
//! (zoom, by safeguarded cubic interpolation, else bisection); L-BFGS needs its curvature
//! condition to keep sᵀy > 0. [`backtracking`] is plain Armijo backtracking from α = 1, for
//! Newton, whose unit step is already well scaled.

use super::objective::Objective;
use super::vector::{dot, step_to};
use crate::Error;

/// c1 of the sufficient-decrease (Armijo) condition f(x+αp) ≤ f(x) + c1·α·∇f(x)ᵀp.
pub(super) const SUFFICIENT_DECREASE: f64 = 1e-4;
/// c2 of the strong curvature condition |∇f(x+αp)ᵀp| ≤ c2·|∇f(x)ᵀp|.
pub(super) const CURVATURE: f64 = 0.9;
/// Evaluations one line search may spend before giving up.
const MAX_EVALUATIONS: usize = 40;
/// Step growth while bracketing (Algorithm 3.5 leaves the choice open).
const EXPANSION: f64 = 2.0;
/// A zoom trial stays this fraction of the interval away from either end, so the bracket
/// shrinks by at least 10% per evaluation even when the cubic is degenerate.
const SAFEGUARD: f64 = 0.1;

/// The line x + α·p: where it starts, f and ∇fᵀp there (the slope must be negative), and p.
pub(super) struct Line<'a> {
    pub x: &'a [f64],
    pub value: f64,
    pub slope: f64,
    pub direction: &'a [f64],
}

/// Where a line search ends: the point and its gradient are in the trial buffers it was given
/// (the last point evaluated is always the accepted one).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Accepted {
    pub step: f64,
    pub value: f64,
}

/// φ(α) = f(x + αp) and φ'(α) = ∇f(x + αp)ᵀp at one α.
#[derive(Clone, Copy, Debug)]
struct Sample {
    step: f64,
    value: f64,
    slope: f64,
}

/// Evaluates φ at trial steps, leaving x + αp and its gradient in the trial buffers.
struct Probe<'a, 'b, O: ?Sized> {
    objective: &'a mut O,
    line: &'a Line<'b>,
    trial_x: &'a mut [f64],
    trial_grad: &'a mut [f64],
    evaluations: usize,
}

impl<O: Objective + ?Sized> Probe<'_, '_, O> {
    fn sample(&mut self, step: f64) -> Result<Sample, Error> {
        self.evaluations += 1;
        step_to(self.trial_x, self.line.x, step, self.line.direction);
        let value = self.objective.value_grad(self.trial_x, self.trial_grad)?;
        Ok(Sample {
            step,
            value,
            slope: dot(self.trial_grad, self.line.direction),
        })
    }

    /// Whether x + αp differs from x at all: below that, every test compares f(x) with
    /// itself and the sufficient-decrease condition can hold vacuously.
    fn moves(&self, step: f64) -> bool {
        self.line
            .x
            .iter()
            .zip(self.line.direction)
            .any(|(x, d)| x + step * d != *x)
    }

    fn exhausted(&self) -> bool {
        self.evaluations >= MAX_EVALUATIONS
    }

    fn sufficient_decrease(&self, s: &Sample) -> bool {
        s.value <= self.line.value + SUFFICIENT_DECREASE * s.step * self.line.slope
    }

    fn curvature(&self, s: &Sample) -> bool {
        s.slope.abs() <= -CURVATURE * self.line.slope
    }
}

/// A step satisfying the strong Wolfe conditions (c1 = 1e-4, c2 = 0.9), trying
/// `initial_step` first; `None` when none was found within the evaluation budget.
pub(super) fn strong_wolfe<O: Objective + ?Sized>(
    objective: &mut O,
    line: &Line<'_>,
    initial_step: f64,
    trial_x: &mut [f64],
    trial_grad: &mut [f64],
) -> Result<Option<Accepted>, Error> {
    let mut probe = Probe {
        objective,
        line,
        trial_x,
        trial_grad,
        evaluations: 0,
    };
    let mut previous = Sample {
        step: 0.0,
        value: line.value,
        slope: line.slope,
    };
    let mut step = initial_step;
    while !probe.exhausted() {
        let current = probe.sample(step)?;
        if !probe.sufficient_decrease(&current)
            || (probe.evaluations > 1 && current.value >= previous.value)
        {
            return zoom(&mut probe, previous, current);
        }
        if probe.curvature(&current) {
            return Ok(Some(accept(current)));
        }
        if current.slope >= 0.0 {
            return zoom(&mut probe, current, previous);
        }
        previous = current;
        step *= EXPANSION;
    }
    Ok(None)
}

/// Algorithm 3.6: `low` satisfies sufficient decrease and has the lowest value seen; the
/// bracket [low, high] (in either order) holds a strong-Wolfe step.
fn zoom<O: Objective + ?Sized>(
    probe: &mut Probe<'_, '_, O>,
    mut low: Sample,
    mut high: Sample,
) -> Result<Option<Accepted>, Error> {
    while !probe.exhausted() {
        let width = (high.step - low.step).abs();
        if width <= f64::EPSILON * low.step.abs().max(high.step.abs()) {
            return Ok(None);
        }
        let step = interpolate(&low, &high);
        if !probe.moves(step) {
            return Ok(None);
        }
        let current = probe.sample(step)?;
        if !probe.sufficient_decrease(&current) || current.value >= low.value {
            high = current;
        } else {
            if probe.curvature(&current) {
                return Ok(Some(accept(current)));
            }
            if current.slope * (high.step - low.step) >= 0.0 {
                high = low;
            }
            low = current;
        }
    }
    Ok(None)
}

fn accept(s: Sample) -> Accepted {
    Accepted {
        step: s.step,
        value: s.value,
    }
}

/// The minimizer of the cubic through both ends' values and slopes (N&W eq. 3.59), kept
/// [`SAFEGUARD`] of the width inside the bracket; the midpoint when the cubic has none.
fn interpolate(a: &Sample, b: &Sample) -> f64 {
    let (left, right) = (a.step.min(b.step), a.step.max(b.step));
    let margin = SAFEGUARD * (right - left);
    let d1 = a.slope + b.slope - 3.0 * (a.value - b.value) / (a.step - b.step);
    let discriminant = d1 * d1 - a.slope * b.slope;
    if discriminant >= 0.0 {
        let d2 = (b.step - a.step).signum() * discriminant.sqrt();
        let step =
            b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2.0 * d2);
        if step.is_finite() && step >= left + margin && step <= right - margin {
            return step;
        }
        if step.is_finite() && step > left && step < right {
            return step.clamp(left + margin, right - margin);
        }
    }
    0.5 * (left + right)
}

/// Halvings [`backtracking`] tries before giving up (α down to 2⁻⁵⁰).
const MAX_BACKTRACKS: usize = 50;

/// The first of α = 1, 1/2, 1/4, … with sufficient decrease (c1 = 1e-4); `None` after
/// [`MAX_BACKTRACKS`] halvings or once α·p no longer changes x.
pub(super) fn backtracking<O: Objective + ?Sized>(
    objective: &mut O,
    line: &Line<'_>,
    trial_x: &mut [f64],
    trial_grad: &mut [f64],
) -> Result<Option<Accepted>, Error> {
    let mut probe = Probe {
        objective,
        line,
        trial_x,
        trial_grad,
        evaluations: 0,
    };
    let mut step = 1.0;
    for _ in 0..=MAX_BACKTRACKS {
        if !probe.moves(step) {
            break;
        }
        let current = probe.sample(step)?;
        if probe.sufficient_decrease(&current) {
            return Ok(Some(accept(current)));
        }
        step *= 0.5;
    }
    Ok(None)
}
