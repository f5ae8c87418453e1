//! Run-level settings the driver needs, filled in by generated code from the spec and then
//! overridden by trainer flags. Plain values: the runtime never sees a spec.

use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    /// IDX images + labels, gzipped (by magic bytes, not by name) or raw.
    Idx { images: PathBuf, labels: PathBuf },
    /// CSV, one sample per row; `label_column` may be negative (from the end).
    Csv {
        path: PathBuf,
        label_column: i64,
        header: bool,
    },
    /// CSV with value targets (`csv(…, targets=first..last)`: mse regression, multi-label
    /// logistic): columns `first..=last` (negative counts from the end) are the targets, every
    /// other column is a feature.
    CsvTargets {
        path: PathBuf,
        first: i64,
        last: i64,
        header: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValidationSplit {
    None,
    Count(usize),
    Fraction(f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampling {
    Shuffle,
    WithReplacement,
    Sequential,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DataConfig {
    pub train: DataSource,
    pub test: Option<DataSource>,
    pub validation: ValidationSplit,
    /// Multiplies every raw value.
    pub scale: f32,
    /// Relative paths above are resolved against this directory (trainer flag `--data-dir`);
    /// `None` means the working directory.
    pub base_dir: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunConfig {
    pub epochs: usize,
    pub sampling: Sampling,
    pub seed: u64,
    /// Stop after this many optimizer steps (flag `--max-steps`).
    pub max_steps: Option<u64>,
    /// `None` when the spec has no data block: the caller must pass data in code.
    pub data: Option<DataConfig>,
    /// Where `trainer train` writes metrics (JSON lines) and the checkpoint.
    pub metrics_path: Option<PathBuf>,
    pub checkpoint_path: Option<PathBuf>,
    /// Start from these weights instead of the seeded initialization.
    pub init_weights: Option<PathBuf>,
    /// Print one line per epoch to stdout.
    pub verbose: bool,
}
