//! The model's trainable parameters and their gradients as one flat f64 vector, for the
//! runtime's full-batch solvers (L-BFGS, Newton), Hessian-vector products and gradient checks:
//! `PARAMS`, `read_params`, `write_params`, `read_gradient`, `write_gradient`, `regularization`.
//!
//! Order: layer by layer, each weight matrix row-major ([out, in]) then its bias, then the
//! batch norm's γ and β when one follows — the order of `tensors()` without the persistent
//! non-trainable state (running statistics).

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::plan::{Plan, usize_lit};

/// One trainable tensor: its buffer, its gradient buffer, whether it is 2-D, and whether the
/// regularizer applies to it (weights always; biases only with `include_bias`).
struct Trainable<'p> {
    param: &'p Ident,
    grad: &'p Ident,
    rows: bool,
    penalized: bool,
}

fn trainables<'p>(plan: &'p Plan) -> Vec<Trainable<'p>> {
    let include_bias = plan.net.train.regularize.include_bias;
    let mut list = Vec::new();
    for l in &plan.dense {
        list.push(Trainable {
            param: &l.w,
            grad: &l.gw,
            rows: true,
            penalized: true,
        });
        list.push(Trainable {
            param: &l.b,
            grad: &l.gb,
            rows: false,
            penalized: include_bias,
        });
        // Batch norm's γ and β follow their dense layer, as in `tensors()`; never penalized.
        if let Some(bn) = &l.batchnorm {
            for (param, grad) in [(&bn.gamma, &bn.g_gamma), (&bn.beta, &bn.g_beta)] {
                list.push(Trainable {
                    param,
                    grad,
                    rows: false,
                    penalized: false,
                });
            }
        }
    }
    list
}

fn flat(t: &Trainable<'_>, field: &Ident, mutable: bool) -> TokenStream {
    match (t.rows, mutable) {
        (true, false) => quote!(self.#field.as_flattened()),
        (true, true) => quote!(self.#field.as_flattened_mut()),
        (false, false) => quote!(self.#field[..]),
        (false, true) => quote!(self.#field[..]),
    }
}

/// Total trainable parameters (the IR's count, which includes every trainable tensor).
pub fn params_const(plan: &Plan) -> TokenStream {
    let total = usize_lit(plan.net.model.total_params);
    quote! {
        const PARAMS: usize = #total;
    }
}

pub fn flat_fns(plan: &Plan) -> TokenStream {
    let list = trainables(plan);
    let reads = list.iter().map(|t| {
        let src = flat(t, t.param, false);
        quote! {
            for &v in #src.iter() {
                out[at] = v as f64;
                at += 1;
            }
        }
    });
    let writes = list.iter().map(|t| {
        let dst = flat(t, t.param, true);
        quote! {
            for v in #dst.iter_mut() {
                *v = from[at] as F;
                at += 1;
            }
        }
    });
    let grads = list.iter().map(|t| {
        let src = flat(t, t.grad, false);
        quote! {
            for &v in #src.iter() {
                out[at] = v as f64;
                at += 1;
            }
        }
    });
    let grad_writes = list.iter().map(|t| {
        let dst = flat(t, t.grad, true);
        quote! {
            for v in #dst.iter_mut() {
                *v = from[at] as F;
                at += 1;
            }
        }
    });
    let regularization = regularization_fn(plan, &list);
    quote! {
        #[allow(unused_assignments)]
        fn read_params(&self, out: &mut [f64]) {
            ::core::assert!(out.len() == Self::PARAMS, "read_params: expected PARAMS values");
            let mut at = 0usize;
            #( #reads )*
        }

        #[allow(unused_assignments)]
        fn write_params(&mut self, from: &[f64]) {
            ::core::assert!(from.len() == Self::PARAMS, "write_params: expected PARAMS values");
            let mut at = 0usize;
            #( #writes )*
        }

        #[allow(unused_assignments)]
        fn read_gradient(&self, out: &mut [f64]) {
            ::core::assert!(out.len() == Self::PARAMS, "read_gradient: expected PARAMS values");
            let mut at = 0usize;
            #( #grads )*
        }

        #[allow(unused_assignments)]
        fn write_gradient(&mut self, from: &[f64]) {
            ::core::assert!(from.len() == Self::PARAMS, "write_gradient: expected PARAMS values");
            let mut at = 0usize;
            #( #grad_writes )*
        }

        #regularization
    }
}

/// λ₂/2·Σθ² + λ₁·Σ|θ| over the penalized tensors, with λ₂θ + λ₁·sign(θ) added into `grad`
/// (sign(0) = 0, as in the update pass). Max-norm is a constraint, not a loss: not here.
fn regularization_fn(plan: &Plan, list: &[Trainable<'_>]) -> TokenStream {
    let reg = &plan.net.train.regularize;
    let l2 = reg.l2.map(|_| quote!(let l2 = self.hyper.l2 as f64;));
    let l1 = reg.l1.map(|_| quote!(let l1 = self.hyper.l1 as f64;));
    let l2_terms = reg.l2.map(|_| {
        quote! {
            loss += 0.5 * l2 * p * p;
            grad[at] += l2 * p;
        }
    });
    let l1_terms = reg.l1.map(|_| {
        quote! {
            loss += l1 * p.abs();
            grad[at] += if p > 0.0 { l1 } else if p < 0.0 { -l1 } else { 0.0 };
        }
    });
    let body = list.iter().map(|t| {
        let src = flat(t, t.param, false);
        if t.penalized && (reg.l2.is_some() || reg.l1.is_some()) {
            quote! {
                for &v in #src.iter() {
                    let p = v as f64;
                    #l2_terms
                    #l1_terms
                    at += 1;
                }
            }
        } else {
            quote!(at += #src.len();)
        }
    });
    quote! {
        #[allow(unused_mut, unused_variables, unused_assignments)]
        fn regularization(&self, grad: &mut [f64]) -> f64 {
            ::core::assert!(grad.len() == Self::PARAMS, "regularization: expected PARAMS values");
            #l2
            #l1
            let mut loss = 0.0f64;
            let mut at = 0usize;
            #( #body )*
            loss
        }
    }
}
