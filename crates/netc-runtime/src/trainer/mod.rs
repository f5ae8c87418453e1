//! The standalone trainer every generated model gets: `train`, `eval`, `predict`, `bench`,
//! `hyper`. Parsing ([`args`]) and configuration ([`apply`]) are pure; [`commands`] runs them.

pub mod apply;
pub mod args;
pub mod commands;

use std::process::ExitCode;

use crate::config::RunConfig;
use crate::error::Error;
use crate::network::Network;

pub use args::{Command, DataArgs, EvalArgs, PredictArgs, TrainArgs, parse_args, usage};

/// Runs the trainer CLI on the process arguments. `cfg` and `hyper` are the spec's values;
/// flags override them. Errors print `error: …` to stderr and exit 1; usage errors exit 2.
pub fn trainer_main<M: Network>(cfg: RunConfig, hyper: M::Hyper) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run::<M>(cfg, hyper, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error @ Error::Usage(_)) => {
            eprintln!("error: {error}\n(run with --help to see every command and flag)");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(1)
        }
    }
}

/// [`trainer_main`] without the process: parses `args` (after the program name) and runs them.
pub fn run<M: Network>(cfg: RunConfig, hyper: M::Hyper, args: &[String]) -> Result<(), Error> {
    match parse_args(args)? {
        Command::Help => {
            print!("{}", usage(M::META.name));
            Ok(())
        }
        Command::Train(train) => commands::train::<M>(cfg, hyper, &train),
        Command::Eval(eval) => commands::eval::<M>(cfg, hyper, &eval),
        Command::Predict(predict) => commands::predict::<M>(cfg, hyper, &predict),
        Command::Bench { seconds, runs } => {
            commands::bench::<M>(hyper, seconds, runs);
            Ok(())
        }
        Command::Hyper => {
            print!("{}", commands::hyper_listing(&hyper));
            Ok(())
        }
    }
}
