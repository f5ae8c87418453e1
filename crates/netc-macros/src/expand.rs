//! The macro's two forms, one driver (`netc_codegen::compile`), errors as `compile_error!`.

use std::path::PathBuf;

use netc_codegen::Options;
use netc_syntax::{Diagnostic, ErrorCode, SourceFile, render_plain};
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::quote;

use crate::inline_text::InlineText;

pub fn net(input: TokenStream) -> TokenStream {
    match include_path(&input) {
        Some(path) => include(&path),
        None => inline(input),
    }
}

/// `include "path"` → the path literal.
fn include_path(input: &TokenStream) -> Option<syn::LitStr> {
    let mut trees = input.clone().into_iter();
    match (trees.next(), trees.next(), trees.next()) {
        (Some(TokenTree::Ident(keyword)), Some(TokenTree::Literal(literal)), None)
            if keyword == "include" =>
        {
            syn::parse2::<syn::LitStr>(TokenTree::Literal(literal).into()).ok()
        }
        _ => None,
    }
}

fn include(path: &syn::LitStr) -> TokenStream {
    let written = path.value();
    let Ok(manifest_dir) = std::env::var("CARGO_MANIFEST_DIR") else {
        return error_at(
            path.span(),
            "net!: CARGO_MANIFEST_DIR is not set (run the build through cargo)",
        );
    };
    let full: PathBuf = PathBuf::from(manifest_dir).join(&written);
    let text = match netc_syntax::read_spec_text(&full) {
        Ok(text) => text,
        Err(error) => {
            let mut diagnostic = Diagnostic::error(
                ErrorCode::Io,
                format!("cannot read spec `{written}`: {error}"),
            );
            if error.kind() == std::io::ErrorKind::NotFound {
                diagnostic = diagnostic.with_note("the path is relative to the calling crate's manifest directory (CARGO_MANIFEST_DIR)");
            }
            let src = SourceFile::new(written, String::new());
            return error_at(path.span(), &render_plain(&src, &[diagnostic]));
        }
    };
    let Some(full_str) = full.to_str() else {
        return error_at(path.span(), "net!: the spec's path is not valid UTF-8");
    };
    let src = SourceFile::new(written, text);
    match netc_codegen::compile(&src, &Options::default()) {
        Ok(module) => quote! {
            #module
            // Rebuilds the calling crate when the spec changes.
            const _: &str = ::core::include_str!(#full_str);
        },
        Err(diagnostics) => errors(&src, &diagnostics, |_| path.span()),
    }
}

fn inline(input: TokenStream) -> TokenStream {
    let inline = InlineText::new(input);
    let src = SourceFile::new("<inline>", inline.text.clone());
    match netc_codegen::compile(&src, &Options::default()) {
        Ok(module) => module,
        Err(diagnostics) => errors(&src, &diagnostics, |offset| inline.span_at(offset)),
    }
}

/// One `compile_error!` per diagnostic, each at the token its primary label points to.
fn errors(
    src: &SourceFile,
    diagnostics: &[Diagnostic],
    span_at: impl Fn(usize) -> Span,
) -> TokenStream {
    let mut combined: Option<syn::Error> = None;
    for diagnostic in diagnostics {
        let offset = diagnostic
            .primary_span()
            .map_or(0, |span| span.start as usize);
        let error = syn::Error::new(
            span_at(offset),
            render_plain(src, std::slice::from_ref(diagnostic)),
        );
        match &mut combined {
            Some(all) => all.combine(error),
            None => combined = Some(error),
        }
    }
    match combined {
        Some(error) => error.to_compile_error(),
        None => error_at(
            Span::call_site(),
            "net!: the spec was rejected without a diagnostic",
        ),
    }
}

fn error_at(span: Span, message: &str) -> TokenStream {
    syn::Error::new(span, message).to_compile_error()
}

#[cfg(test)]
mod tests {
    use super::net;

    fn expand(src: &str) -> String {
        net(src.parse().unwrap()).to_string()
    }

    #[test]
    fn inline_spec_expands_to_its_module() {
        let out = expand("model small { input 2 dense 3 relu dense 2 loss softmax }");
        assert!(out.contains("pub mod small"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn rust_token_spacing_is_read_back_by_the_grammar() {
        let out = expand(
            r#"model m { input 28x28x1 dense 10 init=xavier loss softmax }
               data { train csv("a.csv", label=-1, header=true) validation 10% scale 1/255 }
               train { optimizer momentum(mu=0.9) learning_rate 1e-3 batch 16 }"#,
        );
        assert!(out.contains("pub mod m"), "{out}");
        assert!(out.contains("label_column : - 1"), "{out}");
    }

    #[test]
    fn inline_errors_become_compile_errors_with_the_rendered_diagnostic() {
        let out = expand("model small { input 2 dense 3 rleu dense 2 loss softmax }");
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("did you mean `relu`?"), "{out}");
        assert!(!out.contains("pub mod small"), "{out}");
    }

    #[test]
    fn include_of_a_missing_file_is_an_error_not_a_panic() {
        let out = expand(r#"include "no/such/spec.net""#);
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("cannot read spec `no/such/spec.net`"), "{out}");
    }

    #[test]
    fn include_reads_relative_to_the_manifest_and_tracks_the_file() {
        let out = expand(r#"include "../../specs/tiny.net""#);
        assert!(out.contains("pub mod tiny"), "{out}");
        assert!(out.contains("include_str"), "{out}");
    }
}
