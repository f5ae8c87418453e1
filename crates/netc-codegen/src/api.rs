//! The generated module as a whole: constants, `Hyper`, `Model`, the `Network` impl, the
//! run configuration from the spec and the user-facing free functions.

use netc_sema::ir;
use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::{Plan, usize_lit};
use crate::{backward, dropout, forward, hyper, model, optimizer, schedule};

pub fn module(plan: &Plan) -> TokenStream {
    let net = plan.net;
    let (name, rt) = (&plan.name, &plan.rt);
    let name_str = net.model.name.as_str();
    let input = usize_lit(net.model.input.features());
    let output = usize_lit(plan.output_layer().outputs);
    let batch = usize_lit(plan.batch);
    let train_flops = proc_macro2::Literal::u64_unsuffixed(net.model.train_flops);
    let spec_hash = crate::spec_hash(&net.model);
    let version = env!("CARGO_PKG_VERSION");
    let output_kind = match net.model.loss.kind {
        ir::LossKind::Softmax => quote!(Softmax),
        ir::LossKind::Logistic => quote!(Logistic),
        ir::LossKind::Mse => quote!(Linear),
    };
    // TARGET_KIND follows from it (the trait's default).
    let batch_targets = crate::backward::batch_targets_type(plan);
    let layer_consts = plan.dense.iter().map(|l| {
        let (in_c, out_c) = (&l.in_const, &l.out_const);
        let (inputs, outputs) = (usize_lit(l.inputs), usize_lit(l.outputs));
        quote! {
            const #in_c: usize = #inputs;
            const #out_c: usize = #outputs;
        }
    });
    let hyper = hyper::hyper(plan);
    let model_struct = model::model_struct(plan);
    let new_fn = model::new_fn(plan);
    let tensor_fns = model::tensor_fns(plan);
    let run_state_fns = model::run_state_fns(plan);
    let input_stage_fn = model::input_stage_fn(plan);
    let train_step = backward::train_step_fn(plan);
    let gradient = backward::gradient_fn();
    let gradient_rows = backward::gradient_rows_fn(plan);
    let apply_gradient = backward::apply_gradient_fn(plan);
    let params_const = crate::flat::params_const(plan);
    let user_fns = crate::user_fns::user_fns(net);
    let flat_fns = crate::flat::flat_fns(plan);
    let predict_batch = forward::predict_batch_fn(plan);
    let run_config = run_config(net);
    let plan_fn = crate::policy::plan_fn(net);
    let learning_rate = schedule::learning_rate_fn(plan);
    let end_epoch = schedule::end_epoch_fn(plan);
    let schedule_fns = schedule::helper_fns(plan);
    let optimizer_fns = optimizer::helper_fns(plan);
    let dropout_fns = dropout::helper_fns(plan);
    let precision = crate::plan::precision_items(net);
    // The buffers this model allocates (exactly what sema's estimate counts, a test holds
    // them equal) plus the full-batch solver's vectors, which only sema estimates.
    let memory = netc_sema::memory::estimate(net);
    let model_bytes = proc_macro2::Literal::u64_unsuffixed(
        model::buffer_values(plan)
            .saturating_mul(memory.float_bytes)
            .saturating_add(memory.solver),
    );
    quote! {
        #[allow(clippy::all, clippy::pedantic, dead_code, unused_parens, non_upper_case_globals)]
        pub mod #name {
            use #rt as rt;
            use ::std::path::Path;
            #precision

            /// Features per sample.
            pub const INPUT: usize = #input;
            /// Units of the output layer.
            pub const OUTPUT: usize = #output;
            /// Samples per training step.
            pub const BATCH: usize = #batch;
            #( #layer_consts )*

            #hyper

            #model_struct

            #schedule_fns

            #optimizer_fns

            #dropout_fns

            #gradient_rows

            impl rt::Network for Model {
                const INPUT: usize = INPUT;
                const OUTPUT: usize = OUTPUT;
                const BATCH: usize = BATCH;
                const TRAIN_FLOPS_PER_SAMPLE: u64 = #train_flops;
                const MODEL_BYTES: u64 = #model_bytes;
                const META: rt::ModelMeta = rt::ModelMeta {
                    name: #name_str,
                    spec_hash: #spec_hash,
                    netc_version: #version,
                };
                const OUTPUT_KIND: rt::OutputKind = rt::OutputKind::#output_kind;
                type BatchInput = [[F; INPUT]; BATCH];
                type BatchTargets = #batch_targets;
                type Hyper = Hyper;
                type Float = F;
                #params_const

                #new_fn

                fn hyper(&self) -> &Hyper {
                    &self.hyper
                }

                fn hyper_mut(&mut self) -> &mut Hyper {
                    &mut self.hyper
                }

                #train_step

                #gradient

                #apply_gradient

                #flat_fns

                #predict_batch

                #learning_rate

                fn steps(&self) -> u64 {
                    self.steps
                }

                #end_epoch

                #tensor_fns

                #input_stage_fn
                #run_state_fns
            }

            #run_config

            #plan_fn

            /// A model with the spec's hyperparameters, initialized from `seed`.
            pub fn new(seed: u64) -> Model {
                <Model as rt::Network>::new(Hyper::default(), seed)
            }

            #user_fns

            /// The standalone trainer's command line (`train`, `eval`, `predict`, `bench`, `hyper`).
            pub fn main() -> ::std::process::ExitCode {
                rt::trainer_main::<Model>(run_config(), Hyper::default(), plan())
            }
        }
    }
}

/// `run_config()`: the spec's run settings; paths only ever as string literals.
fn run_config(net: &ir::Network) -> TokenStream {
    let train = &net.train;
    let epochs = usize_lit(train.epochs);
    let seed = proc_macro2::Literal::u64_unsuffixed(train.seed);
    let sampling = match train.sampling.kind {
        ir::SamplingKind::Shuffle => quote!(Shuffle),
        ir::SamplingKind::WithReplacement => quote!(WithReplacement),
        ir::SamplingKind::Sequential => quote!(Sequential),
    };
    let data = match &net.data {
        None => quote!(::core::option::Option::None),
        Some(data) => {
            let train_source = source(&data.train);
            let test_source = match &data.test {
                Some(test) => {
                    let test = source(test);
                    quote!(::core::option::Option::Some(#test))
                }
                None => quote!(::core::option::Option::None),
            };
            let validation = match data.validation.size {
                ir::ValidationSize::None => quote!(rt::ValidationSplit::None),
                ir::ValidationSize::Count(n) => {
                    let n = usize_lit(n);
                    quote!(rt::ValidationSplit::Count(#n))
                }
                ir::ValidationSize::Fraction(f) => {
                    let f = proc_macro2::Literal::f64_suffixed(if f.is_finite() { f } else { 0.0 });
                    quote!(rt::ValidationSplit::Fraction(#f))
                }
            };
            let scale = proc_macro2::Literal::f64_suffixed(data.scale);
            quote! {
                ::core::option::Option::Some(rt::DataConfig {
                    train: #train_source,
                    test: #test_source,
                    validation: #validation,
                    scale: #scale,
                    base_dir: ::core::option::Option::None,
                })
            }
        }
    };
    let early_stopping = match &train.early_stopping {
        None => quote!(::core::option::Option::None),
        Some(early) => {
            let patience = usize_lit(early.patience);
            let metric = match early.monitor {
                ir::Metric::ValLoss => quote!(ValLoss),
                ir::Metric::ValAccuracy => quote!(ValAccuracy),
                ir::Metric::TrainLoss => quote!(TrainLoss),
                ir::Metric::TrainAccuracy => quote!(TrainAccuracy),
            };
            // Sema only guarantees ≥ 0; the runtime refuses an infinite one with a message.
            let min_delta = if early.min_delta.is_finite() {
                let min_delta = proc_macro2::Literal::f64_suffixed(early.min_delta);
                quote!(#min_delta)
            } else {
                quote!(::core::f64::INFINITY)
            };
            let restore_best = early.restore_best;
            quote! {
                ::core::option::Option::Some(rt::EarlyStopping {
                    patience: #patience,
                    monitor: rt::Metric::#metric,
                    min_delta: #min_delta,
                    restore_best: #restore_best,
                })
            }
        }
    };
    let monitor = {
        let grad_norm = train.monitor.grad_norm;
        let curvature_every = interval(train.monitor.curvature.then_some(train.monitor.every));
        quote!(rt::MonitorConfig { grad_norm: #grad_norm, curvature_every: #curvature_every })
    };
    let save_every = interval(train.save_every);
    let full_batch = crate::policy::full_batch_solver(net);
    let preprocess = crate::policy::preprocess(net);
    let augment = crate::policy::augment(net);
    quote! {
        /// The spec's run settings (trainer flags override them).
        pub fn run_config() -> rt::RunConfig {
            rt::RunConfig {
                epochs: #epochs,
                sampling: rt::Sampling::#sampling,
                seed: #seed,
                max_steps: ::core::option::Option::None,
                data: #data,
                metrics_path: ::core::option::Option::None,
                checkpoint_path: ::core::option::Option::None,
                init_weights: ::core::option::Option::None,
                verbose: false,
                early_stopping: #early_stopping,
                monitor: #monitor,
                save: rt::SaveConfig {
                    state_path: ::core::option::Option::None,
                    every: #save_every,
                    resume: ::core::option::Option::None,
                },
                full_batch: #full_batch,
                preprocess: #preprocess,
                augment: #augment,
                data_parallel: false,
            }
        }
    }
}

/// `Option<rt::Interval>` from a spec duration.
fn interval(duration: Option<ir::Duration>) -> TokenStream {
    match duration {
        None => quote!(::core::option::Option::None),
        Some(ir::Duration::Steps(n)) => {
            let n = proc_macro2::Literal::u64_unsuffixed(n);
            quote!(::core::option::Option::Some(rt::Interval::Steps(#n)))
        }
        Some(ir::Duration::Epochs(n)) => {
            let n = proc_macro2::Literal::u64_unsuffixed(n);
            quote!(::core::option::Option::Some(rt::Interval::Epochs(#n)))
        }
    }
}

fn source(source: &ir::Source) -> TokenStream {
    match &source.kind {
        ir::SourceKind::Idx { images, labels } => quote! {
            rt::DataSource::Idx {
                images: ::std::path::PathBuf::from(#images),
                labels: ::std::path::PathBuf::from(#labels),
            }
        },
        ir::SourceKind::Csv {
            path,
            header,
            targets: Some(columns),
            ..
        } => {
            let first = proc_macro2::Literal::i64_unsuffixed(columns.first);
            let last = proc_macro2::Literal::i64_unsuffixed(columns.last);
            quote! {
                rt::DataSource::CsvTargets {
                    path: ::std::path::PathBuf::from(#path),
                    first: #first,
                    last: #last,
                    header: #header,
                }
            }
        }
        ir::SourceKind::Csv {
            path,
            label_column,
            header,
            targets: None,
        } => {
            let label_column = proc_macro2::Literal::i64_unsuffixed(*label_column);
            quote! {
                rt::DataSource::Csv {
                    path: ::std::path::PathBuf::from(#path),
                    label_column: #label_column,
                    header: #header,
                }
            }
        }
    }
}
