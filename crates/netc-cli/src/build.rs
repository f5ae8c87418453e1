//! `netc build SPEC [-o DIR] [--mpi]`: check, generate the trainer project, write what changed, and
//! let cargo decide what to rebuild.

use std::path::{Path, PathBuf};

use crate::error::CliError;
use crate::render::Io;
use crate::trainer_project::{TrainerKind, TrainerProject};
use crate::{cargo, locations, pipeline};

/// A trainer that cargo built successfully.
pub struct Built {
    pub binary: PathBuf,
}

pub fn build(
    io: &mut Io<'_>,
    spec_path: &Path,
    output: Option<&Path>,
    kind: TrainerKind,
) -> Result<Built, CliError> {
    let spec = pipeline::check_spec(io, spec_path)?;
    let main_rs = pipeline::trainer_main_rs(io, &spec)?;
    let model = spec.network.model.name.as_str();
    let dir = match output {
        Some(dir) => std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
        None => locations::default_project_dir(&kind.binary_name(model)),
    };
    let project = TrainerProject::new(
        dir,
        model,
        &spec.file.name,
        main_rs,
        &locations::netc_crate_dir()?,
        locations::workspace_lockfile(),
        kind,
    );
    project.write()?;
    let target_dir = locations::trainer_target_dir();
    cargo::build_release(io, &project.manifest_path(), &target_dir)?;
    Ok(Built {
        binary: project.binary_path(&target_dir),
    })
}
