//! The CLI's only doors into the compiler: read a spec, check it, generate code. Each step
//! reports its diagnostics through [`Io`] and returns [`CliError::Reported`] when there are any.

use std::path::Path;

use netc_sema::ir::Network;
use netc_syntax::{Diagnostic, SourceFile};

use crate::error::CliError;
use crate::render::Io;

/// A spec that read and checked cleanly.
pub struct CheckedSpec {
    pub file: SourceFile,
    pub network: Network,
}

/// Reads `path` into a [`SourceFile`] named exactly as the user wrote the path; only a
/// regular file of at most [`netc_syntax::MAX_SPEC_BYTES`].
pub fn read_spec(path: &Path) -> Result<SourceFile, CliError> {
    let text = netc_syntax::read_spec_text(path).map_err(|source| CliError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(SourceFile::new(path.display().to_string(), text))
}

/// Reads and checks a spec, printing its diagnostics on failure.
pub fn check_spec(io: &mut Io<'_>, path: &Path) -> Result<CheckedSpec, CliError> {
    let file = read_spec(path)?;
    let network = reported(io, &file, netc_sema::check(&file))?;
    Ok(CheckedSpec { file, network })
}

/// Codegen options for code that reaches the runtime through the `netc` facade (what both
/// `emit` output and trainer projects depend on).
pub fn codegen_options(spec: &CheckedSpec) -> netc_codegen::Options {
    netc_codegen::Options {
        runtime_path: syn::parse_quote!(::netc::__private),
        source_name: spec.file.name.clone(),
        ..netc_codegen::Options::default()
    }
}

/// The generated module as formatted Rust (`netc emit`).
pub fn generate_source(io: &mut Io<'_>, spec: &CheckedSpec) -> Result<String, CliError> {
    let generated = netc_codegen::generate_source(&spec.network, &codegen_options(spec));
    reported(io, &spec.file, generated)
}

/// A complete trainer `main.rs` (`netc build`).
pub fn trainer_main_rs(io: &mut Io<'_>, spec: &CheckedSpec) -> Result<String, CliError> {
    let generated = netc_codegen::trainer_main_rs(&spec.network, &codegen_options(spec));
    reported(io, &spec.file, generated)
}

/// Prints a stage's diagnostics, turning them into [`CliError::Reported`].
fn reported<T>(
    io: &mut Io<'_>,
    file: &SourceFile,
    result: Result<T, Vec<Diagnostic>>,
) -> Result<T, CliError> {
    result.map_err(|diagnostics| {
        io.diagnostics(file, &diagnostics);
        CliError::Reported
    })
}
