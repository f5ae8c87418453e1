//! The `Model` struct: parameters, gradients, optimizer state and activation buffers, all
//! allocated once in `new` with compile-time sizes (`[[F; IN]; OUT]` rows, inline when
//! small, boxed when large), plus checkpoint tensor access.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::plan::{DensePlan, INLINE_MAX, Plan, f32_lit};
use crate::{dropout, schedule};

/// One buffer of the model struct.
pub(crate) struct Buffer {
    field: Ident,
    ty: TokenStream,
    init: TokenStream,
    /// Values it holds (of the model's float type).
    len: usize,
}

/// A `rows × cols` buffer (`cols` may be 1-D when `rows` is `None`).
pub(crate) fn buffer(
    field: &Ident,
    rows: Option<(&TokenStream, usize)>,
    cols: (&TokenStream, usize),
) -> Buffer {
    let (cols_const, cols_n) = cols;
    let (ty, inline_init, boxed_init, len) = match rows {
        Some((rows_const, rows_n)) => (
            quote!([[F; #cols_const]; #rows_const]),
            quote!([[0.0 as F; #cols_const]; #rows_const]),
            quote!(zeroed_rows::<#rows_const, #cols_const>()),
            rows_n * cols_n,
        ),
        None => (
            quote!([F; #cols_const]),
            quote!([0.0 as F; #cols_const]),
            quote!(zeroed::<#cols_const>()),
            cols_n,
        ),
    };
    if len <= INLINE_MAX {
        Buffer {
            field: field.clone(),
            ty,
            init: inline_init,
            len,
        }
    } else {
        Buffer {
            field: field.clone(),
            ty: quote!(::std::boxed::Box<#ty>),
            init: boxed_init,
            len,
        }
    }
}

fn layer_buffers(plan: &Plan, layer: &DensePlan) -> Vec<Buffer> {
    let (in_c, out_c) = (&layer.in_const, &layer.out_const);
    let (in_c, out_c) = (quote!(#in_c), quote!(#out_c));
    let batch = quote!(BATCH);
    let weights = Some((&out_c, layer.outputs));
    let mut buffers = vec![
        buffer(&layer.w, weights, (&in_c, layer.inputs)),
        buffer(&layer.b, None, (&out_c, layer.outputs)),
        buffer(&layer.gw, weights, (&in_c, layer.inputs)),
        buffer(&layer.gb, None, (&out_c, layer.outputs)),
    ];
    let states = [(&layer.vw, &layer.vb), (&layer.sw, &layer.sb)];
    for (sw, sb) in states.into_iter().take(plan.optimizer.state_buffers()) {
        buffers.push(buffer(sw, weights, (&in_c, layer.inputs)));
        buffers.push(buffer(sb, None, (&out_c, layer.outputs)));
    }
    buffers.push(buffer(
        &layer.y,
        Some((&batch, plan.batch)),
        (&out_c, layer.outputs),
    ));
    buffers.push(buffer(
        &layer.dz,
        Some((&batch, plan.batch)),
        (&out_c, layer.outputs),
    ));
    if let Some(dropout) = &layer.dropout {
        buffers.push(buffer(
            &dropout.mask,
            Some((&batch, plan.batch)),
            (&out_c, layer.outputs),
        ));
    }
    buffers
}

/// Every buffer of the model: the masked input (input dropout), then layer by layer.
fn all_buffers(plan: &Plan) -> Vec<Buffer> {
    let mut buffers = Vec::new();
    if let Some(dropout) = &plan.input_dropout {
        let features = plan.net.model.input.features();
        buffers.push(buffer(
            &dropout.mask,
            Some((&quote!(BATCH), plan.batch)),
            (&quote!(INPUT), features),
        ));
    }
    if let Some((shift, scale)) = &plan.input_stage {
        let features = plan.net.model.input.features();
        buffers.push(buffer(shift, None, (&quote!(INPUT), features)));
        buffers.push(buffer(scale, None, (&quote!(INPUT), features)));
    }
    if let Some(xf) = &plan.normalized_input {
        let features = plan.net.model.input.features();
        buffers.push(buffer(
            xf,
            Some((&quote!(BATCH), plan.batch)),
            (&quote!(INPUT), features),
        ));
    }
    for layer in &plan.dense {
        buffers.extend(layer_buffers(plan, layer));
        buffers.extend(crate::batchnorm::buffers(plan, layer));
    }
    buffers
}

/// Values (of the float type) in every buffer of the model: what sema's memory estimate
/// counts as parameters and activations, held to it by a test.
pub(crate) fn buffer_values(plan: &Plan) -> u64 {
    all_buffers(plan).iter().map(|b| b.len as u64).sum()
}

/// `pub struct Model`, its inherent helpers, and the allocation helpers it uses.
pub fn model_struct(plan: &Plan) -> TokenStream {
    let buffers = all_buffers(plan);
    let fields: Vec<_> = buffers.iter().map(|b| &b.field).collect();
    let types: Vec<_> = buffers.iter().map(|b| &b.ty).collect();
    let grad_tensors = tensor_list(
        plan,
        |l| (&l.gw, &l.gb),
        quote!(TensorRef),
        quote!(as_flattened),
        quote!(&),
        true,
    );
    let epochs = schedule::counts_epochs(plan).then(|| {
        quote! {
            /// Epochs completed (for schedules measured in epochs).
            epochs: u64,
        }
    });
    let dropout_rng = dropout::used(plan).then(|| {
        quote! {
            /// State of the dropout mask generator.
            dropout_rng: u64,
        }
    });
    let inspect = dropout::inspect_fns(plan);
    let inspect_batchnorm = crate::batchnorm::inspect_fns(plan);
    quote! {
        /// The model: every buffer it will ever use, allocated once in `new`.
        pub struct Model {
            hyper: Hyper,
            steps: u64,
            #epochs
            #dropout_rng
            #( #fields: #types, )*
        }

        impl Model {
            /// Gradients of the last `train_step` (same names and shapes as `tensors`); for
            /// gradient checks.
            #[doc(hidden)]
            pub fn grad_tensors(&self) -> ::std::vec::Vec<rt::TensorRef<'_, F>> {
                #grad_tensors
            }
        }

        #inspect

        #inspect_batchnorm

        /// A zeroed `R × C` buffer allocated directly on the heap (never on the stack).
        #[allow(dead_code)]
        fn zeroed_rows<const R: usize, const C: usize>() -> ::std::boxed::Box<[[F; C]; R]> {
            let rows: ::std::boxed::Box<[[F; C]]> = ::std::vec![[0.0 as F; C]; R].into_boxed_slice();
            match rows.try_into() {
                ::core::result::Result::Ok(rows) => rows,
                ::core::result::Result::Err(_) => ::core::unreachable!("the vector has exactly R rows"),
            }
        }

        #[allow(dead_code)]
        fn zeroed<const N: usize>() -> ::std::boxed::Box<[F; N]> {
            let values: ::std::boxed::Box<[F]> = ::std::vec![0.0 as F; N].into_boxed_slice();
            match values.try_into() {
                ::core::result::Result::Ok(values) => values,
                ::core::result::Result::Err(_) => ::core::unreachable!("the vector has exactly N values"),
            }
        }
    }
}

/// The body of `Network::new`: allocate, then initialize layer by layer from one stream.
pub fn new_fn(plan: &Plan) -> TokenStream {
    let buffers = all_buffers(plan);
    let fields: Vec<_> = buffers.iter().map(|b| &b.field).collect();
    let inits: Vec<_> = buffers.iter().map(|b| &b.init).collect();
    let fills = plan.dense.iter().map(|layer| {
        let (w, b, in_c, out_c) = (&layer.w, &layer.b, &layer.in_const, &layer.out_const);
        let w_init = init_expr(layer.init);
        let b_init = init_expr(layer.bias_init);
        quote! {
            rt::init::fill(model.#w.as_flattened_mut(), #w_init, #in_c, #out_c, &mut rng);
            rt::init::fill(&mut model.#b[..], #b_init, #in_c, #out_c, &mut rng);
        }
    });
    let batchnorm_init = crate::batchnorm::init(plan);
    // The input stage starts as the identity; the driver fills it from the training split.
    let input_stage_init = plan
        .input_stage
        .as_ref()
        .map(|(_, scale)| quote!(model.#scale.fill(1.0);));
    let epochs = schedule::counts_epochs(plan).then(|| quote!(epochs: 0,));
    let dropout_rng = dropout::used(plan)
        .then(|| quote!(dropout_rng: rt::Rng::new(seed, rt::streams::DROPOUT).next_u64(),));
    quote! {
        fn new(hyper: Hyper, seed: u64) -> Self {
            let mut rng = rt::Rng::new(seed, rt::streams::INIT);
            let mut model = Model { hyper, steps: 0, #epochs #dropout_rng #( #fields: #inits, )* };
            #( #fills )*
            #batchnorm_init
            #input_stage_init
            model
        }
    }
}

fn init_expr(init: netc_sema::ir::Init) -> TokenStream {
    use netc_sema::ir::Init;
    match init {
        Init::Zeros => quote!(rt::Init::Zeros),
        Init::Normal { std } => {
            let std = f32_lit(std);
            quote!(rt::Init::Normal { std: #std })
        }
        Init::Uniform { a } => {
            let a = f32_lit(a);
            quote!(rt::Init::Uniform { a: #a })
        }
        Init::Xavier => quote!(rt::Init::Xavier),
        Init::Glorot => quote!(rt::Init::Glorot),
        Init::He => quote!(rt::Init::He),
    }
}

/// `tensors` and `tensors_mut`: PyTorch names, `[out, in]` weights.
pub fn tensor_fns(plan: &Plan) -> TokenStream {
    let refs = tensor_list(
        plan,
        |l| (&l.w, &l.b),
        quote!(TensorRef),
        quote!(as_flattened),
        quote!(&),
        false,
    );
    let muts = tensor_list(
        plan,
        |l| (&l.w, &l.b),
        quote!(TensorMut),
        quote!(as_flattened_mut),
        quote!(&mut),
        false,
    );
    quote! {
        fn tensors(&self) -> ::std::vec::Vec<rt::TensorRef<'_, F>> {
            #refs
        }

        fn tensors_mut(&mut self) -> ::std::vec::Vec<rt::TensorMut<'_, F>> {
            #muts
        }
    }
}

fn tensor_list(
    plan: &Plan,
    pick: impl Fn(&DensePlan) -> (&Ident, &Ident),
    kind: TokenStream,
    flatten: TokenStream,
    borrow: TokenStream,
    grads: bool,
) -> TokenStream {
    let entries = plan.dense.iter().map(|layer| {
        let batchnorm = crate::batchnorm::tensor_entries(layer, &kind, &borrow, grads);
        let (w, b) = pick(layer);
        let weight_name = format!("layers.{}.weight", layer.spec_index);
        let bias_name = format!("layers.{}.bias", layer.spec_index);
        let (in_c, out_c) = (&layer.in_const, &layer.out_const);
        quote! {
            rt::#kind { name: ::std::string::String::from(#weight_name), shape: ::std::vec![#out_c, #in_c], data: self.#w.#flatten() },
            rt::#kind { name: ::std::string::String::from(#bias_name), shape: ::std::vec![#out_c], data: #borrow self.#b[..] },
            #batchnorm
        }
    });
    // The input stage (persistent, not trainable) comes first; never among the gradients.
    let input_stage = plan.input_stage.as_ref().filter(|_| !grads).map(|(shift, scale)| {
        quote! {
            rt::#kind { name: ::std::string::String::from(rt::preprocess::SHIFT_TENSOR), shape: ::std::vec![INPUT], data: #borrow self.#shift[..] },
            rt::#kind { name: ::std::string::String::from(rt::preprocess::SCALE_TENSOR), shape: ::std::vec![INPUT], data: #borrow self.#scale[..] },
        }
    });
    quote!(::std::vec![ #input_stage #( #entries )* ])
}

/// `input_stage_mut` for a model with `preprocess` (the trait's default says it has none).
pub fn input_stage_fn(plan: &Plan) -> TokenStream {
    let Some((shift, scale)) = plan.input_stage.as_ref() else {
        return quote!();
    };
    quote! {
        fn input_stage_mut(&mut self) -> ::core::option::Option<rt::InputStage<'_, F>> {
            ::core::option::Option::Some(rt::InputStage { shift: &mut self.#shift[..], scale: &mut self.#scale[..] })
        }
    }
}

/// `optimizer_state`, `optimizer_state_mut`, `counters`, `set_counters`: everything a step
/// changes besides `tensors()`, so a saved run resumes bit for bit. Slots carry PyTorch's
/// optimizer-state names (`layers.0.weight.exp_avg`).
pub fn run_state_fns(plan: &Plan) -> TokenStream {
    let slot_names = optimizer_slot_names(plan.optimizer);
    let slots = |kind: TokenStream, flatten: TokenStream, borrow: TokenStream| {
        let entries = plan.dense.iter().flat_map(|layer| {
            let (in_c, out_c) = (&layer.in_const, &layer.out_const);
            let i = layer.spec_index;
            let dense = [(&layer.vw, &layer.vb), (&layer.sw, &layer.sb)];
            let bn = layer.batchnorm.as_ref();
            let mut entries = Vec::new();
            for ((sw, sb), slot) in dense.into_iter().zip(slot_names) {
                let (w_name, b_name) = (
                    format!("layers.{i}.weight.{slot}"),
                    format!("layers.{i}.bias.{slot}"),
                );
                entries.push(quote! {
                    rt::#kind { name: ::std::string::String::from(#w_name), shape: ::std::vec![#out_c, #in_c], data: self.#sw.#flatten() },
                    rt::#kind { name: ::std::string::String::from(#b_name), shape: ::std::vec![#out_c], data: #borrow self.#sb[..] },
                });
            }
            if let Some(bn) = bn {
                let j = bn.spec_index;
                let states = [(&bn.v_gamma, &bn.v_beta), (&bn.s_gamma, &bn.s_beta)];
                for ((sg, sb), slot) in states.into_iter().zip(slot_names) {
                    let (g_name, b_name) = (
                        format!("layers.{j}.weight.{slot}"),
                        format!("layers.{j}.bias.{slot}"),
                    );
                    entries.push(quote! {
                        rt::#kind { name: ::std::string::String::from(#g_name), shape: ::std::vec![#out_c], data: #borrow self.#sg[..] },
                        rt::#kind { name: ::std::string::String::from(#b_name), shape: ::std::vec![#out_c], data: #borrow self.#sb[..] },
                    });
                }
            }
            entries
        });
        quote!(::std::vec![ #( #entries )* ])
    };
    let refs = slots(quote!(TensorRef), quote!(as_flattened), quote!(&));
    let muts = slots(quote!(TensorMut), quote!(as_flattened_mut), quote!(&mut));
    let (epochs_get, epochs_set) = if schedule::counts_epochs(plan) {
        (quote!(self.epochs), quote!(self.epochs = counters.epochs;))
    } else {
        (quote!(0), quote!())
    };
    let (dropout_get, dropout_set) = if dropout::used(plan) {
        (
            quote!(self.dropout_rng),
            quote!(self.dropout_rng = counters.dropout;),
        )
    } else {
        (quote!(0), quote!())
    };
    quote! {
        fn optimizer_state(&self) -> ::std::vec::Vec<rt::TensorRef<'_, F>> {
            #refs
        }

        fn optimizer_state_mut(&mut self) -> ::std::vec::Vec<rt::TensorMut<'_, F>> {
            #muts
        }

        fn counters(&self) -> rt::Counters {
            rt::Counters { steps: self.steps, epochs: #epochs_get, dropout: #dropout_get }
        }

        fn set_counters(&mut self, counters: rt::Counters) {
            self.steps = counters.steps;
            #epochs_set
            #dropout_set
        }
    }
}

/// The names of an optimizer's per-parameter slots (`v*`, then `s*`), as PyTorch's optimizers
/// call them in their `state_dict`; only the first `state_buffers()` exist.
fn optimizer_slot_names(optimizer: crate::plan::OptimizerPlan) -> &'static [&'static str] {
    use crate::plan::OptimizerPlan;
    match optimizer {
        OptimizerPlan::Sgd => &[],
        OptimizerPlan::Momentum { .. } => &["momentum_buffer"],
        OptimizerPlan::Adagrad { .. } => &["sum"],
        OptimizerPlan::Rmsprop { .. } => &["square_avg"],
        OptimizerPlan::Adam { .. } => &["exp_avg", "exp_avg_sq"],
    }
}
