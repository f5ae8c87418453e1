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
    let text = match std::fs::read_to_string(&full) {
        Ok(text) => text,
        Err(error) => {
            let diagnostic = Diagnostic::error(ErrorCode::Io, format!("cannot read spec `{written}`: {error}"))
                .with_note("the path is relative to the calling crate's manifest directory (CARGO_MANIFEST_DIR)");
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
