//! `regularize`: the l2/l1 gradient terms folded into the update pass (no extra memory pass),
//! their loss summed in the same pass (reported as `StepStats::reg_loss`, apart from the data
//! loss), and whether `maxnorm` rescales weight rows after the update.

use proc_macro2::TokenStream;
use quote::quote;

use crate::hyper::Field;
use crate::plan::Plan;

pub fn hyper_fields(plan: &Plan) -> Vec<Field> {
    let reg = &plan.net.train.regularize;
    let mut fields = Vec::new();
    if let Some(l2) = reg.l2 {
        fields.push(Field::non_negative("l2", l2).searched_as(quote!(L2)));
    }
    if let Some(l1) = reg.l1 {
        fields.push(Field::non_negative("l1", l1).searched_as(quote!(L1)));
    }
    if let Some(c) = reg.maxnorm {
        fields.push(Field::positive("maxnorm", c).searched_as(quote!(MaxNorm)));
    }
    fields
}

pub fn maxnorm(plan: &Plan) -> bool {
    plan.net.train.regularize.maxnorm.is_some()
}

pub fn penalized(plan: &Plan) -> bool {
    let reg = &plan.net.train.regularize;
    reg.l2.is_some() || reg.l1.is_some()
}

/// Bindings for the step: the coefficients and the penalty sums.
pub fn step_scalars(plan: &Plan) -> TokenStream {
    let reg = &plan.net.train.regularize;
    let l2 = reg.l2.map(|_| {
        quote! {
            let l2 = hyper.l2;
            let mut sum_sq: [F; 8] = [0.0; 8];
        }
    });
    let l1 = reg.l1.map(|_| {
        quote! {
            let l1 = hyper.l1;
            let mut sum_abs: [F; 8] = [0.0; 8];
        }
    });
    let maxnorm = reg.maxnorm.map(|_| quote!(let maxnorm = hyper.maxnorm;));
    quote!(#l2 #l1 #maxnorm)
}

/// Statements on `p: &mut F` (before its update) and `g: F` that add the penalty's
/// gradient to `g` and its value to lane `lane` of the sums (lanes keep the sums from
/// serializing the update loop). Biases only with `include_bias`.
pub fn gradient_terms(plan: &Plan, weights: bool, lane: &TokenStream) -> TokenStream {
    let reg = &plan.net.train.regularize;
    if !weights && !reg.include_bias {
        return quote!();
    }
    let l2 = reg.l2.map(|_| {
        quote! {
            sum_sq[#lane] += *p * *p;
            let g = g + l2 * *p;
        }
    });
    // sign(0) = 0: a weight at zero gets no l1 push (F::signum would give ±1).
    let l1 = reg.l1.map(|_| {
        quote! {
            sum_abs[#lane] += p.abs();
            let g = g + if *p > 0.0 { l1 } else if *p < 0.0 { -l1 } else { 0.0 };
        }
    });
    quote!(#l2 #l1)
}

/// The step's regularization loss, λ₂/2·Σw² + λ₁·Σ|w|, of the parameters before the update.
pub fn loss_expr(plan: &Plan) -> TokenStream {
    if !penalized(plan) {
        return quote!(0.0);
    }
    let reg = &plan.net.train.regularize;
    let l2 = reg
        .l2
        .map(|_| quote!(+ 0.5 * l2 * sum_sq.iter().sum::<F>()));
    let l1 = reg.l1.map(|_| quote!(+ l1 * sum_abs.iter().sum::<F>()));
    quote!(0.0 #l2 #l1)
}
