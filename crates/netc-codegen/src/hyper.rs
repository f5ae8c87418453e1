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
    pub expected: &'static str,
}

impl Field {
    /// A field of the model's float type `F` with the spec's value as default.
    pub fn float(
        name: impl Into<String>,
        default: f64,
        valid: TokenStream,
        expected: &'static str,
    ) -> Field {
        Field {
            name: name.into(),
            ty: quote!(F),
            default: float_lit(default),
            valid,
            expected,
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
    let expected: Vec<_> = fields.iter().map(|f| f.expected).collect();
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
        expected: "a number > 0",
    }];
    fields.extend(crate::optimizer::hyper_fields(plan));
    fields.extend(crate::schedule::hyper_fields(plan));
    fields.extend(crate::regularize::hyper_fields(plan));
    fields.extend(crate::dropout::hyper_fields(plan));
    fields.push(Field {
        name: "epochs".to_owned(),
        ty: quote!(usize),
        default: usize_lit(train.epochs),
        valid: quote!(value >= 1.0 && value.fract() == 0.0 && value <= 1e9),
        expected: "a whole number >= 1",
    });
    fields
}
