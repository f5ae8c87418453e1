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
    /// The `rt::SearchTarget` variant whose draws this field takes, if a search can vary it.
    pub searched: Option<TokenStream>,
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
            searched: None,
        }
    }

    /// This field takes the draws of a search varying `target` (an `rt::SearchTarget` variant).
    pub fn searched_as(mut self, target: TokenStream) -> Field {
        self.searched = Some(target);
        self
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
    let checked: Vec<_> = fields
        .iter()
        .map(|f| quote::format_ident!("set_checked_{}", f.name))
        .collect();
    let searched = searched_arms(&fields, &checked);
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

        // One range-checked setter per field, shared by `set` (by name) and `set_searched`.
        impl Hyper {
            #(
                fn #checked(&mut self, value: f64) -> ::core::result::Result<(), rt::Error> {
                    self.#idents = rt::checked_hyper(#names, value, #valid, #expected)? as #types;
                    ::core::result::Result::Ok(())
                }
            )*
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
                    #( #names => self.#checked(value), )*
                    _ => ::core::result::Result::Err(rt::Error::Usage(::std::format!(
                        "unknown hyperparameter `{}`; this model has: {}",
                        name,
                        <Hyper as rt::Hyperparams>::names().join(", ")
                    ))),
                }
            }

            #[allow(unreachable_patterns)]
            fn set_searched(
                &mut self,
                target: rt::SearchTarget,
                value: f64,
            ) -> ::core::result::Result<(), rt::Error> {
                match target {
                    #searched
                    _ => ::core::result::Result::Err(rt::Error::Usage(::std::format!(
                        "search varies `{}`, but model `{}` has no such hyperparameter (it has: {})",
                        target.name(),
                        <Model as rt::Network>::META.name,
                        <Hyper as rt::Hyperparams>::names().join(", ")
                    ))),
                }
            }
        }
    }
}

/// One match arm per search target some field takes: it sets each of those fields.
fn searched_arms(fields: &[Field], checked: &[syn::Ident]) -> TokenStream {
    let mut targets: Vec<(String, TokenStream, Vec<&syn::Ident>)> = Vec::new();
    for (field, setter) in fields.iter().zip(checked) {
        let Some(target) = &field.searched else {
            continue;
        };
        let key = target.to_string();
        match targets.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, setters)) => setters.push(setter),
            None => targets.push((key, target.clone(), vec![setter])),
        }
    }
    let arms = targets.iter().map(|(_, target, setters)| {
        quote! {
            rt::SearchTarget::#target => {
                #( self.#setters(value)?; )*
                ::core::result::Result::Ok(())
            }
        }
    });
    quote!(#( #arms )*)
}

fn fields(plan: &Plan) -> Vec<Field> {
    let train = &plan.net.train;
    let mut fields = vec![Field {
        name: "learning_rate".to_owned(),
        ty: quote!(F),
        default: float_lit(train.learning_rate.base),
        valid: quote!(value > 0.0),
        expected: "a number > 0".to_owned(),
        searched: Some(quote!(LearningRate)),
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
        searched: None,
    });
    fields
}
