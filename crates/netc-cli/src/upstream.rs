//! TEMPORARY SHIMS until the front end's `check`/`summary`/`render_*` and codegen land in the
//! shared tree; each forwards to (or stands in for) the function of the same name upstream.

use netc_sema::ir::Network;
use netc_syntax::{Diagnostic, ErrorCode, SourceFile};

pub fn shim_check(_file: &SourceFile) -> Result<Network, Vec<Diagnostic>> {
    Err(vec![Diagnostic::error(
        ErrorCode::NotYetSupported,
        "shim: the front end is not built in",
    )])
}

pub fn shim_summary(_net: &Network) -> String {
    String::new()
}

pub fn shim_render_plain(file: &SourceFile, diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| {
            format!(
                "error[{}]: {} in {}\n",
                d.code.as_str(),
                d.message,
                file.name
            )
        })
        .collect()
}

pub struct Options {
    pub runtime_path: syn::Path,
    pub source_name: String,
}

pub fn shim_generate_source(_net: &Network, _opts: &Options) -> Result<String, Vec<Diagnostic>> {
    Ok(String::new())
}

pub fn shim_trainer_main_rs(_net: &Network, _opts: &Options) -> Result<String, Vec<Diagnostic>> {
    Ok(String::new())
}
