//! The forward pass (shared shape for training and inference) and `predict_batch`.
//!
//! Generated code expects these locals: `x_rows: &[[f32; INPUT]]` with exactly `rows`
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
        let prev = &plan.dense[index - 1].y;
        quote!(&#prev[..rows])
    }
}

/// The forward pass; `training` applies dropout (mask drawn right after the activation).
pub fn forward(plan: &Plan, training: bool) -> TokenStream {
    let layers = plan.dense.iter().enumerate().map(|(i, layer)| {
        let input = layer_input(plan, i);
        let dropout = layer.dropout.as_ref().filter(|_| training);
        let body = if layer.unrolled {
            unrolled_layer(layer, dropout)
        } else {
            gemm_layer(layer, dropout)
        };
        quote! {
            {
                let xin = #input;
                #body
            }
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

fn gemm_layer(layer: &DensePlan, dropout: Option<&DropoutPlan>) -> TokenStream {
    let (w, b, y, in_c, out_c) = (
        &layer.w,
        &layer.b,
        &layer.y,
        &layer.in_const,
        &layer.out_const,
    );
    let act = activate(layer.activation, quote!(*v + *bias));
    if let Some(d) = dropout {
        let (mask, draw) = (&d.mask, dropout::draw(d));
        return quote! {
            rt::gemm::nt(rows, #out_c, #in_c, xin.as_flattened(), #w.as_flattened(), #y[..rows].as_flattened_mut(), false);
            for (yr, mr) in #y[..rows].iter_mut().zip(#mask.iter_mut()) {
                for ((v, bias), m) in yr.iter_mut().zip(#b.iter()).zip(mr.iter_mut()) {
                    *m = #draw;
                    *v = (#act) * *m;
                }
            }
        };
    }
    quote! {
        rt::gemm::nt(rows, #out_c, #in_c, xin.as_flattened(), #w.as_flattened(), #y[..rows].as_flattened_mut(), false);
        for yr in #y[..rows].iter_mut() {
            for (v, bias) in yr.iter_mut().zip(#b.iter()) {
                *v = #act;
            }
        }
    }
}

fn unrolled_layer(layer: &DensePlan, dropout: Option<&DropoutPlan>) -> TokenStream {
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
    if let Some(d) = dropout {
        let (mask, draw) = (&d.mask, dropout::draw(d));
        return quote! {
            for ((xr, yr), mr) in xin.iter().zip(#y.iter_mut()).zip(#mask.iter_mut()) {
                #( #outputs )*
                for (v, m) in yr.iter_mut().zip(mr.iter_mut()) {
                    *m = #draw;
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
    let fields: Vec<_> = plan.dense.iter().flat_map(|l| [&l.w, &l.b, &l.y]).collect();
    let forward = forward(plan, false);
    let output = &plan.output_layer().y;
    let probabilities = match plan.net.model.loss.kind {
        LossKind::Softmax => quote! {
            let mut max = z[0];
            for &v in z.iter() {
                max = max.max(v);
            }
            let mut sum = 0.0f32;
            for (p, &v) in o.iter_mut().zip(z.iter()) {
                *p = (v - max).exp();
                sum += *p;
            }
            let inv = 1.0 / sum;
            for p in o.iter_mut() {
                *p *= inv;
            }
        },
        LossKind::Logistic => quote! {
            for (p, &v) in o.iter_mut().zip(z.iter()) {
                *p = 1.0 / (1.0 + (-v).exp());
            }
        },
        LossKind::Mse => quote! {
            *o = *z;
        },
    };
    quote! {
        fn predict_batch(&mut self, x: &[f32], rows: usize, out: &mut [f32]) {
            ::core::assert!(rows <= BATCH, "predict_batch takes at most BATCH rows");
            ::core::assert!(x.len() >= rows * INPUT && out.len() >= rows * OUTPUT, "predict_batch: buffers too short for {} rows", rows);
            let x_rows = &x.as_chunks::<INPUT>().0[..rows];
            let Model { #( #fields, )* .. } = self;
            #forward
            let out_rows = &mut out.as_chunks_mut::<OUTPUT>().0[..rows];
            for (o, z) in out_rows.iter_mut().zip(#output.iter()) {
                #probabilities
            }
        }
    }
}
