//! `monitor curvature`: gᵀg and gᵀHg of one minibatch's loss (data + regularization) at the
//! parameters a step starts from. g is the analytic gradient; H·g is a central difference of
//! gradients along g ([`crate::solve::hvp`]), with the dropout masks of g's evaluation replayed
//! so both sides see the same network. The model's parameters are restored exactly afterwards
//! (f32 → f64 → f32 round-trips bit for bit); batch-norm running averages are never touched by
//! `gradient`. Buffers are allocated once, in [`CurvatureProbe::new`].

use crate::error::Error;
use crate::network::{Masks, Network, Targets};
use crate::solve::{HvpWorkspace, Objective, curvature};

pub struct CurvatureProbe {
    theta: Vec<f64>,
    grad: Vec<f64>,
    workspace: HvpWorkspace,
}

impl CurvatureProbe {
    pub fn new(params: usize) -> CurvatureProbe {
        CurvatureProbe {
            theta: vec![0.0; params],
            grad: vec![0.0; params],
            workspace: HvpWorkspace::new(params),
        }
    }

    /// (gᵀg, gᵀHg) of the loss on this batch (`x.len() / INPUT` rows, ≤ BATCH, targets `y`).
    pub fn measure<M: Network>(
        &mut self,
        model: &mut M,
        x: &[M::Float],
        y: Targets<'_, M::Float>,
    ) -> Result<(f64, f64), Error> {
        model.read_params(&mut self.theta);
        let rows = x.len() / M::INPUT;
        model.gradient(x, y, rows, Masks::Fresh);
        model.read_gradient(&mut self.grad);
        model.regularization(&mut self.grad);
        let g_g = self.grad.iter().map(|g| g * g).sum();
        let mut batch = BatchObjective {
            model: &mut *model,
            x,
            y,
            rows,
        };
        let measured = curvature(&mut batch, &mut self.workspace, &self.theta, &self.grad);
        model.write_params(&self.theta);
        Ok((g_g, measured?))
    }
}

/// The loss of one fixed batch with fixed dropout masks, as a function of the parameters.
struct BatchObjective<'a, M: Network> {
    model: &'a mut M,
    x: &'a [M::Float],
    y: Targets<'a, M::Float>,
    rows: usize,
}

impl<M: Network> Objective for BatchObjective<'_, M> {
    fn dim(&self) -> usize {
        M::PARAMS
    }

    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<f64, Error> {
        self.model.write_params(theta);
        let data = self.model.gradient(self.x, self.y, self.rows, Masks::Reuse);
        self.model.read_gradient(grad);
        Ok(data + self.model.regularization(grad))
    }
}
