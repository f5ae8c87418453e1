//! `Hyper`: the spec's scalar hyperparameters as fields (defaults from the spec), settable
//! by name with range checks so trainer flags change them without a rebuild.

use proc_macro2::TokenStream;
use quote::quote;

use crate::plan::{Plan, float_lit, usize_lit};

pub struct Field {
    pub name: String,
    pub ty: TokenStream,
    pub default: TokenStream,
    /// Condition on `value: f64` that must hold, and the message when it does not.
    pub valid: TokenStream,
    pub expected: String,
}

impl Field {
    /// A field of the model's float type `F` with the spec's value as default.
    pub fn float(
        name: impl Into<String>,
        default: f64,
        valid: TokenStream,
        expected: impl Into<String>,
    ) -> Field {
        Field {
            name: name.into(),
            ty: quote!(F),
            default: float_lit(default),
            valid,
            expected: expected.into(),
        }
    }

    /// A coefficient in [0, 1) (μ, ρ, β).
    pub fn unit(name: impl Into<String>, default: f64) -> Field {
        Field::float(
            name,
            default,
            quote!((0.0..1.0).contains(&value)),
            "a number in [0, 1)",
        )
    }

    pub fn positive(name: impl Into<String>, default: f64) -> Field {
        Field::float(name, default, quote!(value > 0.0), "a number > 0")
    }

    pub fn non_negative(name: impl Into<String>, default: f64) -> Field {
        Field::float(name, default, quote!(value >= 0.0), "a number >= 0")
    }
}

pub fn hyper(plan: &Plan) -> TokenStream {
    let fields = fields(plan);
    let idents: Vec<_> = fields
        .iter()
        .map(|f| syn::Ident::new(&f.name, proc_macro2::Span::call_site()))
        .collect();
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    let types: Vec<_> = fields.iter().map(|f| &f.ty).collect();
    let defaults: Vec<_> = fields.iter().map(|f| &f.default).collect();
    let valid: Vec<_> = fields.iter().map(|f| &f.valid).collect();
    let expected: Vec<_> = fields.iter().map(|f| f.expected.as_str()).collect();
    quote! {
        /// Scalar hyperparameters; `Default` holds the spec's values.
        #[derive(Clone, Debug, PartialEq)]
        pub struct Hyper {
            #( pub #idents: #types, )*
        }

        impl ::core::default::Default for Hyper {
            fn default() -> Self {
                Hyper { #( #idents: #defaults, )* }
            }
        }

        impl rt::Hyperparams for Hyper {
            fn names() -> &'static [&'static str] {
                &[#( #names ),*]
            }

            fn get(&self, name: &str) -> ::core::option::Option<f64> {
                match name {
                    #( #names => ::core::option::Option::Some(self.#idents as f64), )*
                    _ => ::core::option::Option::None,
                }
            }

            fn set(&mut self, name: &str, value: f64) -> ::core::result::Result<(), rt::Error> {
                match name {
                    #(
                        #names => {
                            if !(value.is_finite() && #valid) {
                                return ::core::result::Result::Err(rt::Error::Usage(::std::format!(
                                    "hyperparameter `{}` = {}: expected {}", #names, value, #expected
                                )));
                            }
                            self.#idents = value as #types;
                            ::core::result::Result::Ok(())
                        }
                    )*
                    _ => ::core::result::Result::Err(rt::Error::Usage(::std::format!(
                        "unknown hyperparameter `{}`; this model has: {}",
                        name,
                        <Hyper as rt::Hyperparams>::names().join(", ")
                    ))),
                }
            }
        }
    }
}

fn fields(plan: &Plan) -> Vec<Field> {
    let train = &plan.net.train;
    let mut fields = vec![Field {
        name: "learning_rate".to_owned(),
        ty: quote!(F),
        default: float_lit(train.learning_rate.base),
        valid: quote!(value > 0.0),
        expected: "a number > 0".to_owned(),
    }];
    fields.extend(crate::optimizer::hyper_fields(plan));
    fields.extend(crate::schedule::hyper_fields(plan));
    fields.extend(crate::regularize::hyper_fields(plan));
    fields.extend(crate::dropout::hyper_fields(plan));
    // The same range as the spec's `epochs` and the trainer's `--epochs` (one shared table).
    let epochs = netc_limits::EPOCHS;
    let min = proc_macro2::Literal::f64_unsuffixed(epochs.min as f64);
    let max = proc_macro2::Literal::f64_unsuffixed(epochs.max as f64);
    fields.push(Field {
        name: "epochs".to_owned(),
        ty: quote!(usize),
        default: usize_lit(train.epochs),
        valid: quote!(value >= #min && value.fract() == 0.0 && value <= #max),
        expected: format!("a whole number {}", epochs.range_text()),
    });
    fields
}
