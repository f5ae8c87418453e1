//! The Cargo project `netc build` writes for one spec: a manifest, the generated `main.rs` and
//! a seeded `Cargo.lock`. Files are only rewritten when their content changes, so their mtimes
//! stay put and cargo rebuilds nothing needlessly.

use std::path::{Path, PathBuf};

use crate::error::CliError;

/// Release profile of every trainer. Dependencies (the runtime) compile once into the shared
/// target directory; what matters afterwards is how fast the one generated crate recompiles
/// at full optimization. Measured on the MNIST MLP (2 busy cores), after changing one layer
/// width: every combination of codegen-units 1/16/256 and incremental on/off took about 3 s
/// of CPU (4-6 s wall) for the trainer crate, and optimizing the dependencies with
/// codegen-units = 1 did not change `bench` throughput, so the profile stays close to cargo's:
/// - `debug = false`: no debug info to generate and link;
/// - `codegen-units = 16` (cargo's default, stated so it is not lost);
/// - `incremental = true`: small edits re-optimize only what they touch.
const RELEASE_PROFILE: &str = "\
[profile.release]
opt-level = 3
debug = false
codegen-units = 16
incremental = true
";

/// What a trainer links besides the runtime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrainerKind {
    /// One process: needs nothing but Rust.
    #[default]
    Standalone,
    /// Linked with MPI (`netc build --mpi`, the facade's feature `mpi`): runs under
    /// `mpirun -n N`, spreading search trials and bagging members over the ranks. Its package
    /// and binary are `<model>-mpi`, so it sits beside the standalone trainer in the shared
    /// target directory instead of replacing it.
    Mpi,
}

impl TrainerKind {
    /// The binary's (and the default project directory's) name.
    pub fn binary_name(self, model: &str) -> String {
        match self {
            TrainerKind::Standalone => model.to_string(),
            TrainerKind::Mpi => format!("{model}-mpi"),
        }
    }

    fn netc_features(self) -> &'static str {
        match self {
            TrainerKind::Standalone => "",
            TrainerKind::Mpi => ", features = [\"mpi\"]",
        }
    }
}

/// A trainer project, in memory until [`TrainerProject::write`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrainerProject {
    pub dir: PathBuf,
    /// The binary's name: the model's (a valid identifier, checked by the front end), with
    /// `-mpi` for an MPI trainer.
    pub binary: String,
    pub cargo_toml: String,
    pub main_rs: String,
    /// Copied to `Cargo.lock` when the project has none or an older one; cargo prunes the
    /// copy to what the trainer uses (a newer file), so it is copied again only after the
    /// seed changes. Replacing the lock does not make cargo recompile anything.
    pub seed_lockfile: Option<PathBuf>,
}

impl TrainerProject {
    pub fn new(
        dir: PathBuf,
        model: &str,
        source_name: &str,
        main_rs: String,
        netc_crate: &Path,
        seed_lockfile: Option<PathBuf>,
        kind: TrainerKind,
    ) -> Self {
        TrainerProject {
            dir,
            binary: kind.binary_name(model),
            cargo_toml: cargo_toml(&kind.binary_name(model), source_name, netc_crate, kind),
            main_rs,
            seed_lockfile,
        }
    }

    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join("Cargo.toml")
    }

    /// Where cargo puts the trainer when building with `--release --target-dir target_dir`.
    pub fn binary_path(&self, target_dir: &Path) -> PathBuf {
        target_dir
            .join("release")
            .join(format!("{}{}", self.binary, std::env::consts::EXE_SUFFIX))
    }

    /// Writes the files that differ from what is on disk; returns how many were written.
    pub fn write(&self) -> Result<usize, CliError> {
        let mut written = 0;
        written += write_if_changed(&self.manifest_path(), &self.cargo_toml)? as usize;
        written += write_if_changed(&self.dir.join("src").join("main.rs"), &self.main_rs)? as usize;
        let lockfile = self.dir.join("Cargo.lock");
        if let Some(seed) = &self.seed_lockfile
            && is_stale(&lockfile, seed)
        {
            std::fs::copy(seed, &lockfile).map_err(|source| CliError::Write {
                path: lockfile,
                source,
            })?;
            written += 1;
        }
        Ok(written)
    }
}

/// Whether `copy` is missing or older than `original`.
fn is_stale(copy: &Path, original: &Path) -> bool {
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    match (modified(copy), modified(original)) {
        (Some(copied), Some(seeded)) => copied < seeded,
        (None, _) => true,
        (Some(_), None) => false,
    }
}

/// The trainer's manifest. The empty `[workspace]` keeps it out of any enclosing workspace
/// (the default project directory is inside netc's own).
pub fn cargo_toml(binary: &str, source_name: &str, netc_crate: &Path, kind: TrainerKind) -> String {
    let netc_path = toml_string(&netc_crate.display().to_string());
    format!(
        "# @generated by netc from {source}; `netc build` rewrites this file.\n\
         [package]\n\
         name = \"{binary}-trainer\"\n\
         version = \"0.1.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\
         \n\
         [[bin]]\n\
         name = \"{binary}\"\n\
         path = \"src/main.rs\"\n\
         \n\
         [dependencies]\n\
         netc = {{ path = {netc_path}, default-features = false{features} }}\n\
         \n\
         [workspace]\n\
         \n\
         {RELEASE_PROFILE}",
        source = source_name.replace('\n', " "),
        features = kind.netc_features(),
    )
}

/// Writes `contents` to `path` (creating parent directories) unless it already holds exactly
/// that; returns whether it wrote.
pub fn write_if_changed(path: &Path, contents: &str) -> Result<bool, CliError> {
    if std::fs::read(path).is_ok_and(|old| old == contents.as_bytes()) {
        return Ok(false);
    }
    let write = || -> std::io::Result<()> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, contents)
    };
    write().map_err(|source| CliError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(true)
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
pub(crate) fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}
