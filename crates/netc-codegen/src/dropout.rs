//! Inverted dropout in `train_step` only: the mask is drawn fused with the forward pass right
//! after the activation and stored as scale factors (0 or 1/(1−p)) in a buffer allocated
//! once, so the backward pass multiplies by the same factors. `predict_batch` never masks.
//!
//! Mask bits come from SplitMix64 (one call per unit, a few ns) seeded in `new` from
//! `Rng::new(seed, streams::DROPOUT)`: same seed, same masks. A unit is kept when its 32 bits
//! are ≥ ⌊p·2³²⌋, i.e. with probability 1 − p (to within 2⁻³²).

use std::collections::BTreeMap;

use netc_sema::ir;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::hyper::Field;
use crate::plan::{DropoutPlan, Plan, usize_lit};

/// The `Hyper` field of each dropout layer (by spec index): one shared `dropout` when every
/// layer drops with the same p (what `search`'s `dropout` varies), else `dropout_N`.
pub fn field_names(net: &ir::Network) -> BTreeMap<usize, String> {
    let layers: Vec<(usize, f64)> = net
        .model
        .layers
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match l.kind {
            ir::LayerKind::Dropout { p } => Some((i, p)),
            _ => None,
        })
        .collect();
    let shared = layers.windows(2).all(|w| w[0].1 == w[1].1);
    layers
        .into_iter()
        .map(|(i, _)| {
            let name = if shared {
                "dropout".to_owned()
            } else {
                format!("dropout_{i}")
            };
            (i, name)
        })
        .collect()
}

pub fn plan(p: f64, field: proc_macro2::Ident, spec_index: usize, units: usize) -> DropoutPlan {
    DropoutPlan {
        units,
        offset: 0,
        p,
        field,
        keep: format_ident!("keep{}", spec_index),
        scale: format_ident!("scale{}", spec_index),
        threshold: format_ident!("threshold{}", spec_index),
        mask: format_ident!("mask{}", spec_index),
        chained: Vec::new(),
    }
}

/// Sets every dropout's `offset`: the draws per sample of the ones before it in forward order
/// (the input's, then each dense layer's own and its batch norm's).
pub fn lay_out(input: Option<&mut DropoutPlan>, dense: &mut [crate::plan::DensePlan]) {
    let mut offset = 0;
    let in_order = input.into_iter().chain(dense.iter_mut().flat_map(|l| {
        let bn = l.batchnorm.as_mut().and_then(|bn| bn.dropout.as_mut());
        l.dropout.as_mut().into_iter().chain(bn)
    }));
    for d in in_order {
        d.offset = offset;
        offset += d.units;
    }
}

/// Mask draws per sample of the whole forward pass.
fn draws_per_sample(plan: &Plan) -> usize {
    all(plan).map(|d| d.units).sum()
}

/// Every dropout of the model, input first (those after batch norms last).
pub fn all<'p>(plan: &'p Plan) -> impl Iterator<Item = &'p DropoutPlan> {
    plan.input_dropout
        .iter()
        .chain(plan.dense.iter().filter_map(|l| l.dropout.as_ref()))
        .chain(crate::batchnorm::all(plan).filter_map(|(_, bn)| bn.dropout.as_ref()))
}

pub fn used(plan: &Plan) -> bool {
    all(plan).next().is_some()
}

pub fn hyper_fields(plan: &Plan) -> Vec<Field> {
    let mut fields: Vec<Field> = Vec::new();
    for d in all(plan) {
        for (p, field) in
            std::iter::once((d.p, &d.field)).chain(d.chained.iter().map(|(p, f)| (*p, f)))
        {
            let name = field.to_string();
            if !fields.iter().any(|f| f.name == name) {
                fields.push(Field::unit(name, p).searched_as(quote!(Dropout)));
            }
        }
    }
    fields
}

/// The generator and, with `#[doc(hidden)]`, what tests need to see and pin the masks.
pub fn helper_fns(plan: &Plan) -> TokenStream {
    if !used(plan) {
        return quote!();
    }
    quote! {
        /// SplitMix64's increment: the generator after `n` draws is `state + n·STRIDE`.
        const DROPOUT_STRIDE: u64 = 0x9E37_79B9_7F4A_7C15;

        /// SplitMix64: the next 32 mask bits.
        #[inline(always)]
        fn next_dropout_bits(state: &mut u64) -> u32 {
            *state = state.wrapping_add(DROPOUT_STRIDE);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 32) as u32
        }
    }
}

/// Hidden inherent methods for tests: masks, activations, and the mask generator's state.
pub fn inspect_fns(plan: &Plan) -> TokenStream {
    if !used(plan) {
        return quote!();
    }
    let input = plan.input_dropout.as_ref().map(|d| {
        let mask = &d.mask;
        quote! {
            rt::TensorRef { name: ::std::string::String::from("input.masked"), shape: ::std::vec![BATCH, INPUT], data: self.#mask.as_flattened() },
        }
    });
    // Named after the layer the mask follows: the dense layer's index, or the batch norm's.
    let after_dense = plan
        .dense
        .iter()
        .filter_map(|l| Some((l, l.spec_index, l.dropout.as_ref()?)));
    let after_batchnorm = crate::batchnorm::all(plan)
        .filter_map(|(l, bn)| Some((l, bn.spec_index, bn.dropout.as_ref()?)));
    let masks = after_dense.chain(after_batchnorm).map(|(l, index, d)| {
        let (mask, out_c) = (&d.mask, &l.out_const);
        let name = format!("layers.{index}.mask");
        quote! {
            rt::TensorRef { name: ::std::string::String::from(#name), shape: ::std::vec![BATCH, #out_c], data: self.#mask.as_flattened() },
        }
    });
    let outputs = plan.dense.iter().map(|l| {
        let (y, out_c) = (&l.y, &l.out_const);
        let name = format!("layers.{}.output", l.spec_index);
        quote! {
            rt::TensorRef { name: ::std::string::String::from(#name), shape: ::std::vec![BATCH, #out_c], data: self.#y.as_flattened() },
        }
    });
    quote! {
        impl Model {
            /// The dropout masks of the last `train_step` (0 or 1/(1−p) per unit); for
            /// input dropout, the masked input (`input.masked`) first.
            #[doc(hidden)]
            pub fn dropout_masks(&self) -> ::std::vec::Vec<rt::TensorRef<'_, F>> {
                ::std::vec![ #input #( #masks )* ]
            }

            /// Every dense layer's output of the last pass (masked after a `train_step`).
            #[doc(hidden)]
            pub fn activations(&self) -> ::std::vec::Vec<rt::TensorRef<'_, F>> {
                ::std::vec![ #( #outputs )* ]
            }

            /// The mask generator's state: set it back to replay the same masks.
            #[doc(hidden)]
            pub fn dropout_state(&self) -> u64 {
                self.dropout_rng
            }

            #[doc(hidden)]
            pub fn set_dropout_state(&mut self, state: u64) {
                self.dropout_rng = state;
            }
        }
    }
}

/// Per-step locals: the generator state and each dropout's keep, scale and threshold.
pub fn step_scalars(plan: &Plan) -> TokenStream {
    if !used(plan) {
        return quote!();
    }
    let per_layer = all(plan).map(|d| {
        let (field, keep, scale, threshold) = (&d.field, &d.keep, &d.scale, &d.threshold);
        if d.chained.is_empty() {
            return quote! {
                let #keep = 1.0 - hyper.#field;
                let #scale = 1.0 / #keep;
                let #threshold = (f64::from(hyper.#field) * 4_294_967_296.0) as u32;
            };
        }
        // Dropouts in a row: one mask that keeps a unit with probability Π(1−pᵢ).
        let chained = d.chained.iter().map(|(_, f)| quote!(* (1.0 - hyper.#f)));
        quote! {
            let #keep = (1.0 - hyper.#field) #( #chained )*;
            let #scale = 1.0 / #keep;
            let #threshold = ((1.0 - f64::from(#keep)) * 4_294_967_296.0) as u32;
        }
    });
    quote! {
        let dropout_base = *dropout_rng;
        // Set by each dropout's `position` before its first draw.
        let mut bits: u64;
        #( #per_layer )*
    }
}

/// The generator past every draw of the pass: `batch` samples' worth (locals `batch`,
/// `dropout_base`), also when this pass computed only some of them (a data-parallel share).
pub fn step_end(plan: &Plan) -> TokenStream {
    if !used(plan) {
        return quote!();
    }
    let per_sample = usize_lit(draws_per_sample(plan));
    quote!(*dropout_rng = dropout_base.wrapping_add(DROPOUT_STRIDE.wrapping_mul((#per_sample * batch) as u64));)
}

/// Puts the generator at this dropout's first draw for sample `first` of a batch of `batch`
/// (locals): where a one-process step of the whole batch would be, so a sample's mask does
/// not depend on which rank computes it. A no-op in a whole-batch step (`first` = 0).
pub fn position(d: &DropoutPlan) -> TokenStream {
    let units = usize_lit(d.units);
    let draws = match d.offset {
        0 => quote!(first * #units),
        offset => {
            let offset = usize_lit(offset);
            quote!(#offset * batch + first * #units)
        }
    };
    quote!(bits = dropout_base.wrapping_add(DROPOUT_STRIDE.wrapping_mul((#draws) as u64));)
}

/// One unit's mask factor: 0 or 1/(1−p).
pub fn draw(d: &DropoutPlan) -> TokenStream {
    let (scale, threshold) = (&d.scale, &d.threshold);
    quote!(if next_dropout_bits(&mut bits) >= #threshold { #scale } else { 0.0 })
}

/// Input dropout in `train_step`: the masked copy of the batch becomes `x_rows`.
pub fn input_pass(plan: &Plan) -> TokenStream {
    let Some(d) = &plan.input_dropout else {
        return quote!();
    };
    let (mask, draw) = (&d.mask, input_draw(d));
    quote! {
        #draw
        let x_rows = &#mask[..rows];
    }
}

/// Input dropout in the gradient-only pass: draws a new masked copy unless `replay` (a runtime
/// bool) says to reuse the last one (valid for the same `x`, as gradient checks and
/// Hessian-vector products call it), then rebinds `x_rows` to it — at the caller's level, so
/// the backward pass of the first layer reads the same rows as the forward pass.
pub fn input_pass_either(plan: &Plan, replay: TokenStream) -> TokenStream {
    let Some(d) = &plan.input_dropout else {
        return quote!();
    };
    let (mask, draw) = (&d.mask, input_draw(d));
    quote! {
        if !#replay {
            #draw
        }
        let x_rows = &#mask[..rows];
    }
}

/// Writes the masked input (0 or x/(1−p) per feature) into the input mask buffer.
fn input_draw(d: &DropoutPlan) -> TokenStream {
    let (mask, draw, position) = (&d.mask, draw(d), position(d));
    quote! {
        #position
        for (xr, mr) in x_rows.iter().zip(#mask.iter_mut()) {
            for (&v, m) in xr.iter().zip(mr.iter_mut()) {
                *m = v * #draw;
            }
        }
    }
}
