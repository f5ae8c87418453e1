//! netc's runtime: everything generated trainers need that does not depend on the spec.
//!
//! Generated code implements [`Network`]; the driver here trains ([`fit`]), evaluates
//! ([`evaluate`], [`predict`]), benchmarks ([`bench()`]), checkpoints ([`save_checkpoint`],
//! [`load_checkpoint`]) and wraps all of it in a command-line trainer ([`trainer_main`]) for
//! any such model.

/// `println!` that ignores a closed stdout (`trainer train | head`) instead of panicking:
/// progress output must never abort a training run.
macro_rules! say {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = writeln!(::std::io::stdout().lock(), $($arg)*);
    }};
}

mod bench;
mod checkpoint;
pub mod config;
pub mod data;
pub mod error;
mod evaluate;
mod fit;
pub mod gemm;
pub mod init;
pub mod network;
mod predict;
pub mod report;
pub mod rng;
pub mod trainer;

#[cfg(test)]
mod test_model;

pub use bench::{BenchReport, bench};
pub use checkpoint::{load_checkpoint, save_checkpoint};
pub use config::*;
pub use data::{Batcher, Dataset, Splits, load_csv, load_idx, load_splits};
pub use error::Error;
pub use evaluate::{Evaluation, arg_max, evaluate};
pub use fit::fit;
pub use init::{Init, fill};
pub use network::*;
pub use predict::predict;
pub use report::{EpochReport, Report, group_thousands, test_line};
pub use rng::{Rng, streams};
pub use trainer::trainer_main;
