//! `netc parse SPEC` and `netc ir SPEC`: the output of one compiler stage, for debugging.

use std::path::Path;

use crate::error::CliError;
use crate::pipeline;
use crate::render::Io;

/// The syntax tree, before any checking.
pub fn parse(io: &mut Io<'_>, path: &Path) -> Result<(), CliError> {
    let file = pipeline::read_spec(path)?;
    match netc_syntax::parse(&file) {
        Ok(tree) => writeln!(io.out, "{tree:#?}")?,
        Err(diagnostic) => {
            io.diagnostics(&file, &[diagnostic]);
            return Err(CliError::Reported);
        }
    }
    Ok(())
}

/// The checked IR as codegen receives it.
pub fn ir(io: &mut Io<'_>, path: &Path) -> Result<(), CliError> {
    let spec = pipeline::check_spec(io, path)?;
    writeln!(io.out, "{:#?}", spec.network)?;
    Ok(())
}
