//! The forward pass (shared shape for training and inference) and `predict_batch`.
//!
//! Generated code expects these locals: `x_rows: &[[F; INPUT]]` with exactly `rows`
//! rows, `rows: usize`, and the model's fields bound by name (`w0`, `b0`, `y0`, …).
//! Big layers: one GEMM, then bias + activation in one pass over Y. Small layers: fully
//! unrolled per-sample code.

use netc_sema::ir::{Activation, LossKind};
use proc_macro2::TokenStream;
use quote::quote;

use crate::dropout;
use crate::plan::{DensePlan, DropoutPlan, Plan, usize_lit};

/// The rows a layer reads: the step's input for the first layer, else the previous output.
pub fn layer_input(plan: &Plan, index: usize) -> TokenStream {
    if index == 0 {
        quote!(x_rows)
    } else {
        let prev = &plan.dense[index - 1];
        let y = &prev.y;
        crate::batchnorm::output_rows(prev).unwrap_or_else(|| quote!(&#y[..rows]))
    }
}

/// Binds `x_rows` to the first `rows` samples of `x: &[F]`: the slice itself, or with
/// `preprocess` the rows normalized into the `xf` buffer (bound by the caller's
/// destructuring).
pub fn input_rows(plan: &Plan) -> TokenStream {
    match (&plan.normalized_input, &plan.input_stage) {
        (Some(xf), Some((shift, scale))) => quote! {
            for (dst, src) in #xf[..rows].iter_mut().zip(x.as_chunks::<INPUT>().0.iter()) {
                for (((d, &s), &sh), &sc) in dst.iter_mut().zip(src.iter()).zip(#shift.iter()).zip(#scale.iter()) {
                    *d = (s - sh) * sc;
                }
            }
            let x_rows = &#xf[..rows];
        },
        _ => quote!(let x_rows = &x.as_chunks::<INPUT>().0[..rows];),
    }
}

/// What the forward pass does with dropout masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Masking {
    /// Inference: no masks, no scaling.
    Off,
    /// Training: draw each mask right after the activation.
    Draw,
    /// Apply the masks already in the buffers (the last draw) — for gradient checks and
    /// Hessian-vector products, which must see the same network twice.
    Replay,
}

/// The forward pass with dropout as `masking` says.
pub fn forward(plan: &Plan, masking: Masking) -> TokenStream {
    let layers = plan.dense.iter().enumerate().map(|(i, layer)| {
        let input = layer_input(plan, i);
        let dropout = layer
            .dropout
            .as_ref()
            .filter(|_| masking != Masking::Off)
            .map(|d| (d, masking == Masking::Draw));
        let body = if layer.unrolled {
            unrolled_layer(layer, dropout)
        } else {
            gemm_layer(layer, dropout)
        };
        let batchnorm = crate::batchnorm::forward(layer, masking);
        quote! {
            {
                let xin = #input;
                #body
            }
            #batchnorm
        }
    });
    quote!( #( #layers )* )
}

/// `act(z)` for a pre-activation expression.
pub fn activate(activation: Activation, z: TokenStream) -> TokenStream {
    match activation {
        Activation::Identity => z,
        Activation::Relu => quote!((#z).max(0.0)),
        Activation::Tanh => quote!((#z).tanh()),
        Activation::Sigmoid => quote!(1.0 / (1.0 + (-(#z)).exp())),
    }
}

/// `dropout`: the layer's mask, and whether to draw it (else replay the stored one).
fn gemm_layer(layer: &DensePlan, dropout: Option<(&DropoutPlan, bool)>) -> TokenStream {
    let (w, b, y, in_c, out_c) = (
        &layer.w,
        &layer.b,
        &layer.y,
        &layer.in_const,
        &layer.out_const,
    );
    let act = activate(layer.activation, quote!(*v + *bias));
    if let Some((d, drawn)) = dropout {
        let mask = &d.mask;
        let draw = drawn.then(|| {
            let draw = dropout::draw(d);
            quote!(*m = #draw;)
        });
        let position = drawn.then(|| dropout::position(d));
        return quote! {
            blas::nt(rows, #out_c, #in_c, xin.as_flattened(), #w.as_flattened(), #y[..rows].as_flattened_mut(), false);
            #position
            for (yr, mr) in #y[..rows].iter_mut().zip(#mask.iter_mut()) {
                for ((v, bias), m) in yr.iter_mut().zip(#b.iter()).zip(mr.iter_mut()) {
                    #draw
                    *v = (#act) * *m;
                }
            }
        };
    }
    quote! {
        blas::nt(rows, #out_c, #in_c, xin.as_flattened(), #w.as_flattened(), #y[..rows].as_flattened_mut(), false);
        for yr in #y[..rows].iter_mut() {
            for (v, bias) in yr.iter_mut().zip(#b.iter()) {
                *v = #act;
            }
        }
    }
}

fn unrolled_layer(layer: &DensePlan, dropout: Option<(&DropoutPlan, bool)>) -> TokenStream {
    let (w, b, y) = (&layer.w, &layer.b, &layer.y);
    let outputs = (0..layer.outputs).map(|o| {
        let o = usize_lit(o);
        let terms = (0..layer.inputs).map(|k| {
            let k = usize_lit(k);
            quote!(+ #w[#o][#k] * xr[#k])
        });
        let act = activate(layer.activation, quote!(#b[#o] #( #terms )*));
        quote!(yr[#o] = #act;)
    });
    if let Some((d, drawn)) = dropout {
        let mask = &d.mask;
        let draw = drawn.then(|| {
            let draw = dropout::draw(d);
            quote!(*m = #draw;)
        });
        let position = drawn.then(|| dropout::position(d));
        return quote! {
            #position
            for ((xr, yr), mr) in xin.iter().zip(#y.iter_mut()).zip(#mask.iter_mut()) {
                #( #outputs )*
                for (v, m) in yr.iter_mut().zip(mr.iter_mut()) {
                    #draw
                    *v *= *m;
                }
            }
        };
    }
    quote! {
        for (xr, yr) in xin.iter().zip(#y.iter_mut()) {
            #( #outputs )*
        }
    }
}

/// `Network::predict_batch`: the forward pass on `rows` samples, then probabilities.
pub fn predict_batch_fn(plan: &Plan) -> TokenStream {
    let mut fields: Vec<_> = plan.dense.iter().flat_map(|l| [&l.w, &l.b, &l.y]).collect();
    fields.extend(&plan.normalized_input);
    if let Some((shift, scale)) = &plan.input_stage {
        fields.extend([shift, scale]);
    }
    fields.extend(crate::batchnorm::predict_fields(plan));
    let input_rows = input_rows(plan);
    let forward = forward(plan, Masking::Off);
    let output = &plan.output_layer().y;
    let probabilities = match plan.net.model.loss.kind {
        LossKind::Softmax => quote! {
            let mut max = z[0];
            for &v in z.iter() {
                max = max.max(v);
            }
            let mut sum: F = 0.0;
            for &v in z.iter() {
                sum += (v - max).exp();
            }
            let inv = 1.0 / sum;
            for (p, &v) in o.iter_mut().zip(z.iter()) {
                *p = (v - max).exp() * inv;
            }
        },
        LossKind::Logistic => quote! {
            for (p, &v) in o.iter_mut().zip(z.iter()) {
                *p = 1.0 / (1.0 + (-v).exp());
            }
        },
        LossKind::Mse => quote! {
            for (p, &v) in o.iter_mut().zip(z.iter()) {
                *p = v;
            }
        },
    };
    quote! {
        fn predict_batch(&mut self, x: &[F], rows: usize, out: &mut [F]) {
            ::core::assert!(rows <= BATCH, "predict_batch takes at most BATCH rows");
            ::core::assert!(x.len() >= rows * INPUT && out.len() >= rows * OUTPUT, "predict_batch: buffers too short for {} rows", rows);
            let Model { #( #fields, )* .. } = self;
            #input_rows
            #forward
            let out_rows = &mut out.as_chunks_mut::<OUTPUT>().0[..rows];
            for (o, z) in out_rows.iter_mut().zip(#output.iter()) {
                #probabilities
            }
        }
    }
}
