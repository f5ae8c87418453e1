//! `batchnorm` after a dense layer (after its activation and any dropout on it): per feature
//! over the `rows` samples of the step, x̂ = (x − μ_B)/√(σ²_B + eps) with the biased batch
//! variance, y = γ·x̂ + β, optionally followed by its own dropout. The next dense layer reads
//! `out`. `predict_batch` uses the running statistics instead of the batch's.
//!
//! Running statistics (r ← momentum·r + (1−momentum)·batch) are updated from ONE place,
//! [`running_update`], called once per `train_step`, so a gradient-only pass can leave it
//! out. The running variance takes the unbiased batch variance σ²_B·rows/(rows−1), as
//! PyTorch does (the biased one when rows = 1).
//!
//! γ and β are updated by the model's optimizer with the bias-vector pass and are never
//! regularized (l2, l1 and maxnorm apply to dense weights only).

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::forward::Masking;
use crate::model::{Buffer, buffer};
use crate::plan::{DensePlan, DropoutPlan, Plan, float_lit};
use crate::{dropout, optimizer};

pub struct BatchNormPlan {
    /// Index among the spec's layers (checkpoint names `layers.N.*`).
    pub spec_index: usize,
    pub momentum: f64,
    pub eps: f64,
    /// γ, β `[F; N]`, their gradients and optimizer state (as a dense layer's bias).
    pub gamma: Ident,
    pub beta: Ident,
    pub g_gamma: Ident,
    pub g_beta: Ident,
    pub v_gamma: Ident,
    pub v_beta: Ident,
    pub s_gamma: Ident,
    pub s_beta: Ident,
    /// `[[F; N]; BATCH]`: the normalized input and the output the next layer reads
    /// (masked when a dropout follows the batch norm).
    pub xhat: Ident,
    pub out: Ident,
    /// `[F; N]`: the last training batch's mean, biased variance and 1/√(σ²_B + eps).
    pub mean: Ident,
    pub var: Ident,
    pub inv_std: Ident,
    pub running_mean: Ident,
    pub running_var: Ident,
    /// `[F; N]`: the batch's Σdy and Σdy·x̂ that dx reads — the whole batch's, summed over
    /// the ranks of a data-parallel step, while dβ and dγ keep this pass's own rows' part (the
    /// driver sums the parameter gradients itself).
    pub sum_dy: Ident,
    pub sum_dy_xhat: Ident,
    /// Dropout on the batch norm's output.
    pub dropout: Option<DropoutPlan>,
}

pub fn plan(spec_index: usize, momentum: f64, eps: f64) -> BatchNormPlan {
    let name = |what: &str| format_ident!("bn{}_{}", spec_index, what);
    BatchNormPlan {
        spec_index,
        momentum,
        eps,
        gamma: name("gamma"),
        beta: name("beta"),
        g_gamma: name("ggamma"),
        g_beta: name("gbeta"),
        v_gamma: name("vgamma"),
        v_beta: name("vbeta"),
        s_gamma: name("sgamma"),
        s_beta: name("sbeta"),
        xhat: name("xhat"),
        out: name("out"),
        mean: name("mean"),
        var: name("var"),
        inv_std: name("inv_std"),
        running_mean: name("running_mean"),
        running_var: name("running_var"),
        sum_dy: name("sum_dy"),
        sum_dy_xhat: name("sum_dy_xhat"),
        dropout: None,
    }
}

/// Every batch norm of the model with the dense layer it follows.
pub fn all<'p>(plan: &'p Plan) -> impl Iterator<Item = (&'p DensePlan, &'p BatchNormPlan)> {
    plan.dense
        .iter()
        .filter_map(|l| l.batchnorm.as_ref().map(|bn| (l, bn)))
}

/// γ, β and their gradients, the batch and running statistics: `[F; N]` each.
fn vectors(bn: &BatchNormPlan) -> [&Ident; 11] {
    [
        &bn.gamma,
        &bn.beta,
        &bn.g_gamma,
        &bn.g_beta,
        &bn.mean,
        &bn.var,
        &bn.inv_std,
        &bn.running_mean,
        &bn.running_var,
        &bn.sum_dy,
        &bn.sum_dy_xhat,
    ]
}

/// The optimizer state of γ and β, as for a dense layer's bias.
fn states<'p>(plan: &Plan, bn: &'p BatchNormPlan) -> Vec<&'p Ident> {
    let states = [[&bn.v_gamma, &bn.v_beta], [&bn.s_gamma, &bn.s_beta]];
    states
        .into_iter()
        .take(plan.optimizer.state_buffers())
        .flatten()
        .collect()
}

/// The buffers of one dense layer's batch norm (its dropout mask is the dropout's own).
pub fn buffers(plan: &Plan, layer: &DensePlan) -> Vec<Buffer> {
    let Some(bn) = &layer.batchnorm else {
        return Vec::new();
    };
    let out_c = &layer.out_const;
    let cols = (&quote!(#out_c), layer.outputs);
    let mut buffers: Vec<Buffer> = vectors(bn)
        .into_iter()
        .chain(states(plan, bn))
        .map(|field| buffer(field, None, cols))
        .collect();
    let rows = Some((&quote!(BATCH), plan.batch));
    for field in [&bn.xhat, &bn.out] {
        buffers.push(buffer(field, rows, cols));
    }
    if let Some(d) = &bn.dropout {
        buffers.push(buffer(&d.mask, rows, cols));
    }
    buffers
}

/// Fields the forward and backward passes bind (dropout masks come with `dropout::all`).
pub fn pass_fields<'p>(plan: &'p Plan) -> Vec<&'p Ident> {
    all(plan)
        .flat_map(|(_, bn)| vectors(bn).into_iter().chain([&bn.xhat, &bn.out]))
        .collect()
}

/// The optimizer state `train_step` binds besides.
pub fn state_fields<'p>(plan: &'p Plan) -> Vec<&'p Ident> {
    all(plan).flat_map(|(_, bn)| states(plan, bn)).collect()
}

/// Fields `predict_batch` binds.
pub fn predict_fields<'p>(plan: &'p Plan) -> Vec<&'p Ident> {
    all(plan)
        .flat_map(|(_, bn)| {
            [
                &bn.gamma,
                &bn.beta,
                &bn.out,
                &bn.running_mean,
                &bn.running_var,
            ]
        })
        .collect()
}

/// In `new`, after the dense layers' fills: γ = 1 and running_var = 1 (the rest stays 0).
pub fn init(plan: &Plan) -> TokenStream {
    let fills = all(plan).map(|(_, bn)| {
        let (gamma, running_var) = (&bn.gamma, &bn.running_var);
        quote! {
            model.#gamma.fill(1.0);
            model.#running_var.fill(1.0);
        }
    });
    quote!( #( #fills )* )
}

/// The tensors after the dense layer's: PyTorch's `BatchNorm1d` names. `grads`: γ and β
/// gradients only.
pub fn tensor_entries(
    layer: &DensePlan,
    kind: &TokenStream,
    borrow: &TokenStream,
    grads: bool,
) -> TokenStream {
    let Some(bn) = &layer.batchnorm else {
        return quote!();
    };
    let out_c = &layer.out_const;
    let i = bn.spec_index;
    let mut entries = if grads {
        vec![("weight", &bn.g_gamma), ("bias", &bn.g_beta)]
    } else {
        vec![("weight", &bn.gamma), ("bias", &bn.beta)]
    };
    if !grads {
        entries.extend([
            ("running_mean", &bn.running_mean),
            ("running_var", &bn.running_var),
        ]);
    }
    let entries = entries.into_iter().map(|(what, field)| {
        let name = format!("layers.{i}.{what}");
        quote! {
            rt::#kind { name: ::std::string::String::from(#name), shape: ::std::vec![#out_c], data: #borrow self.#field[..] },
        }
    });
    quote!( #( #entries )* )
}

/// The rows the next dense layer reads, if this layer ends in a batch norm.
pub fn output_rows(layer: &DensePlan) -> Option<TokenStream> {
    let out = &layer.batchnorm.as_ref()?.out;
    Some(quote!(&#out[..rows]))
}

/// After the dense layer's own forward code: normalize its `rows` outputs. Training (masks
/// drawn or replayed): batch statistics (two passes for μ and σ², one for x̂ and the output),
/// then the dropout mask. Inference (`Masking::Off`): the running statistics.
pub fn forward(layer: &DensePlan, masking: Masking) -> TokenStream {
    let Some(bn) = &layer.batchnorm else {
        return quote!();
    };
    let (y, n) = (&layer.y, &layer.out_const);
    let (gamma, beta, out) = (&bn.gamma, &bn.beta, &bn.out);
    let eps = float_lit(bn.eps);
    if masking == Masking::Off {
        let (rm, rv) = (&bn.running_mean, &bn.running_var);
        return quote! {
            for (xr, or) in #y[..rows].iter().zip(#out.iter_mut()) {
                for j in 0..#n {
                    let inv_std = 1.0 / (#rv[j] + #eps).sqrt();
                    or[j] = #gamma[j] * (xr[j] - #rm[j]) * inv_std + #beta[j];
                }
            }
        };
    }
    let (xhat, mean, var, inv_std) = (&bn.xhat, &bn.mean, &bn.var, &bn.inv_std);
    let output = match &bn.dropout {
        Some(d) => {
            let mask = &d.mask;
            let draw = (masking == Masking::Draw).then(|| {
                let draw = dropout::draw(d);
                quote!(mr[j] = #draw;)
            });
            let position = (masking == Masking::Draw).then(|| dropout::position(d));
            quote! {
                #position
                for (((xr, hr), or), mr) in #y[..rows].iter().zip(#xhat.iter_mut()).zip(#out.iter_mut()).zip(#mask.iter_mut()) {
                    for j in 0..#n {
                        hr[j] = (xr[j] - #mean[j]) * #inv_std[j];
                        #draw
                        or[j] = (#gamma[j] * hr[j] + #beta[j]) * mr[j];
                    }
                }
            }
        }
        None => quote! {
            for ((xr, hr), or) in #y[..rows].iter().zip(#xhat.iter_mut()).zip(#out.iter_mut()) {
                for j in 0..#n {
                    hr[j] = (xr[j] - #mean[j]) * #inv_std[j];
                    or[j] = #gamma[j] * hr[j] + #beta[j];
                }
            }
        },
    };
    quote! {
        {
            // The whole batch's statistics: this pass's rows' sums, summed over the ranks of
            // a data-parallel step by `sync` (nothing to add in one process).
            let inv_rows = 1.0 / batch as F;
            #mean.fill(0.0);
            for xr in #y[..rows].iter() {
                for j in 0..#n {
                    #mean[j] += xr[j];
                }
            }
            sync(&mut #mean[..]);
            for m in #mean.iter_mut() {
                *m *= inv_rows;
            }
            #var.fill(0.0);
            for xr in #y[..rows].iter() {
                for j in 0..#n {
                    let d = xr[j] - #mean[j];
                    #var[j] += d * d;
                }
            }
            sync(&mut #var[..]);
            for j in 0..#n {
                #var[j] *= inv_rows;
                #inv_std[j] = 1.0 / (#var[j] + #eps).sqrt();
            }
            #output
        }
    }
}

/// The running statistics from the step's batch statistics; called once from `train_step`
/// (a gradient-only pass leaves it out).
pub fn running_update(plan: &Plan) -> TokenStream {
    let updates = all(plan).map(|(layer, bn)| {
        let n = &layer.out_const;
        let (mean, var, rm, rv) = (&bn.mean, &bn.var, &bn.running_mean, &bn.running_var);
        let momentum = float_lit(bn.momentum);
        quote! {
            {
                let momentum: F = #momentum;
                for j in 0..#n {
                    #rm[j] = momentum * #rm[j] + (1.0 - momentum) * #mean[j];
                    #rv[j] = momentum * #rv[j] + (1.0 - momentum) * #var[j] * unbiased;
                }
            }
        }
    });
    if all(plan).next().is_none() {
        return quote!();
    }
    quote! {
        // σ²_B·rows/(rows−1): the unbiased variance, as PyTorch keeps it.
        let unbiased: F = if rows > 1 { rows as F / (rows - 1) as F } else { 1.0 };
        #( #updates )*
    }
}

/// dL/d(batch-norm output) = dz·W of the dense layer `layer` that reads it, into the dense
/// layer `prev`'s `dz` (the batch-norm backward turns it into dL/dz in place).
pub fn input_grad(layer: &DensePlan, prev: &DensePlan) -> TokenStream {
    let (w, dz, in_c, out_c) = (&layer.w, &layer.dz, &layer.in_const, &layer.out_const);
    let pdz = &prev.dz;
    if layer.unrolled {
        quote! {
            for (dr, pr) in #dz[..rows].iter().zip(#pdz.iter_mut()) {
                for k in 0..#in_c {
                    let mut s: F = 0.0;
                    for o in 0..#out_c {
                        s += dr[o] * #w[o][k];
                    }
                    pr[k] = s;
                }
            }
        }
    } else {
        quote! {
            blas::nn(rows, #in_c, #out_c, #dz[..rows].as_flattened(), #w.as_flattened(), #pdz[..rows].as_flattened_mut(), false);
        }
    }
}

/// Backward through the batch statistics of `prev`'s batch norm. On entry `prev.dz` holds
/// dL/d(output); on exit dL/dz of `prev` (through its dropout mask and activation) with its
/// bias gradient, and dγ = Σ dy·x̂, dβ = Σ dy. With dy the gradient before the output's
/// dropout mask: dx = γ·inv_std·(dy − (Σdy + x̂·Σ dy·x̂)/batch), the sums over the whole batch
/// (`sync` adds the other ranks' rows in a data-parallel step).
pub fn backward(prev: &DensePlan) -> TokenStream {
    let Some(bn) = &prev.batchnorm else {
        return quote!();
    };
    let (n, pdz, pgb, py) = (&prev.out_const, &prev.dz, &prev.gb, &prev.y);
    let (gamma, gg, gbeta, xhat, inv_std) =
        (&bn.gamma, &bn.g_gamma, &bn.g_beta, &bn.xhat, &bn.inv_std);
    let (sum_dy, sum_dy_xhat) = (&bn.sum_dy, &bn.sum_dy_xhat);
    let sums = match &bn.dropout {
        Some(d) => {
            let mask = &d.mask;
            quote! {
                for ((dr, hr), mr) in #pdz[..rows].iter_mut().zip(#xhat.iter()).zip(#mask.iter()) {
                    for j in 0..#n {
                        dr[j] *= mr[j];
                        #gbeta[j] += dr[j];
                        #gg[j] += dr[j] * hr[j];
                    }
                }
            }
        }
        None => quote! {
            for (dr, hr) in #pdz[..rows].iter().zip(#xhat.iter()) {
                for j in 0..#n {
                    #gbeta[j] += dr[j];
                    #gg[j] += dr[j] * hr[j];
                }
            }
        },
    };
    // The dense layer's dropout and activation, as `backward::gemm_backward` applies them.
    let identity = prev.activation == netc_sema::ir::Activation::Identity;
    let y_row = if identity { quote!(_) } else { quote!(yr) };
    let (grad, rows_pattern, rows_iter) = match &prev.dropout {
        Some(d) => {
            let (mask, keep) = (&d.mask, &d.keep);
            (
                crate::backward::times_derivative(
                    prev.activation,
                    quote!((dx * mr[j])),
                    quote!((yr[j] * #keep)),
                ),
                quote!((((dr, hr), #y_row), mr)),
                quote!(#pdz[..rows].iter_mut().zip(#xhat.iter()).zip(#py.iter()).zip(#mask.iter())),
            )
        }
        None => (
            crate::backward::times_derivative(prev.activation, quote!(dx), quote!(yr[j])),
            quote!(((dr, hr), #y_row)),
            quote!(#pdz[..rows].iter_mut().zip(#xhat.iter()).zip(#py.iter())),
        ),
    };
    quote! {
        {
            #gg.fill(0.0);
            #gbeta.fill(0.0);
            #sums
            #sum_dy.copy_from_slice(&#gbeta[..]);
            #sum_dy_xhat.copy_from_slice(&#gg[..]);
            sync(&mut #sum_dy[..]);
            sync(&mut #sum_dy_xhat[..]);
            let inv_rows = 1.0 / batch as F;
            #pgb.fill(0.0);
            for #rows_pattern in #rows_iter {
                for j in 0..#n {
                    let dx = #gamma[j] * #inv_std[j] * (dr[j] - (#sum_dy[j] + hr[j] * #sum_dy_xhat[j]) * inv_rows);
                    dr[j] = #grad;
                    #pgb[j] += dr[j];
                }
            }
        }
    }
}

/// γ and β by the model's optimizer (the bias-vector pass, never regularized).
pub fn update(plan: &Plan, layer: &DensePlan) -> TokenStream {
    let Some(bn) = &layer.batchnorm else {
        return quote!();
    };
    let gamma = optimizer::vector_update(plan, [&bn.gamma, &bn.g_gamma, &bn.v_gamma, &bn.s_gamma]);
    let beta = optimizer::vector_update(plan, [&bn.beta, &bn.g_beta, &bn.v_beta, &bn.s_beta]);
    quote!(#gamma #beta)
}

/// Hidden inherent methods for tests: per batch norm its input, x̂, output and batch
/// statistics of the last training step (output: of the last pass).
pub fn inspect_fns(plan: &Plan) -> TokenStream {
    if all(plan).next().is_none() {
        return quote!();
    }
    let entries = all(plan).map(|(layer, bn)| {
        let i = bn.spec_index;
        let n = &layer.out_const;
        let matrix = |what: &str, field: &Ident| {
            let name = format!("layers.{i}.{what}");
            quote! {
                rt::TensorRef { name: ::std::string::String::from(#name), shape: ::std::vec![BATCH, #n], data: self.#field.as_flattened() },
            }
        };
        let vector = |what: &str, field: &Ident| {
            let name = format!("layers.{i}.{what}");
            quote! {
                rt::TensorRef { name: ::std::string::String::from(#name), shape: ::std::vec![#n], data: &self.#field[..] },
            }
        };
        let input = matrix("input", &layer.y);
        let xhat = matrix("xhat", &bn.xhat);
        let out = matrix("output", &bn.out);
        let mean = vector("batch_mean", &bn.mean);
        let var = vector("batch_var", &bn.var);
        quote!(#input #xhat #out #mean #var)
    });
    quote! {
        impl Model {
            /// Per batch norm: `layers.N.input`, `.xhat`, `.output`, `.batch_mean` and
            /// `.batch_var` (biased) of the last pass.
            #[doc(hidden)]
            pub fn batchnorm_buffers(&self) -> ::std::vec::Vec<rt::TensorRef<'_, F>> {
                ::std::vec![ #( #entries )* ]
            }
        }
    }
}
