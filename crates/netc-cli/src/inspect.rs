//! `netc ir SPEC`: the checked IR as codegen receives it — a debugging view of one stage.

use std::path::Path;

use crate::error::CliError;
use crate::pipeline;
use crate::render::Io;

pub fn ir(io: &mut Io<'_>, path: &Path) -> Result<(), CliError> {
    let spec = pipeline::check_spec(io, path)?;
    writeln!(io.out, "{:#?}", spec.network)?;
    Ok(())
}
