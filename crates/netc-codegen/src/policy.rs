//! Run policy generated beside the model, not into its `Network` impl: what `run_config()`
//! says about how to train (a full-batch solver, input statistics, augmentation) and what
//! `plan()` says to run around training (search, bagging). Each function returns an
//! `Option` expression.

use netc_sema::ir;
use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::usize_lit;
use crate::user_fns::vote_tokens;

/// Newton stops when ‖∇f‖∞ ≤ this·max(1, |f|) (the spec has no tolerance for it).
const NEWTON_TOLERANCE: f64 = 1e-8;

fn none() -> TokenStream {
    quote!(::core::option::Option::None)
}

fn f64_lit(v: f64) -> proc_macro2::Literal {
    proc_macro2::Literal::f64_suffixed(v)
}

/// `RunConfig::full_batch`: `batch full` with `lbfgs`/`newton` (the checker pairs them).
pub fn full_batch_solver(net: &ir::Network) -> TokenStream {
    let train = &net.train;
    if train.batch.size != ir::BatchSize::Full {
        return none();
    }
    match train.optimizer.kind {
        ir::OptimizerKind::Lbfgs { history, tolerance } => {
            let (history, tolerance) = (usize_lit(history), f64_lit(tolerance));
            quote!(::core::option::Option::Some(rt::FullBatchSolver::Lbfgs { history: #history, tolerance: #tolerance }))
        }
        ir::OptimizerKind::Newton { damping } => {
            let (damping, tolerance) = (f64_lit(damping), f64_lit(NEWTON_TOLERANCE));
            quote!(::core::option::Option::Some(rt::FullBatchSolver::Newton { damping: #damping, tolerance: #tolerance }))
        }
        // The checker refuses `batch full` with a first-order optimizer.
        _ => none(),
    }
}

/// `RunConfig::preprocess`: the spec's input normalization, computed by the driver.
pub fn preprocess(net: &ir::Network) -> TokenStream {
    let kind = match crate::plan::preprocess(net) {
        None | Some(ir::PreprocessKind::None) => return none(),
        Some(ir::PreprocessKind::MeanImage) => quote!(rt::preprocess::Preprocess::MeanImage),
        Some(ir::PreprocessKind::ChannelMean) => {
            let channels = usize_lit(net.model.input.shape().2);
            quote!(rt::preprocess::Preprocess::ChannelMean { channels: #channels })
        }
        Some(ir::PreprocessKind::Standardize) => quote!(rt::preprocess::Preprocess::Standardize),
    };
    quote!(::core::option::Option::Some(#kind))
}

/// `RunConfig::augment`: the spec's image augmentation (the checker allows it only on image
/// input, `input HxWxC`).
pub fn augment(net: &ir::Network) -> TokenStream {
    let Some(augment) = net.data.as_ref().and_then(|d| d.augment.as_ref()) else {
        return none();
    };
    let (height, width, channels) = net.model.input.shape();
    let (height, width, channels) = (usize_lit(height), usize_lit(width), usize_lit(channels));
    let shift = proc_macro2::Literal::u32_suffixed(augment.shift);
    let rotate = f64_lit(augment.rotate_deg);
    let (lo, hi) = (f64_lit(augment.scale.0), f64_lit(augment.scale.1));
    let flip = match augment.flip {
        None => none(),
        Some(ir::Flip::Horizontal) => {
            quote!(::core::option::Option::Some(rt::augment::Flip::Horizontal))
        }
        Some(ir::Flip::Vertical) => {
            quote!(::core::option::Option::Some(rt::augment::Flip::Vertical))
        }
        Some(ir::Flip::Both) => quote!(::core::option::Option::Some(rt::augment::Flip::Both)),
    };
    quote! {
        ::core::option::Option::Some(rt::augment::Augment {
            height: #height,
            width: #width,
            channels: #channels,
            shift: #shift,
            rotate_deg: #rotate,
            scale: (#lo, #hi),
            flip: #flip,
        })
    }
}

/// `Plan::search`: the spec's random search (coarse to fine).
fn search(net: &ir::Network) -> TokenStream {
    let Some(search) = &net.search else {
        return none();
    };
    let params = search.params.iter().map(|p| {
        let target = match p.target {
            ir::Hyperparameter::LearningRate => quote!(LearningRate),
            ir::Hyperparameter::L2 => quote!(L2),
            ir::Hyperparameter::L1 => quote!(L1),
            ir::Hyperparameter::MaxNorm => quote!(MaxNorm),
            ir::Hyperparameter::Dropout => quote!(Dropout),
            ir::Hyperparameter::Momentum => quote!(Momentum),
        };
        let distribution = match p.distribution {
            ir::Distribution::LogUniform { lo, hi } => {
                let (lo, hi) = (f64_lit(lo), f64_lit(hi));
                quote!(rt::search::Distribution::LogUniform { lo: #lo, hi: #hi })
            }
            ir::Distribution::Uniform { lo, hi } => {
                let (lo, hi) = (f64_lit(lo), f64_lit(hi));
                quote!(rt::search::Distribution::Uniform { lo: #lo, hi: #hi })
            }
        };
        quote!(rt::search::Param { target: rt::SearchTarget::#target, distribution: #distribution })
    });
    let (trials, coarse, top, fine) = (
        usize_lit(search.trials),
        usize_lit(search.coarse_epochs),
        usize_lit(search.fine_top),
        usize_lit(search.fine_epochs),
    );
    quote! {
        ::core::option::Option::Some(rt::search::SearchConfig {
            trials: #trials,
            params: &[ #( #params ),* ],
            coarse_epochs: #coarse,
            fine_top: #top,
            fine_epochs: #fine,
        })
    }
}

/// `Plan::ensemble`: the spec's bagging.
fn ensemble(net: &ir::Network) -> TokenStream {
    let Some(ensemble) = &net.ensemble else {
        return none();
    };
    let models = usize_lit(ensemble.models);
    let vote = vote_tokens(ensemble.vote);
    quote!(::core::option::Option::Some(rt::EnsembleConfig { models: #models, vote: rt::Vote::#vote }))
}

/// `plan()`: the procedures the trainer runs around training.
pub fn plan_fn(net: &ir::Network) -> TokenStream {
    let (search, ensemble) = (search(net), ensemble(net));
    quote! {
        /// What the spec runs around training: its search and its ensemble, if any.
        pub fn plan() -> rt::Plan {
            rt::Plan {
                search: #search,
                ensemble: #ensemble,
            }
        }
    }
}
