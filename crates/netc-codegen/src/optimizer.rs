//! The optimizer update: per tensor one fused pass that folds in the regularization gradient,
//! updates the optimizer state and the parameter (and, with `maxnorm`, rescales each weight
//! row while it is still in cache). Scalars (η, μ, bias corrections) are computed once per
//! step, never per element.

use proc_macro2::TokenStream;
use quote::quote;

use crate::hyper::Field;
use crate::plan::{DensePlan, OptimizerPlan, Plan};
use crate::{regularize, schedule};

pub fn hyper_fields(plan: &Plan) -> Vec<Field> {
    match plan.optimizer {
        OptimizerPlan::Sgd => Vec::new(),
        OptimizerPlan::Momentum { mu, .. } => {
            let mut fields = vec![Field::unit("momentum", mu.start).searched_as(quote!(Momentum))];
            if mu.over.is_some() {
                fields.push(Field::unit("momentum_end", mu.end));
            }
            fields
        }
        OptimizerPlan::Adagrad { eps } => vec![Field::positive("eps", eps)],
        OptimizerPlan::Rmsprop { decay, eps } => {
            vec![
                Field::unit("decay", decay).searched_as(quote!(Momentum)),
                Field::positive("eps", eps),
            ]
        }
        OptimizerPlan::Adam { beta1, beta2, eps } => vec![
            Field::unit("beta1", beta1).searched_as(quote!(Momentum)),
            Field::unit("beta2", beta2),
            Field::positive("eps", eps),
        ],
    }
}

/// Free functions the step uses (the momentum ramp), if any.
pub fn helper_fns(plan: &Plan) -> TokenStream {
    match plan.optimizer {
        OptimizerPlan::Momentum { mu, .. } => match mu.over {
            Some(over) => {
                let (k, n) = schedule::progress(over);
                quote! {
                    /// μ ramps linearly from `momentum` to `momentum_end`, then stays.
                    #[allow(unused_variables)]
                    fn scheduled_momentum(hyper: &Hyper, steps: u64, epochs: u64) -> F {
                        let alpha = (#k / #n).min(1.0);
                        (f64::from(hyper.momentum) + alpha * (f64::from(hyper.momentum_end) - f64::from(hyper.momentum))) as F
                    }
                }
            }
            None => quote!(),
        },
        _ => quote!(),
    }
}

/// `let` bindings at the top of `train_step` (after the model's fields are bound): the
/// optimizer's scalars for this step.
pub fn step_scalars(plan: &Plan) -> TokenStream {
    let lr = schedule::learning_rate_expr(plan, quote!(*steps), schedule::epochs_expr(plan));
    let scalars = match plan.optimizer {
        OptimizerPlan::Sgd => quote!(),
        OptimizerPlan::Momentum { mu, .. } => {
            if mu.over.is_some() {
                let epochs = schedule::epochs_expr(plan);
                quote!(let mu = scheduled_momentum(hyper, *steps, #epochs);)
            } else {
                quote!(let mu = hyper.momentum;)
            }
        }
        OptimizerPlan::Adagrad { .. } => quote!(let eps = hyper.eps;),
        OptimizerPlan::Rmsprop { .. } => quote! {
            let decay = hyper.decay;
            let eps = hyper.eps;
        },
        // t counts steps from 1; the bias corrections 1/(1−βᵗ) once per step, in f64.
        OptimizerPlan::Adam { .. } => quote! {
            let (beta1, beta2, eps) = (hyper.beta1, hyper.beta2, hyper.eps);
            let t = (*steps + 1) as f64;
            let lr_m = lr / (1.0 - f64::from(beta1).powf(t)) as F;
            let inv_c2 = (1.0 / (1.0 - f64::from(beta2).powf(t))) as F;
        },
    };
    let reg = regularize::step_scalars(plan);
    let grad_sq = plan
        .net
        .train
        .monitor
        .grad_norm
        .then(|| quote!(let mut grad_sq: [F; 8] = [0.0; 8];));
    quote! {
        let lr = #lr;
        #scalars
        #reg
        #grad_sq
    }
}

/// `monitor grad_norm`: adds g² (the full gradient, regularization included) into the lane
/// accumulators `grad_sq`, summed into `StepStats::grad_sq`; nothing otherwise.
fn track_gradient(plan: &Plan, lane: &TokenStream) -> TokenStream {
    if plan.net.train.monitor.grad_norm {
        quote!(grad_sq[#lane] += g * g;)
    } else {
        quote!()
    }
}

/// The step's `StepStats::grad_sq` expression.
pub fn grad_sq_expr(plan: &Plan) -> TokenStream {
    if plan.net.train.monitor.grad_norm {
        quote!(grad_sq.iter().sum::<F>() as f32)
    } else {
        quote!(0.0)
    }
}

/// The update of one parameter `p: &mut F` with gradient `g: F` and state `v`, `s`.
fn element(plan: &Plan) -> TokenStream {
    match plan.optimizer {
        OptimizerPlan::Sgd => quote!(*p -= lr * g;),
        OptimizerPlan::Momentum {
            nesterov: false, ..
        } => quote! {
            *v = mu * *v - lr * g;
            *p += *v;
        },
        // θ += −μ·v_prev + (1+μ)·v: the gradient step taken at the lookahead point.
        OptimizerPlan::Momentum { nesterov: true, .. } => quote! {
            let v_prev = *v;
            *v = mu * *v - lr * g;
            *p += -mu * v_prev + (1.0 + mu) * *v;
        },
        OptimizerPlan::Adagrad { .. } => quote! {
            *v += g * g;
            *p -= lr * g / (v.sqrt() + eps);
        },
        OptimizerPlan::Rmsprop { .. } => quote! {
            *v = decay * *v + (1.0 - decay) * g * g;
            *p -= lr * g / (v.sqrt() + eps);
        },
        // m̂ = m·c1, v̂ = v·c2 with c1 folded into the step size.
        OptimizerPlan::Adam { .. } => quote! {
            *v = beta1 * *v + (1.0 - beta1) * g;
            *s = beta2 * *s + (1.0 - beta2) * g * g;
            *p -= lr_m * *v / ((*s * inv_c2).sqrt() + eps);
        },
    }
}

/// Zips `p` (mutable parameters), `&g` and the optimizer state of one tensor into a pattern
/// and an iterator; `flat` flattens `[[F; IN]; OUT]` buffers.
fn zipped(
    plan: &Plan,
    [p, g, v, s]: [TokenStream; 4],
    flat: Option<TokenStream>,
) -> (TokenStream, TokenStream) {
    let (mutable, shared) = match &flat {
        Some(_) => (quote!(.as_flattened_mut()), quote!(.as_flattened())),
        None => (quote!(), quote!()),
    };
    let mut pattern = quote!(p);
    let mut iter = quote!(#p #mutable .iter_mut().zip(#g #shared .iter()));
    pattern = quote!((#pattern, &g));
    let states = plan.optimizer.state_buffers();
    for (name, buffer) in [(quote!(v), v), (quote!(s), s)].into_iter().take(states) {
        pattern = quote!((#pattern, #name));
        iter = quote!(#iter.zip(#buffer #mutable .iter_mut()));
    }
    (pattern, iter)
}

/// `body` (on `p`, `g`, `v`, `s` and a lane index `l`) over whole slices, 8 elements at a
/// time so that sums into `[F; 8]` lane arrays vectorize (one scalar accumulator would make
/// the loop serial: ~4× slower for Adam), then the remainder on lane 0. Each chunk is copied
/// into local arrays and written back: with references into the slices LLVM left Adam's
/// sqrt/divide scalar (perf: 54% of the MNIST step's own time on that line).
fn lane_loop(plan: &Plan, slices: [TokenStream; 4], body: &TokenStream) -> TokenStream {
    let states = plan.optimizer.state_buffers();
    let [p, g, v, s] = slices;
    let mut split = vec![
        quote!(let (p_chunks, p_rest) = #p.as_chunks_mut::<8>();),
        quote!(let (g_chunks, g_rest) = #g.as_chunks::<8>();),
    ];
    let mut chunk_pattern = quote!((pc, gc));
    let mut chunk_iter = quote!(p_chunks.iter_mut().zip(g_chunks.iter()));
    let mut rest_pattern = quote!((p, &g));
    let mut rest_iter = quote!(p_rest.iter_mut().zip(g_rest.iter()));
    let mut lane_lets = vec![quote!(let p = &mut pa[l];), quote!(let g = ga[l];)];
    let mut copy_in = vec![quote!(let mut pa = *pc;), quote!(let ga = *gc;)];
    let mut copy_out = vec![quote!(*pc = pa;)];
    let state_parts = [
        (
            v,
            quote!(v),
            quote!(vc),
            quote!(va),
            quote!(v_chunks),
            quote!(v_rest),
        ),
        (
            s,
            quote!(s),
            quote!(sc),
            quote!(sa),
            quote!(s_chunks),
            quote!(s_rest),
        ),
    ];
    for (buffer, one, chunk, local, chunks, rest) in state_parts.into_iter().take(states) {
        split.push(quote!(let (#chunks, #rest) = #buffer.as_chunks_mut::<8>();));
        chunk_pattern = quote!((#chunk_pattern, #chunk));
        chunk_iter = quote!(#chunk_iter.zip(#chunks.iter_mut()));
        rest_pattern = quote!((#rest_pattern, #one));
        rest_iter = quote!(#rest_iter.zip(#rest.iter_mut()));
        copy_in.push(quote!(let mut #local = *#chunk;));
        copy_out.push(quote!(*#chunk = #local;));
        lane_lets.push(quote!(let #one = &mut #local[l];));
    }
    quote! {
        #( #split )*
        for #chunk_pattern in #chunk_iter {
            #( #copy_in )*
            for l in 0..8 {
                #( #lane_lets )*
                #body
            }
            #( #copy_out )*
        }
        for #rest_pattern in #rest_iter {
            let l = 0;
            #body
        }
    }
}

/// One vector parameter `[p, g, v, s]` updated like a bias, with no regularization (batch
/// norm's γ and β).
pub fn vector_update(plan: &Plan, [p, g, v, s]: [&proc_macro2::Ident; 4]) -> TokenStream {
    let track = track_gradient(plan, &quote!(0));
    let element = element(plan);
    let element = quote!(#track #element);
    let (pattern, iter) = zipped(plan, [quote!(#p), quote!(#g), quote!(#v), quote!(#s)], None);
    quote! {
        for #pattern in #iter {
            #element
        }
    }
}

/// Weight tensors with at least this many parameters are updated in chunks spread over the
/// threads: at 16k parameters Adam's pass takes some 10 µs, far above a hand-off (~1 µs).
const PARALLEL_PARAMS: usize = 16 * 1024;

/// The most chunks a tensor is cut into, whatever the thread count (which must not change
/// the sums): enough for the machines netc runs on, few enough that a chunk stays long.
const MAX_CHUNKS: usize = 8;

/// `(rows per chunk, chunks)` of a layer's weight update, or `None` to update it in one pass.
fn weight_chunks(layer: &DensePlan) -> Option<(usize, usize)> {
    if layer.inputs * layer.outputs < PARALLEL_PARAMS || layer.outputs < 2 {
        return None;
    }
    let rows = layer.outputs.div_ceil(MAX_CHUNKS.min(layer.outputs));
    Some((rows, layer.outputs.div_ceil(rows)))
}

/// The `[F; 8]` lane sums the weight pass adds to (penalties, `monitor grad_norm`).
fn lane_sums(plan: &Plan) -> Vec<proc_macro2::Ident> {
    let reg = &plan.net.train.regularize;
    let mut sums = Vec::new();
    if reg.l2.is_some() {
        sums.push(quote::format_ident!("sum_sq"));
    }
    if reg.l1.is_some() {
        sums.push(quote::format_ident!("sum_abs"));
    }
    if plan.net.train.monitor.grad_norm {
        sums.push(quote::format_ident!("grad_sq"));
    }
    sums
}

/// The update of one layer: weights then bias, each one pass.
pub fn update(plan: &Plan, layer: &DensePlan) -> TokenStream {
    let (b, gb, vb, sb) = (&layer.b, &layer.gb, &layer.vb, &layer.sb);
    let element = element(plan);
    let track_first = track_gradient(plan, &quote!(0));
    let bias_reg = regularize::gradient_terms(plan, false, &quote!(0));
    let weights = match weight_chunks(layer) {
        Some(chunks) => chunked_weight_update(plan, layer, chunks),
        None => {
            let flat = |t: &proc_macro2::Ident, mutable: bool| {
                if mutable {
                    quote!(#t.as_flattened_mut())
                } else {
                    quote!(#t.as_flattened())
                }
            };
            let slices = [
                flat(&layer.w, true),
                flat(&layer.gw, false),
                flat(&layer.vw, true),
                flat(&layer.sw, true),
            ];
            weight_pass(plan, layer, slices)
        }
    };
    let (pattern, iter) = zipped(
        plan,
        [quote!(#b), quote!(#gb), quote!(#vb), quote!(#sb)],
        None,
    );
    quote! {
        #weights
        for #pattern in #iter {
            #bias_reg
            #track_first
            #element
        }
    }
}

/// The weight update in `chunks.1` chunks of `chunks.0` rows, spread over the threads by
/// `rt::threads::par_chunks`. Each chunk sums into lanes of its own, added to the step's in
/// chunk order: the same bits for any thread count.
fn chunked_weight_update(
    plan: &Plan,
    layer: &DensePlan,
    (rows, chunks): (usize, usize),
) -> TokenStream {
    let (w, gw, vw, sw) = (&layer.w, &layer.gw, &layer.vw, &layer.sw);
    let in_const = &layer.in_const;
    let states = plan.optimizer.state_buffers();
    let mutable: Vec<TokenStream> = [w, vw, sw]
        .iter()
        .take(1 + states)
        .map(|t| quote!(#t.as_flattened_mut()))
        .collect();
    let names = [quote!(p_part), quote!(v_part), quote!(s_part)];
    let bound = &names[..1 + states];
    let pass = weight_pass(
        plan,
        layer,
        [
            quote!(p_part),
            quote!(g_part),
            quote!(v_part),
            quote!(s_part),
        ],
    );
    let sums = lane_sums(plan);
    let count = sums.len();
    let indices = 0..count;
    let combine = (count > 0).then(|| {
        quote! {
            for part in &partial {
                #( for (sum, lane) in #sums.iter_mut().zip(part[#indices]) { *sum += lane; } )*
            }
        }
    });
    quote! {{
        const CHUNK: usize = #rows * #in_const;
        let mut partial: [[[F; 8]; #count]; #chunks] = [[[0.0; 8]; #count]; #chunks];
        let g_all = #gw.as_flattened();
        rt::threads::par_chunks(CHUNK, [#( #mutable ),*], &mut partial, &|chunk, [#( #bound ),*], out| {
            let g_part = &g_all[chunk * CHUNK..(g_all.len()).min((chunk + 1) * CHUNK)];
            #( let mut #sums: [F; 8] = [0.0; 8]; )*
            #pass
            *out = [#( #sums ),*];
        });
        #combine
    }}
}

/// One pass over a weight tensor given as flat slices `[p, g, v, s]` (whole rows): penalty
/// gradient, optimizer update and, with `maxnorm`, each row rescaled while in cache.
fn weight_pass(plan: &Plan, layer: &DensePlan, slices: [TokenStream; 4]) -> TokenStream {
    let element = element(plan);
    let lane = quote!(l);
    let (track_lane, track_first) = (
        track_gradient(plan, &lane),
        track_gradient(plan, &quote!(0)),
    );
    let weight_reg = regularize::gradient_terms(plan, true, &lane);
    let [p, g, v, s] = slices;
    if regularize::maxnorm(plan) {
        // Row by row: W is [out, in], a row is one unit's incoming weights.
        let in_const = &layer.in_const;
        let rows_iter = {
            let mut iter = quote!(#p.as_chunks_mut::<#in_const>().0.iter_mut().zip(#g.as_chunks::<#in_const>().0.iter()));
            let mut pattern = quote!((prow, grow));
            let states = plan.optimizer.state_buffers();
            for (name, buffer) in [(quote!(vrow), v), (quote!(srow), s)]
                .into_iter()
                .take(states)
            {
                pattern = quote!((#pattern, #name));
                iter = quote!(#iter.zip(#buffer.as_chunks_mut::<#in_const>().0.iter_mut()));
            }
            quote!(for #pattern in #iter)
        };
        let body = quote! {
            #weight_reg
            #track_lane
            #element
            norm2[l] += *p * *p;
        };
        let pass = lane_loop(
            plan,
            [quote!(prow), quote!(grow), quote!(vrow), quote!(srow)],
            &body,
        );
        quote! {
            #rows_iter {
                let mut norm2: [F; 8] = [0.0; 8];
                #pass
                let norm2: F = norm2.iter().sum();
                if norm2 > maxnorm * maxnorm {
                    let scale = maxnorm / norm2.sqrt();
                    for p in prow.iter_mut() {
                        *p *= scale;
                    }
                }
            }
        }
    } else if regularize::penalized(plan) {
        let body = quote! {
            #weight_reg
            #track_lane
            #element
        };
        let pass = lane_loop(plan, [p, g, v, s], &body);
        quote!({ #pass })
    } else {
        let (pattern, iter) = zipped(plan, [p, g, v, s], None);
        quote! {
            for #pattern in #iter {
                #weight_reg
                #track_first
                #element
            }
        }
    }
}
