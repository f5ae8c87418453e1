//! `netc emit SPEC [-o FILE]`: the generated Rust module, formatted.

use std::path::Path;

use crate::error::CliError;
use crate::pipeline;
use crate::render::Io;
use crate::trainer_project::write_if_changed;

pub fn emit(io: &mut Io<'_>, path: &Path, output: Option<&Path>) -> Result<(), CliError> {
    let spec = pipeline::check_spec(io, path)?;
    let source = pipeline::generate_source(io, &spec)?;
    match output {
        Some(file) => {
            write_if_changed(file, &source)?;
        }
        None => write!(io.out, "{source}")?,
    }
    Ok(())
}
