//! Hessian-vector products from two gradients, without forming the Hessian.

use super::objective::{Objective, check_dimension, ensure_finite};
use super::vector::{dot, inf_norm, step_to};
use crate::Error;

/// Work buffers for [`hvp`] and [`curvature`], allocated once so a caller can take a
/// product every few steps without allocating.
#[derive(Clone, Debug)]
pub struct HvpWorkspace {
    /// θ ± εv
    shifted: Vec<f64>,
    /// ∇f(θ − εv)
    grad_minus: Vec<f64>,
    /// H·g, for [`curvature`]
    product: Vec<f64>,
}

impl HvpWorkspace {
    /// Buffers for objectives with `dim` parameters.
    pub fn new(dim: usize) -> HvpWorkspace {
        HvpWorkspace {
            shifted: vec![0.0; dim],
            grad_minus: vec![0.0; dim],
            product: vec![0.0; dim],
        }
    }

    /// The dimension these buffers serve.
    pub fn dim(&self) -> usize {
        self.shifted.len()
    }
}

/// `out = H(θ)·v` by a central difference of the analytic gradient:
///
/// H(θ)·v ≈ (∇f(θ + εv) − ∇f(θ − εv)) / 2ε,  ε = ∛(f64::EPSILON) · (1 + ‖θ‖∞) / ‖v‖∞.
///
/// The truncation error is O(ε²·‖v‖³) (the ε¹ terms cancel) and the roundoff error
/// O(f64::EPSILON·‖∇f‖ / ε); ε ≈ ∛ε_mach balances the two, giving about 2/3 of the f64
/// digits (≈ 1e-10 relative on well-scaled problems, exact up to roundoff on quadratics).
/// The shift εv then has ∞-norm ∛ε_mach·(1 + ‖θ‖∞) ≈ 6e-6·(1 + ‖θ‖∞), relative to θ's scale
/// whatever the scale of v. The gradient at θ itself is not needed.
///
/// Costs two gradient evaluations (none when v = 0). A non-finite gradient is an
/// [`Error::Diverged`] (reported at epoch 0, step 0: a standalone product has no iteration).
pub fn hvp<O: Objective + ?Sized>(
    objective: &mut O,
    workspace: &mut HvpWorkspace,
    theta: &[f64],
    v: &[f64],
    out: &mut [f64],
) -> Result<(), Error> {
    let n = objective.dim();
    check_dimension(n, theta.len())?;
    if v.len() != n || out.len() != n || workspace.dim() != n {
        return Err(Error::Usage(format!(
            "a Hessian-vector product in {n} dimensions got v of length {}, out of length {} \
             and a workspace for {}",
            v.len(),
            out.len(),
            workspace.dim()
        )));
    }
    let v_norm = inf_norm(v);
    if v_norm == 0.0 {
        out.fill(0.0);
        return Ok(());
    }
    let epsilon = f64::EPSILON.cbrt() * (1.0 + inf_norm(theta)) / v_norm;

    step_to(&mut workspace.shifted, theta, epsilon, v);
    let plus = objective.value_grad(&workspace.shifted, out)?;
    ensure_finite(plus, out, 0, 0)?;
    step_to(&mut workspace.shifted, theta, -epsilon, v);
    let minus = objective.value_grad(&workspace.shifted, &mut workspace.grad_minus)?;
    ensure_finite(minus, &workspace.grad_minus, 0, 0)?;

    let scale = 0.5 / epsilon;
    for (o, m) in out.iter_mut().zip(&workspace.grad_minus) {
        *o = (*o - m) * scale;
    }
    Ok(())
}

/// gᵀH(θ)g, the curvature of f along g (for g = ∇f(θ), how fast the gradient step bends),
/// from one [`hvp`]: two gradient evaluations.
pub fn curvature<O: Objective + ?Sized>(
    objective: &mut O,
    workspace: &mut HvpWorkspace,
    theta: &[f64],
    g: &[f64],
) -> Result<f64, Error> {
    let mut product = std::mem::take(&mut workspace.product);
    product.resize(workspace.dim(), 0.0);
    let result = hvp(objective, workspace, theta, g, &mut product);
    let value = dot(g, &product);
    workspace.product = product;
    result.map(|()| value)
}
