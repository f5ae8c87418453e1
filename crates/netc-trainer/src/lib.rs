//! The standalone trainer every generated model gets: `train`, `eval`, `predict`, `bench`,
//! `hyper` — the top layer of the runtime (netc-kernels → netc-runtime → netc-procedures →
//! netc-trainer): it drives the runtime, nothing below imports it. Parsing ([`args`]) and
//! configuration ([`apply`]) are pure; [`commands`] runs them; [`bench()`] times the step.

// `say!`: `println!` that ignores a closed stdout (`trainer train | head`).
#[macro_use]
extern crate netc_runtime;

pub mod apply;
pub mod args;
mod bench;
pub mod commands;
pub mod memory;

use std::process::ExitCode;

use netc_procedures::Plan;
use netc_runtime::cluster;
use netc_runtime::config::RunConfig;
use netc_runtime::error::Error;
use netc_runtime::network::Network;

pub use args::{Command, DataArgs, EvalArgs, PredictArgs, TrainArgs, parse_args, usage};
pub use bench::{BenchReport, bench};

/// Runs the trainer CLI on the process arguments. `cfg`, `hyper` and `plan` are the spec's
/// values; flags override the first two. Errors print `error: …` to stderr and exit 1; usage
/// errors exit 2.
///
/// Under MPI (feature `mpi`, `mpirun -n N`) every rank runs this; a rank that fails exits at
/// once without finalizing MPI, so `mpirun` stops the others instead of leaving them waiting
/// for it in a collective.
pub fn trainer_main<M: Network>(cfg: RunConfig, hyper: M::Hyper, plan: Plan) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let membership = match cluster::join() {
        Ok(membership) => membership,
        Err(error) => return exit_code(Err(error)),
    };
    let outcome = run::<M>(cfg, hyper, plan, &args);
    match outcome {
        Err(error) if cluster::size() > 1 => {
            let status = report_failure_on_rank(&error);
            // Not finalizing: MPI_Finalize waits for the other ranks, which may be waiting
            // for this one. `mpirun` sees the exit status and ends the job.
            std::mem::forget(membership);
            std::process::exit(i32::from(status));
        }
        outcome => {
            drop(membership);
            exit_code(outcome)
        }
    }
}

/// Prints a failure as `error: …` to stderr; exit code 0 on success, 2 for usage errors (a
/// wrong flag or value), 1 for everything else.
pub fn exit_code(outcome: Result<(), Error>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => ExitCode::from(report_failure(&error)),
    }
}

/// Prints `error` to stderr; returns the process's exit status for it.
fn report_failure(error: &Error) -> u8 {
    match error {
        Error::Usage(_) => {
            eprintln!("error: {error}\n(run with --help to see every command and flag)")
        }
        Error::Interrupted { .. } => eprintln!("{error}"),
        error => eprintln!("error: {error}"),
    }
    exit_status(error)
}

/// 2 for usage errors (a wrong flag or value), 128 + the signal's number for a run stopped by
/// one (the shell's convention), 1 for everything else.
fn exit_status(error: &Error) -> u8 {
    match error {
        Error::Usage(_) => 2,
        Error::Interrupted { signal, .. } => (128 + (*signal).clamp(1, 127)) as u8,
        _ => 1,
    }
}

/// [`report_failure`] for one rank of several: a usage error or a signal reaches every rank
/// alike, so only rank 0 tells it; any other failure is told by the rank it happened on.
fn report_failure_on_rank(error: &Error) -> u8 {
    if cluster::is_root() {
        return report_failure(error);
    }
    if matches!(error, Error::Usage(_) | Error::Interrupted { .. }) {
        return exit_status(error);
    }
    eprint!("rank {} of {}: ", cluster::rank(), cluster::size());
    report_failure(error)
}

/// [`trainer_main`] without the process: parses `args` (after the program name) and runs them.
pub fn run<M: Network>(
    cfg: RunConfig,
    hyper: M::Hyper,
    plan: Plan,
    args: &[String],
) -> Result<(), Error> {
    flush_subnormals_unless_kept();
    let command = parse_args(args)?;
    if cluster::size() > 1 {
        spread_over_ranks(&command)?;
    }
    match command {
        Command::Help => {
            say!("{}", usage(M::META.name).trim_end());
            Ok(())
        }
        Command::Train(train) => {
            use_threads(train.threads);
            commands::train::<M>(cfg, hyper, plan, &train)
        }
        Command::Eval(eval) => commands::eval::<M>(cfg, hyper, plan, &eval),
        Command::Predict(predict) => commands::predict::<M>(cfg, hyper, plan, &predict),
        Command::Bench {
            seconds,
            runs,
            threads,
        } => {
            use_threads(threads);
            commands::bench::<M>(hyper, seconds, runs)
        }
        Command::Hyper => {
            say!("{}", commands::hyper_listing(&hyper).trim_end());
            Ok(())
        }
    }
}

/// Under `mpirun -n N` (N > 1) a trainer spreads `train`: the trials of a search, the members
/// of bagging, or else every step's batch (data-parallel). Everything else would run N times
/// over; it is refused until it is spread too.
fn spread_over_ranks(command: &Command) -> Result<(), Error> {
    let ranks = cluster::size();
    let what = match command {
        Command::Train(_) => return Ok(()),
        Command::Eval(_) => "`eval`",
        Command::Predict(_) => "`predict`",
        Command::Bench { .. } => "`bench`",
        Command::Help | Command::Hyper => "`--help` and `hyper`",
    };
    Err(Error::Usage(format!(
        "this job has {ranks} MPI ranks; {what} runs in one process: start it without \
         mpirun, or with `mpirun -n 1`"
    )))
}

/// The environment variable that keeps IEEE subnormals (`NETC_SUBNORMALS=keep`): a run that
/// must match another program's gradual underflow bit for bit, at the cost of the slowdown
/// `netc_runtime::subnormals` describes.
pub const SUBNORMALS_VAR: &str = "NETC_SUBNORMALS";

/// Every command computes with subnormals flushed to zero (the trainer is the process, so the
/// mode is its own; helper threads follow it), unless `NETC_SUBNORMALS=keep`: train, eval and
/// predict then agree bit for bit.
fn flush_subnormals_unless_kept() {
    if std::env::var(SUBNORMALS_VAR).is_ok_and(|v| v.trim() == "keep") {
        return;
    }
    // SAFETY: this is the trainer's command thread; every float result it and its product
    // helpers compute may be flushed (netc_runtime::subnormals).
    unsafe { netc_runtime::subnormals::flush_on_this_thread() };
}

/// `--threads N` overrides `NETC_THREADS` for this process.
fn use_threads(threads: Option<usize>) {
    if let Some(threads) = threads {
        netc_runtime::threads::set_threads(threads);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(Ok(())), ExitCode::SUCCESS);
        assert_eq!(
            exit_code(Err(Error::Usage("unknown flag".into()))),
            ExitCode::from(2)
        );
        let diverged = Error::Diverged {
            epoch: 1,
            step: 2,
            message: "nan".into(),
        };
        assert_eq!(exit_code(Err(diverged)), ExitCode::from(1));
    }

    #[test]
    fn help_text() {
        insta::assert_snapshot!("help", usage("mnist"));
    }

    #[test]
    fn usage_error_messages() {
        let lines = [
            "",
            "fit",
            "train --epoch 3",
            "train --epochs",
            "train --seed -1",
            "train --set learning_rate",
            "eval",
            "predict --weights w.safetensors",
            "bench --seconds 0",
            "bench --seconds 1e20",
            "train --epochs 1000000000",
        ];
        let mut text = String::new();
        for line in lines {
            let args: Vec<String> = line.split_whitespace().map(String::from).collect();
            let message = match parse_args(&args) {
                Err(error) => error.to_string(),
                Ok(command) => format!("(parsed: {command:?})"),
            };
            text += &format!(
                "{}\nerror: {message}\n\n",
                format!("$ trainer {line}").trim_end()
            );
        }
        insta::assert_snapshot!("usage_errors", text);
    }
}
