//! netc's runtime: everything generated trainers need that does not depend on the spec.
//!
//! Generated code implements [`Network`]; the driver here trains ([`fit`]), evaluates
//! ([`evaluate`], [`predict`]) and checkpoints ([`save_checkpoint`], [`load_checkpoint`]) for
//! any such model.
//!
//! The pieces below the driver are usable on their own:
//!
//! ```
//! use netc_runtime::{Dataset, Init, Rng, fill, streams};
//!
//! // Deterministic on every platform: same seed and stream, same numbers.
//! let mut rng = Rng::new(42, streams::INIT);
//! let mut weight = vec![0.0f32; 3 * 4];
//! fill(&mut weight, Init::He, 4, 3, &mut rng);
//! assert!(weight.iter().all(|w| w.abs() < 5.0));
//!
//! let x = ndarray::Array2::from_shape_vec((2, 2), vec![0.0, 1.0, 1.0, 0.0]).unwrap();
//! let data = Dataset::new(x, vec![1, 1])?;
//! assert_eq!((data.len(), data.features()), (2, 2));
//! # Ok::<(), netc_runtime::Error>(())
//! ```

/// `println!` that ignores a closed stdout (`trainer train | head`) instead of panicking:
/// progress output must never abort a training run. Exported for the layers above.
#[doc(hidden)]
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = writeln!(::std::io::stdout().lock(), $($arg)*);
    }};
}

// The kernel layer, under the paths generated code and this crate have always used.
pub use netc_kernels::{gemm, init, rng, scalar, subnormals, threads};

pub mod atomic_file;
pub mod augment;
mod checkpoint;
pub mod cluster;
pub mod config;
pub mod curvature;
pub mod curve;
pub mod data;
mod early_stopping;
pub mod ensemble;
pub mod error;
mod evaluate;
pub mod features;
mod fit;
pub mod full_batch;
mod input_file;
pub mod interrupt;
pub mod monitor;
pub mod network;
pub mod output_lock;
mod predict;
pub mod preprocess;
mod real;
pub mod report;
mod run_output;
pub mod run_state;
mod safetensors_encode;
pub mod solve;

/// Small hand-written models for the runtime's and the trainer's unit tests (feature
/// `test-models`); not an API.
#[cfg(any(test, feature = "test-models"))]
#[doc(hidden)]
pub mod test_model;

pub use checkpoint::{last_good_path, load_checkpoint, save_checkpoint};
pub use config::*;
pub use data::{Batcher, Dataset, Splits, load_csv, load_idx, load_splits};
pub use ensemble::{Ensemble, EnsembleConfig, Vote, load_ensemble, save_ensemble};
pub use error::Error;
pub use evaluate::{
    Evaluation, LabelCounts, arg_max, check_dataset, evaluate, label_counts, label_table,
    row_major, test_report,
};
pub use features::{FeatureView, Features};
pub use fit::fit;
pub use full_batch::{ModelObjective, fit_full_batch};
pub use init::{Init, fill};
pub use monitor::{CurvatureCheck, CurvatureWatch, GradNorm};
pub use network::*;
pub use predict::predict;
pub use real::Real;
pub use report::{EarlyStop, EarlyStoppingStatus, EpochReport, Report, group_thousands, test_line};
pub use rng::{Rng, RngState, streams};
pub use run_state::STATE_VERSION;
pub use scalar::Scalar;
pub use solve::{LbfgsConfig, NewtonConfig, Objective, SolveReport, lbfgs, newton};
pub use threads::set_threads;
