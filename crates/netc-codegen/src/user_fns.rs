//! The generated module's free functions (`train`, `train_with`, `train_on`, `evaluate`,
//! `predict`, `save`, `load`). A spec with an `ensemble` block trains,
//! evaluates, saves and loads `rt::Ensemble<Model>` (its `Trained` type) through the same
//! names; every other spec, one `Model`.

use netc_sema::ir;
use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::usize_lit;

pub(crate) fn vote_tokens(vote: ir::Vote) -> TokenStream {
    match vote {
        ir::Vote::Majority => quote!(Majority),
        ir::Vote::Average => quote!(Average),
    }
}

pub fn user_fns(net: &ir::Network) -> TokenStream {
    let common = quote! {
        /// Trains on the spec's `data` block with the spec's settings.
        pub fn train() -> ::core::result::Result<(Trained, TrainReport), rt::Error> {
            train_with(&run_config())
        }

        /// Trains with `cfg` (e.g. `run_config()` with another `data.base_dir`), loading
        /// the data it names.
        pub fn train_with(cfg: &rt::RunConfig) -> ::core::result::Result<(Trained, TrainReport), rt::Error> {
            let ::core::option::Option::Some(data) = &cfg.data else {
                return ::core::result::Result::Err(rt::Error::Usage(::std::string::String::from(
                    "this spec has no `data` block: pass the data in code with `train_on`",
                )));
            };
            let splits = rt::load_splits::<F>(data, cfg.seed)?;
            fit_with(cfg, &splits)
        }

        /// Trains on data built in code, with the spec's other settings.
        pub fn train_on(splits: &rt::Splits<F>) -> ::core::result::Result<(Trained, TrainReport), rt::Error> {
            fit_with(&run_config(), splits)
        }
    };
    let Some(ensemble) = &net.ensemble else {
        return quote! {
            /// What `train` returns: one model.
            pub type Trained = Model;
            pub type TrainReport = rt::Report;

            #common

            fn fit_with(cfg: &rt::RunConfig, splits: &rt::Splits<F>) -> ::core::result::Result<(Model, rt::Report), rt::Error> {
                rt::search::train_model::<Model>(cfg, Hyper::default(), splits, plan().search.as_ref())
            }

            /// Loss and accuracy on `data` (inference mode).
            pub fn evaluate(model: &mut Model, data: &rt::Dataset<F>) -> ::core::result::Result<rt::Evaluation, rt::Error> {
                rt::evaluate(model, data)
            }

            /// Outputs (probabilities) for `x.len() / INPUT` samples.
            pub fn predict(model: &mut Model, x: &[F]) -> ::core::result::Result<::std::vec::Vec<F>, rt::Error> {
                rt::predict(model, x)
            }

            pub fn save(model: &Model, path: impl AsRef<Path>) -> ::core::result::Result<(), rt::Error> {
                rt::save_checkpoint(model, path.as_ref())
            }

            pub fn load(path: impl AsRef<Path>) -> ::core::result::Result<Model, rt::Error> {
                let mut model = new(0);
                rt::load_checkpoint(&mut model, path.as_ref())?;
                ::core::result::Result::Ok(model)
            }
        };
    };
    let models = usize_lit(ensemble.models);
    let vote = vote_tokens(ensemble.vote);
    quote! {
        /// What `train` returns: the bagged members, voting together.
        pub type Trained = rt::Ensemble<Model>;
        pub type TrainReport = rt::EnsembleReport;

        /// The spec's `ensemble` line.
        pub const ENSEMBLE: rt::EnsembleConfig = rt::EnsembleConfig { models: #models, vote: rt::Vote::#vote };

        #common

        fn fit_with(cfg: &rt::RunConfig, splits: &rt::Splits<F>) -> ::core::result::Result<(Trained, TrainReport), rt::Error> {
            rt::bagging::train_ensemble::<Model>(cfg, Hyper::default(), splits, ENSEMBLE, plan().search.as_ref())
        }

        /// Loss and accuracy of the members' combined outputs on `data` (inference mode).
        pub fn evaluate(ensemble: &mut Trained, data: &rt::Dataset<F>) -> ::core::result::Result<rt::Evaluation, rt::Error> {
            ensemble.evaluate(data)
        }

        /// Combined outputs (vote fractions or mean outputs) for `x.len() / INPUT` samples.
        pub fn predict(ensemble: &mut Trained, x: &[F]) -> ::core::result::Result<::std::vec::Vec<F>, rt::Error> {
            ensemble.predict(x)
        }

        pub fn save(ensemble: &Trained, path: impl AsRef<Path>) -> ::core::result::Result<(), rt::Error> {
            rt::save_ensemble(ensemble, path.as_ref())
        }

        pub fn load(path: impl AsRef<Path>) -> ::core::result::Result<Trained, rt::Error> {
            rt::load_ensemble(&Hyper::default(), ENSEMBLE, path.as_ref())
        }
    }
}
