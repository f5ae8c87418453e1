//! Arbitrary bytes as `.net` text through the one driver both front ends use
//! (`netc_codegen::compile`: parse → check → generate), then what the front ends do with the
//! result. Must never panic; every diagnostic must point inside the text and render.
//!
//! With `NETC_FUZZ_PARSE_OUTPUT=1` the generated tokens must also parse as a Rust file (what
//! `netc emit` and the macro rely on). Off by default: `syn` parsing the generated module costs
//! about seven times the compile itself (measured with perf on specs/tiny.net).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use netc_codegen::Options;
use netc_fuzz::check_diagnostics;
use netc_syntax::SourceFile;

static PARSE_OUTPUT: LazyLock<bool> =
    LazyLock::new(|| std::env::var_os("NETC_FUZZ_PARSE_OUTPUT").is_some_and(|v| v == "1"));

fuzz_target!(|data: &[u8]| {
    // Specs are read with `read_to_string` (CLI) or come from Rust tokens (macro): UTF-8 only.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let src = SourceFile::new("fuzz.net", text);
    match netc_codegen::compile(&src, &Options::default()) {
        Ok(tokens) => {
            if *PARSE_OUTPUT {
                if let Err(e) = syn::parse2::<syn::File>(tokens) {
                    panic!("generated code does not parse: {e}");
                }
            }
        }
        Err(diagnostics) => check_diagnostics(&src, &diagnostics),
    }
});
