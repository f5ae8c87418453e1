//! The `net!` macro: glue over `netc_codegen::compile` (no compiler logic here).
//!
//! - `net!(include "specs/xor.net")`: the file, relative to the calling crate's
//!   `CARGO_MANIFEST_DIR`;
//! - `net! { model xor { … } train { … } }`: the spec inline, written with Rust tokens
//!   (`//` comments; `#` comments are not Rust tokens).
//!
//! Both expand to the generated module; errors become `compile_error!` with netc's rendered
//! diagnostic, at the path literal or at the exact offending token.

mod expand;
mod inline_text;

/// Generates a specialized trainer module from a `.net` spec (see the crate docs).
#[proc_macro]
pub fn net(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    expand::net(input.into()).into()
}
