//! `Network::train_step`: forward, loss and its gradient, backward, optimizer update — one
//! allocation-free function. Every memory pass does as much as it can: the loss pass also
//! applies the output activation's derivative and sums the output bias gradient; the pass
//! after each input-gradient GEMM multiplies by the activation's derivative and sums that
//! layer's bias gradient; each layer's update (weights, velocity) is one pass.

use netc_sema::ir::{self, Activation, LossKind};
use proc_macro2::TokenStream;
use quote::quote;

use crate::forward::{Masking, forward, layer_input};
use crate::plan::{DensePlan, Plan, usize_lit};
use crate::{batchnorm, dropout, optimizer, regularize, schedule};

/// `g · act'(y)`, the derivative written in terms of the activation's output `y`.
pub(crate) fn times_derivative(
    activation: Activation,
    g: TokenStream,
    y: TokenStream,
) -> TokenStream {
    match activation {
        Activation::Identity => g,
        Activation::Relu => quote!(if #y > 0.0 { #g } else { 0.0 }),
        Activation::Tanh => quote!(#g * (1.0 - #y * #y)),
        Activation::Sigmoid => quote!(#g * #y * (1.0 - #y)),
    }
}

/// The buffers forward and backward passes read and write (not the optimizer state).
fn pass_fields<'p>(plan: &'p Plan<'_>) -> Vec<&'p proc_macro2::Ident> {
    let mut fields = Vec::new();
    for l in &plan.dense {
        fields.extend([&l.w, &l.b, &l.gw, &l.gb, &l.y, &l.dz]);
    }
    fields.extend(dropout::all(plan).map(|d| &d.mask));
    fields.extend(&plan.normalized_input);
    if let Some((shift, scale)) = &plan.input_stage {
        fields.extend([shift, scale]);
    }
    fields.extend(batchnorm::pass_fields(plan));
    fields
}

/// The pass buffers plus every optimizer slot: what a function with the update binds.
fn update_fields<'p>(plan: &'p Plan<'_>) -> Vec<&'p proc_macro2::Ident> {
    let mut fields = pass_fields(plan);
    for l in &plan.dense {
        let states = [[&l.vw, &l.vb], [&l.sw, &l.sb]];
        for pair in states.iter().take(plan.optimizer.state_buffers()) {
            fields.extend(pair);
        }
    }
    fields.extend(batchnorm::state_fields(plan));
    fields
}

pub fn train_step_fn(plan: &Plan) -> TokenStream {
    let fields = update_fields(plan);
    let step = step_fn(plan, &fields);
    let batch_targets = batch_targets_type(plan);
    quote! {
        fn train_step(&mut self, x: &[[F; INPUT]; BATCH], y: &#batch_targets) -> rt::StepStats {
            // One body, written twice: for any x86-64 (SSE2) and, where the CPU has them, for
            // AVX2 and FMA, which widen its element-wise loops. Rust never fuses a multiply and
            // an add on its own, so both give the same bits. Written out, not one inlined
            // function: the closures in the body (chunks of an update, run on helper threads)
            // must be compiled for AVX2 too, and a closure gets the features of the function
            // it is written in. (The GEMMs dispatch to AVX-512 on their own; an AVX-512
            // compilation of this body measured no faster.)
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            fn step_avx2(this: &mut Model, x: &[[F; INPUT]; BATCH], y: &#batch_targets) -> rt::StepStats {
                #step
            }
            fn step(this: &mut Model, x: &[[F; INPUT]; BATCH], y: &#batch_targets) -> rt::StepStats {
                #step
            }
            #[cfg(target_arch = "x86_64")]
            if rt::gemm::Isa::detect() != rt::gemm::Isa::Portable {
                // SAFETY: `detect` picks a path other than the portable one only on a CPU with
                // AVX2 and FMA.
                return unsafe { step_avx2(self, x, y) };
            }
            step(self, x, y)
        }
    }
}

/// `train_step`'s body, on `this`, `x` and `y`.
fn step_fn(plan: &Plan, fields: &[&proc_macro2::Ident]) -> TokenStream {
    let running_update = batchnorm::running_update(plan);
    let input_rows = crate::forward::input_rows(plan);
    let epochs = schedule::counts_epochs(plan).then(|| quote!(epochs,));
    let dropout_rng = dropout::used(plan).then(|| quote!(dropout_rng,));
    let scalars = optimizer::step_scalars(plan);
    let dropout_scalars = dropout::step_scalars(plan);
    let input_dropout = dropout::input_pass(plan);
    let dropout_end = dropout::step_end(plan);
    // The whole batch from its first sample (where dropout draws its masks), and batch norm's
    // statistics its own: nothing to add from other ranks.
    let batch_norm = batchnorm::all(plan).next().is_some();
    let whole_batch = match (dropout::used(plan), batch_norm) {
        (true, _) => quote!(let (first, batch) = (0usize, BATCH);),
        (false, true) => quote!(let batch = BATCH;),
        (false, false) => quote!(),
    };
    let whole_batch = if batch_norm {
        quote!(#whole_batch let sync = |_: &mut [F]| {};)
    } else {
        whole_batch
    };
    let reg_loss = regularize::loss_expr(plan);
    let grad_sq = optimizer::grad_sq_expr(plan);
    let forward = forward(plan, Masking::Draw);
    let loss = loss_pass(plan);
    let targets = if takes_values(plan.net) {
        quote!(let values: &[F] = y.as_flattened();)
    } else {
        quote!(let labels: &[u32] = &y[..];)
    };
    let backward = (0..plan.dense.len())
        .rev()
        .map(|i| layer_backward(plan, i, true));
    quote! {
            // The sizes are in the types: nothing to check.
            let x: &[F] = x.as_flattened();
            let inv_batch: F = 1.0 / BATCH as F;
            let rows = BATCH;
            #whole_batch
            #targets
            let Model { hyper, steps, #epochs #dropout_rng #( #fields, )* } = this;
            #input_rows
            #scalars
            #dropout_scalars
            #input_dropout
            #forward
            #loss
            #( #backward )*
            #running_update
            #dropout_end
            *steps += 1;
            rt::StepStats { loss: (loss * inv_batch) as f32, correct, reg_loss: (#reg_loss) as f32, grad_sq: #grad_sq }
    }
}

/// The gradient-only pass, a free function of the module: forward, loss and backward on the
/// `rows` samples of `x` that are samples `first..first + rows` of a batch of `batch`, no
/// update. The gradient buffers get these rows' part of the gradient of the whole batch's mean
/// data loss (each row weighs 1/`batch`), dropout draws these samples' masks as a
/// whole-batch pass would (then moves past the whole batch's draws), and batch norm uses the
/// whole batch's statistics: `sync` adds the other ranks' sums to each of this pass's per-feature
/// sums (Σx, Σ(x−μ)², Σdy, Σdy·x̂; a no-op in one process). Returns the rows' summed
/// data loss and how many of them the model classifies right. `Network::gradient` is the
/// whole batch (`first` = 0, `batch` = `rows`), `Network::gradient_share` a rank's share.
pub fn gradient_rows_fn(plan: &Plan) -> TokenStream {
    let fields = pass_fields(plan);
    let dropout_rng = dropout::used(plan).then(|| quote!(dropout_rng,));
    let input_rows = crate::forward::input_rows(plan);
    let dropout_scalars = dropout::step_scalars(plan);
    let dropout_end = dropout::step_end(plan);
    let loss = loss_pass(plan);
    let targets = bind_targets(plan);
    let backward = (0..plan.dense.len())
        .rev()
        .map(|i| layer_backward(plan, i, false));
    let forward = if dropout::used(plan) {
        // Input dropout rebinds `x_rows` to the masked input at function level: the backward
        // pass of the first layer must read the same masked rows as the forward pass did.
        let input_dropout = dropout::input_pass_either(plan, quote!(replay));
        let (draw, replay) = (forward(plan, Masking::Draw), forward(plan, Masking::Replay));
        quote! {
            let replay = masks == rt::Masks::Reuse;
            #input_dropout
            let (loss, correct) = if replay {
                #replay
                #loss
                (loss, correct)
            } else {
                #draw
                #loss
                (loss, correct)
            };
        }
    } else {
        // `Draw` draws nothing without dropout, but keeps batch norms on batch statistics.
        let forward = forward(plan, Masking::Draw);
        quote! {
            let _ = (masks, first);
            #forward
            #loss
        }
    };
    // A replay draws nothing, so the generator stays where it was.
    let dropout_end = dropout::used(plan).then(|| quote!(if !replay { #dropout_end }));
    quote! {
        #[allow(unused_variables, unused_mut, unused_assignments, clippy::too_many_arguments)]
        fn gradient_rows(this: &mut Model, x: &[F], y: rt::Targets<'_, F>, rows: usize, first: usize, batch: usize, masks: rt::Masks, sync: &mut dyn FnMut(&mut [F])) -> (F, u32) {
            ::core::assert!(
                rows >= 1 && first + rows <= batch && batch <= BATCH && x.len() >= rows * INPUT,
                "gradient takes 1..=BATCH samples"
            );
            #targets
            let inv_batch: F = 1.0 / batch as F;
            let Model { hyper, #dropout_rng #( #fields, )* .. } = this;
            #input_rows
            #dropout_scalars
            #forward
            #( #backward )*
            #dropout_end
            (loss, correct)
        }
    }
}

/// `Network::gradient` and `Network::gradient_share`, both through `gradient_rows`.
pub fn gradient_fn() -> TokenStream {
    quote! {
        fn gradient(&mut self, x: &[F], y: rt::Targets<'_, F>, rows: usize, masks: rt::Masks) -> f64 {
            let (loss, _) = gradient_rows(self, x, y, rows, 0, rows, masks, &mut |_| {});
            (loss * (1.0 / rows as F)) as f64
        }

        fn gradient_share(&mut self, x: &[F], y: rt::Targets<'_, F>, share: rt::Share, sums: &mut dyn FnMut(&mut [F])) -> rt::ShareStats {
            let (loss, correct) = gradient_rows(self, x, y, share.rows, share.first, share.batch, rt::Masks::Fresh, sums);
            rt::ShareStats { loss_sum: loss as f64, correct }
        }
    }
}

/// `Network::apply_gradient`: the update `train_step` applies, from the gradient buffers as
/// they are (a data-parallel step's sum over ranks): every layer, last first as in the step,
/// so one process's update and this one give the same bits from the same gradient.
pub fn apply_gradient_fn(plan: &Plan) -> TokenStream {
    let fields = update_fields(plan);
    let epochs = schedule::counts_epochs(plan).then(|| quote!(epochs,));
    let scalars = optimizer::step_scalars(plan);
    let reg_loss = regularize::loss_expr(plan);
    let grad_sq = optimizer::grad_sq_expr(plan);
    let running_update = batchnorm::running_update(plan);
    let updates = (0..plan.dense.len()).rev().map(|i| {
        let layer = &plan.dense[i];
        let prev = i.checked_sub(1).map(|p| &plan.dense[p]);
        let batchnorm = prev.map(|prev| batchnorm::update(plan, prev));
        let dense = optimizer::update(plan, layer);
        quote!(#dense #batchnorm)
    });
    quote! {
        #[allow(unused_variables, unused_mut, unused_assignments)]
        fn apply_gradient(&mut self) -> rt::StepStats {
            let rows = BATCH;
            let Model { hyper, steps, #epochs #( #fields, )* .. } = self;
            #scalars
            #( #updates )*
            #running_update
            *steps += 1;
            rt::StepStats { loss: 0.0, correct: 0, reg_loss: (#reg_loss) as f32, grad_sq: #grad_sq }
        }
    }
}

/// The type of one batch of the step's targets (`Network::BatchTargets`): class labels or
/// `OUTPUT` values per sample, as [`takes_values`] says.
pub fn batch_targets_type(plan: &Plan) -> TokenStream {
    if takes_values(plan.net) {
        quote!([[F; OUTPUT]; BATCH])
    } else {
        quote!([u32; BATCH])
    }
}

/// Binds the gradient pass's targets from `y`: `labels` (one class index per row) or `values`
/// (`rows × OUTPUT`, row-major), as [`takes_values`] says, sliced to the `rows` in use. The
/// other variant is a caller bug (the driver checks `TARGET_KIND` against the data first),
/// reported like a wrong slice length.
fn bind_targets(plan: &Plan) -> TokenStream {
    if takes_values(plan.net) {
        let enough = quote!(values.len() >= rows * OUTPUT);
        quote! {
            let values: &[F] = match y {
                rt::Targets::Values(values) => values,
                rt::Targets::Classes(_) => ::core::panic!("this model trains on OUTPUT values per sample (TARGET_KIND is Values), not class labels"),
            };
            ::core::assert!(#enough, "one row of OUTPUT target values per sample");
            let values = &values[..rows * OUTPUT];
        }
    } else {
        let enough = quote!(labels.len() >= rows);
        quote! {
            let labels: &[u32] = match y {
                rt::Targets::Classes(labels) => labels,
                rt::Targets::Values(_) => ::core::panic!("this model trains on class labels (TARGET_KIND is Classes), not target values"),
            };
            ::core::assert!(#enough, "one class label per sample");
            let labels = &labels[..rows];
        }
    }
}

/// Whether the model trains on value targets (`rt::Targets::Values`, `BATCH × OUTPUT`):
/// when its train source names `targets=` columns, or for an mse model of several output
/// units (a class label can only be the target of one). Otherwise class labels.
pub(crate) fn takes_values(net: &ir::Network) -> bool {
    let named = net.data.as_ref().is_some_and(|d| {
        matches!(
            &d.train.kind,
            ir::SourceKind::Csv {
                targets: Some(_),
                ..
            }
        )
    });
    let outputs = net.model.layers.last().map_or(0, |l| l.outputs);
    named || (net.model.loss.kind == LossKind::Mse && outputs > 1)
}

/// Loss over the batch, its gradient w.r.t. the output pre-activation into the output
/// layer's `dz`, and the output bias gradient — one pass per row. Reads `labels` (class
/// targets) or `values` (`rows × OUTPUT` value targets), as [`takes_values`] says.
fn loss_pass(plan: &Plan) -> TokenStream {
    let out = plan.output_layer();
    let (y, dz, gb) = (&out.y, &out.dz, &out.gb);
    let grad = times_derivative(out.activation, quote!(d), quote!(v));
    // Identity output: the derivative does not read the output (no unused binding).
    let output_value = if out.activation == Activation::Identity {
        quote!(_)
    } else {
        quote!(&v)
    };
    let kind = plan.net.model.loss.kind;
    let values = takes_values(plan.net);
    let single = out.outputs == 1;
    // The unit index is read only by a one-hot or a value-row target.
    let unit = if single && !values {
        quote!(_)
    } else {
        quote!(j)
    };
    // The target of unit `j` of this row.
    let target = if values {
        quote!(tv[j])
    } else if single {
        quote!((label as F))
    } else {
        quote!((if j == label { 1.0 } else { 0.0 }))
    };
    // One `ln` per batch instead of per row when the product of the per-row sums (each in
    // [1, OUTPUT]) cannot overflow an f64: Σ ln(sum_r) = ln(Π sum_r).
    let one_ln =
        kind == LossKind::Softmax && plan.batch as f64 * (out.outputs.max(1) as f64).ln() < 600.0;
    let (log_sum, before, after) = if one_ln {
        (
            quote!(sums *= f64::from(sum);),
            quote!(let mut sums = 1.0f64;),
            quote!(loss += sums.ln() as F;),
        )
    } else {
        (quote!(loss += sum.ln();), quote!(), quote!())
    };
    let arg_max = quote! {
        let mut max = z[0];
        let mut arg = 0usize;
        for (j, &v) in z.iter().enumerate() {
            if v > max {
                max = v;
                arg = j;
            }
        }
    };
    let per_row = match kind {
        // p = softmax(z) (max subtracted); loss −ln p[label]; dL/dz = (p − onehot)/B.
        LossKind::Softmax => quote! {
            #arg_max
            correct += u32::from(arg == label);
            let mut sum: F = 0.0;
            for (e, &v) in g.iter_mut().zip(z.iter()) {
                *e = (v - max).exp();
                sum += *e;
            }
            #log_sum
            loss -= z[label] - max;
            let scale = inv_batch / sum;
            for (j, ((e, #output_value), gbj)) in g.iter_mut().zip(z.iter()).zip(#gb.iter_mut()).enumerate() {
                let d = *e * scale - if j == label { inv_batch } else { 0.0 };
                *e = #grad;
                *gbj += *e;
            }
        },
        // Per unit: loss softplus(z) − t·z (stable form of the binary cross-entropy);
        // dL/dz = (σ(z) − t)/B. Right when every unit is (σ(z) ≥ ½, i.e. z ≥ 0) == (t ≥ ½);
        // one-vs-all by the arg-max instead.
        LossKind::Logistic => {
            let (judge, tally) = if !values && !single {
                (
                    quote!(#arg_max),
                    quote!(correct += u32::from(arg == label);),
                )
            } else {
                (
                    quote!(let mut all_right = true;),
                    quote!(correct += u32::from(all_right);),
                )
            };
            let track = (values || single).then(|| quote!(all_right &= (v >= 0.0) == (t >= 0.5);));
            quote! {
                #judge
                for (#unit, ((e, &v), gbj)) in g.iter_mut().zip(z.iter()).zip(#gb.iter_mut()).enumerate() {
                    let t: F = #target;
                    #track
                    let decay = (-v.abs()).exp();
                    loss += v.max(0.0) - v * t + decay.ln_1p();
                    let sigma = if v >= 0.0 { 1.0 / (1.0 + decay) } else { decay / (1.0 + decay) };
                    let d = (sigma - t) * inv_batch;
                    *e = #grad;
                    *gbj += *e;
                }
                #tally
            }
        }
        // Per unit: loss ½(y − t)² on the activated output y; dL/dy = (y − t)/B. A class
        // label is right when the single output rounds to it; value targets have no accuracy.
        LossKind::Mse => {
            let tally = (!values).then(|| {
                if single {
                    quote!(correct += u32::from(z[0].round() == label as F);)
                } else {
                    quote!(#arg_max correct += u32::from(arg == label);)
                }
            });
            quote! {
                #tally
                for (#unit, ((e, &v), gbj)) in g.iter_mut().zip(z.iter()).zip(#gb.iter_mut()).enumerate() {
                    let t: F = #target;
                    let d = v - t;
                    loss += 0.5 * d * d;
                    let d = d * inv_batch;
                    *e = #grad;
                    *gbj += *e;
                }
            }
        }
    };
    let rows = if values {
        quote! {
            for ((z, g), tv) in #y.iter().zip(#dz.iter_mut()).zip(values.as_chunks::<OUTPUT>().0) {
                #per_row
            }
        }
    } else {
        quote! {
            for ((z, g), &label) in #y.iter().zip(#dz.iter_mut()).zip(labels.iter()) {
                let label = label as usize;
                #per_row
            }
        }
    };
    // mse on value targets counts nothing right.
    let correct = if kind == LossKind::Mse && values {
        quote!(let correct = 0u32;)
    } else {
        quote!(let mut correct = 0u32;)
    };
    quote! {
        let mut loss: F = 0.0;
        #correct
        #before
        #gb.fill(0.0);
        #rows
        #after
    }
}

/// Weight gradient, input gradient (not for the first layer), then this layer's update.
/// On entry `dz` and `gb` of the layer are complete.
fn layer_backward(plan: &Plan, index: usize, with_update: bool) -> TokenStream {
    let layer = &plan.dense[index];
    let input = layer_input(plan, index);
    let prev = index.checked_sub(1).map(|p| &plan.dense[p]);
    let grads = match prev {
        // Through the batch norm: this layer's weight gradient, dL/d(its input), then the
        // batch-norm backward into the previous layer's dz.
        Some(prev) if prev.batchnorm.is_some() => {
            let weights = if layer.unrolled {
                unrolled_backward(layer, None)
            } else {
                gemm_backward(layer, None)
            };
            let input_grad = batchnorm::input_grad(layer, prev);
            let batchnorm = batchnorm::backward(prev);
            quote!(#weights #input_grad #batchnorm)
        }
        _ if layer.unrolled => unrolled_backward(layer, prev),
        _ => gemm_backward(layer, prev),
    };
    let update = with_update.then(|| {
        let batchnorm = prev.map(|prev| batchnorm::update(plan, prev));
        let dense = optimizer::update(plan, layer);
        quote!(#dense #batchnorm)
    });
    quote! {
        {
            let xin = #input;
            #grads
        }
        #update
    }
}

fn gemm_backward(layer: &DensePlan, prev: Option<&DensePlan>) -> TokenStream {
    let (w, gw, dz, in_c, out_c) = (
        &layer.w,
        &layer.gw,
        &layer.dz,
        &layer.in_const,
        &layer.out_const,
    );
    let weight_grad = quote! {
        blas::tn(#out_c, #in_c, rows, #dz.as_flattened(), xin.as_flattened(), #gw.as_flattened_mut(), false);
    };
    let Some(prev) = prev else { return weight_grad };
    let (py, pdz, pgb) = (&prev.y, &prev.dz, &prev.gb);
    let prev_value = if prev.activation == Activation::Identity {
        quote!(_)
    } else {
        quote!(&y)
    };
    if let Some(d) = &prev.dropout {
        // y holds act(z)·m: the gradient is scaled by m, and act' reads act(z) = y·(1−p)
        // wherever m ≠ 0 (where m = 0 the product is 0 anyway).
        let (mask, keep) = (&d.mask, &d.keep);
        let grad = times_derivative(prev.activation, quote!((*d * m)), quote!((y * #keep)));
        return quote! {
            #weight_grad
            blas::nn(rows, #in_c, #out_c, #dz.as_flattened(), #w.as_flattened(), #pdz.as_flattened_mut(), false);
            #pgb.fill(0.0);
            for ((dr, yr), mr) in #pdz[..rows].iter_mut().zip(#py.iter()).zip(#mask.iter()) {
                for (((d, #prev_value), &m), gbj) in dr.iter_mut().zip(yr.iter()).zip(mr.iter()).zip(#pgb.iter_mut()) {
                    *d = #grad;
                    *gbj += *d;
                }
            }
        };
    }
    let grad = times_derivative(prev.activation, quote!(*d), quote!(y));
    quote! {
        #weight_grad
        blas::nn(rows, #in_c, #out_c, #dz.as_flattened(), #w.as_flattened(), #pdz.as_flattened_mut(), false);
        #pgb.fill(0.0);
        for (dr, yr) in #pdz[..rows].iter_mut().zip(#py.iter()) {
            for ((d, #prev_value), gbj) in dr.iter_mut().zip(yr.iter()).zip(#pgb.iter_mut()) {
                *d = #grad;
                *gbj += *d;
            }
        }
    }
}

/// Per row, straight-line: `gw[o][k] += dz[o]·x[k]`, and for hidden layers
/// `dz_prev[k] = act'(y_prev[k]) · Σ_o dz[o]·w[o][k]` with the previous bias gradient.
///
/// The sums build up in local arrays (`acc_w`, `acc_b`) stored into the model once after the
/// rows: with constant indices they live in registers, where sums kept in the model's fields
/// were stored row after row in pieces that the update's wide loads then could not forward
/// (a store-forwarding stall, 10% of the tiny net's step). Same additions in the same order.
fn unrolled_backward(layer: &DensePlan, prev: Option<&DensePlan>) -> TokenStream {
    let (w, gw, dz) = (&layer.w, &layer.gw, &layer.dz);
    let (in_c, out_c) = (&layer.in_const, &layer.out_const);
    let outs: Vec<_> = (0..layer.outputs).map(usize_lit).collect();
    let ins: Vec<_> = (0..layer.inputs).map(usize_lit).collect();
    let weight_grads = outs.iter().flat_map(|o| {
        ins.iter()
            .map(move |k| quote!(acc_w[#o][#k] += dr[#o] * xr[#k];))
    });
    let weight_grads: Vec<_> = weight_grads.collect();
    match prev {
        None => quote! {
            let mut acc_w = [[0.0 as F; #in_c]; #out_c];
            for (xr, dr) in xin.iter().zip(#dz.iter()) {
                #( #weight_grads )*
            }
            #gw.copy_from_slice(&acc_w);
        },
        Some(prev) => {
            let (py, pdz, pgb) = (&prev.y, &prev.dz, &prev.gb);
            let prev_row = if prev.activation == Activation::Identity {
                quote!(_)
            } else {
                quote!(yr)
            };
            let input_grads = ins.iter().map(|k| {
                let terms = outs.iter().map(|o| quote!(+ dr[#o] * #w[#o][#k]));
                let (s, y) = match &prev.dropout {
                    // See `gemm_backward`: scaled by m, act' at y·(1−p).
                    Some(d) => {
                        let keep = &d.keep;
                        (quote!((s * mr[#k])), quote!((yr[#k] * #keep)))
                    }
                    None => (quote!(s), quote!(yr[#k])),
                };
                let grad = times_derivative(prev.activation, s, y);
                quote! {
                    let s: F = 0.0 #( #terms )*;
                    pr[#k] = #grad;
                    acc_b[#k] += pr[#k];
                }
            });
            let (rows_pattern, rows_iter) = match &prev.dropout {
                Some(d) => {
                    let mask = &d.mask;
                    (
                        quote!(((((xr, dr), pr), #prev_row), mr)),
                        quote!(xin.iter().zip(#dz.iter()).zip(#pdz.iter_mut()).zip(#py.iter()).zip(#mask.iter())),
                    )
                }
                None => (
                    quote!((((xr, dr), pr), #prev_row)),
                    quote!(xin.iter().zip(#dz.iter()).zip(#pdz.iter_mut()).zip(#py.iter())),
                ),
            };
            quote! {
                let mut acc_w = [[0.0 as F; #in_c]; #out_c];
                let mut acc_b = [0.0 as F; #in_c];
                for #rows_pattern in #rows_iter {
                    #( #weight_grads )*
                    #( #input_grads )*
                }
                #gw.copy_from_slice(&acc_w);
                #pgb.copy_from_slice(&acc_b);
            }
        }
    }
}
