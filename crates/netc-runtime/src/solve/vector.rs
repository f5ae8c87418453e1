//! The few dense-vector operations the solvers share.

pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(super) fn norm2(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

pub(super) fn inf_norm(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// `out = x + alpha * direction`
pub(super) fn step_to(out: &mut [f64], x: &[f64], alpha: f64, direction: &[f64]) {
    for ((o, x), d) in out.iter_mut().zip(x).zip(direction) {
        *o = x + alpha * d;
    }
}

/// The stopping test every solver uses: ‖g‖∞ ≤ tolerance · max(1, |f|).
pub(super) fn gradient_small(grad_inf_norm: f64, value: f64, tolerance: f64) -> bool {
    grad_inf_norm <= tolerance * value.abs().max(1.0)
}
