//! The trainer's command line, parsed by hand into plain values (no clap: generated trainers
//! should build in seconds). Parsing is pure; nothing here touches files or the model.

use std::path::PathBuf;

use netc_limits::{BENCH_MAX_SECONDS, BENCH_RUNS, EPOCHS, Limit, PATIENCE, THREADS};

use crate::memory::parse_size;
use netc_runtime::error::Error;

/// One trainer invocation (parsed once per process, so the size of `Train` does not matter).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Train(TrainArgs),
    Eval(EvalArgs),
    Predict(PredictArgs),
    /// `threads`: `--threads N`, the GEMM thread count (else `NETC_THREADS`, else 1).
    Bench {
        seconds: f64,
        runs: usize,
        threads: Option<usize>,
    },
    Hyper,
    Help,
}

/// Flags that choose or relocate the data files.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DataArgs {
    pub data_dir: Option<PathBuf>,
    pub train_images: Option<PathBuf>,
    pub train_labels: Option<PathBuf>,
    pub test_images: Option<PathBuf>,
    pub test_labels: Option<PathBuf>,
    pub train_csv: Option<PathBuf>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainArgs {
    pub epochs: Option<usize>,
    pub seed: Option<u64>,
    pub max_steps: Option<u64>,
    pub batch_info: bool,
    pub data: DataArgs,
    /// `--set NAME=VALUE`, in command-line order.
    pub set: Vec<(String, f64)>,
    pub init_weights: Option<PathBuf>,
    pub checkpoint: Option<PathBuf>,
    pub metrics: Option<PathBuf>,
    pub quiet: bool,
    /// `--patience N`: the spec's early stopping with another patience.
    pub patience: Option<usize>,
    /// `--no-early-stopping`: train every epoch despite the spec's `early_stopping`.
    pub no_early_stopping: bool,
    /// `--threads N`: threads per large matrix product (else `NETC_THREADS`, else 1).
    pub threads: Option<usize>,
    /// `--save-every N steps|epochs`: save the run state that often.
    pub save_every: Option<netc_runtime::config::Interval>,
    /// `--state FILE`: where the run state goes [default: the `--resume` file, else
    /// `<model>.state.safetensors`].
    pub state: Option<PathBuf>,
    /// `--resume FILE`: continue the run saved there.
    pub resume: Option<PathBuf>,
    /// `--max-memory SIZE` in bytes: refuse a run needing more (else what is available).
    pub max_memory: Option<u64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EvalArgs {
    pub weights: PathBuf,
    /// The seed of the training run, so the same validation rows are held out.
    pub seed: Option<u64>,
    pub data: DataArgs,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct PredictArgs {
    pub weights: PathBuf,
    pub input: PathBuf,
    pub output: Option<PathBuf>,
}

pub const DEFAULT_BENCH_SECONDS: f64 = 2.0;
pub const DEFAULT_BENCH_RUNS: usize = 5;

/// The `--help` text; `program` is the trainer's name.
pub fn usage(program: &str) -> String {
    format!(
        "\
usage: {program} <command> [flags]

commands:
  train     train the model, save the weights and per-epoch metrics
  eval      report test (and validation) accuracy and loss of saved weights
  predict   write the outputs for every sample of an input file
  bench     measure training throughput on synthetic data
  hyper     print every hyperparameter as `name = value`

train flags:
  --epochs N              number of epochs
  --seed N                seed of initialization, sampling and the validation split
  --max-steps N           stop after N optimizer steps
  --batch-info            print batch size, steps per epoch and dropped samples first
  --set NAME=VALUE        change a hyperparameter (repeatable; see `hyper`)
  --init-weights FILE     start from these weights instead of the seeded initialization
  --checkpoint FILE       where to save the weights [default: <model>.safetensors]
  --metrics FILE          where to write JSON lines per epoch [default: <model>.metrics.jsonl]
  --quiet                 print nothing per epoch
  --patience N            the patience of the spec's early_stopping
  --no-early-stopping     train every epoch despite the spec's early_stopping
  --threads N             threads per large matrix product; same results for any N
                          [default: $NETC_THREADS, else 1]
  --save-every N UNIT     save the whole run state every N `steps` or `epochs`
                          (also on SIGINT/SIGTERM, which then stop the run)
  --state FILE            where the run state goes
                          [default: the --resume file, else <model>.state.safetensors]
  --resume FILE           continue the run saved there, to exactly the result the
                          uninterrupted run would have had (same flags as its start)
  --max-memory SIZE       refuse to start a run whose model and data need more than SIZE
                          bytes (K, M, G, T: powers of 1024, e.g. 512M, 8G)
                          [default: the memory available, MemAvailable on Linux]

data flags (train and eval):
  --data-dir DIR          resolve relative data paths against DIR
  --train-images FILE     IDX images (gzipped or raw) ...
  --train-labels FILE     ... and their labels
  --test-images FILE      IDX test images ...
  --test-labels FILE      ... and their labels
  --train-csv FILE        CSV training data instead of IDX

eval flags:
  --weights FILE          weights to evaluate (required)
  --seed N                the training run's seed (selects the same validation rows)

predict flags:
  --weights FILE          weights to use (required)
  --input FILE            samples: IDX (.idx, .gz, raw) or .csv (required)
  --output FILE           write there instead of stdout; one line per sample:
                          the arg-max class, then every output

bench flags:
  --seconds S             length of each timed run [default: {DEFAULT_BENCH_SECONDS:.1}]
  --runs R                number of timed runs, the median is reported [default: {DEFAULT_BENCH_RUNS}]
  --threads N             threads per large matrix product [default: $NETC_THREADS, else 1]

environment:
  NETC_THREADS=N          the default of --threads
  NETC_SUBNORMALS=keep    keep IEEE subnormal floats (slow: hundreds of cycles each);
                          by default every command flushes them to zero
  NETC_ISA=NAME           run the portable, avx2 or avx512 kernels (if supported)
"
    )
}

const TRAIN_FLAGS: &[&str] = &[
    "--epochs",
    "--seed",
    "--max-steps",
    "--batch-info",
    "--set",
    "--init-weights",
    "--checkpoint",
    "--metrics",
    "--quiet",
    "--patience",
    "--no-early-stopping",
    "--threads",
    "--save-every",
    "--state",
    "--resume",
    "--max-memory",
];
const DATA_FLAGS: &[&str] = &[
    "--data-dir",
    "--train-images",
    "--train-labels",
    "--test-images",
    "--test-labels",
    "--train-csv",
];
const EVAL_FLAGS: &[&str] = &["--weights", "--seed"];
const PREDICT_FLAGS: &[&str] = &["--weights", "--input", "--output"];
const BENCH_FLAGS: &[&str] = &["--seconds", "--runs", "--threads"];

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<Command, Error> {
    let Some((command, rest)) = args.split_first() else {
        return Err(Error::Usage(
            "missing command: expected one of train, eval, predict, bench, hyper".into(),
        ));
    };
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Command::Help);
    }
    let mut flags = Flags::new(command, rest);
    let parsed = match command.as_str() {
        "train" => Command::Train(parse_train(&mut flags)?),
        "eval" => Command::Eval(parse_eval(&mut flags)?),
        "predict" => Command::Predict(parse_predict(&mut flags)?),
        "bench" => parse_bench(&mut flags)?,
        "hyper" => {
            flags.expect_end(&[])?;
            Command::Hyper
        }
        "help" | "--help" | "-h" => Command::Help,
        other => {
            return Err(Error::Usage(format!(
                "unknown command `{other}`: expected one of train, eval, predict, bench, hyper"
            )));
        }
    };
    Ok(parsed)
}

fn parse_train(flags: &mut Flags) -> Result<TrainArgs, Error> {
    let mut args = TrainArgs::default();
    let valid: Vec<&str> = TRAIN_FLAGS.iter().chain(DATA_FLAGS).copied().collect();
    while let Some(flag) = flags.next_flag(&valid)? {
        match flag.as_str() {
            "--epochs" => args.epochs = Some(flags.limited(&flag, &EPOCHS)?),
            "--seed" => args.seed = Some(flags.number(&flag)?),
            "--max-steps" => args.max_steps = Some(flags.number(&flag)?),
            "--batch-info" => args.batch_info = true,
            "--set" => args.set.push(parse_assignment(&flags.value(&flag)?)?),
            "--init-weights" => args.init_weights = Some(flags.path(&flag)?),
            "--checkpoint" => args.checkpoint = Some(flags.path(&flag)?),
            "--metrics" => args.metrics = Some(flags.path(&flag)?),
            "--quiet" => args.quiet = true,
            "--patience" => args.patience = Some(flags.limited(&flag, &PATIENCE)?),
            "--no-early-stopping" => args.no_early_stopping = true,
            "--save-every" => args.save_every = Some(save_interval(flags, &flag)?),
            "--state" => args.state = Some(flags.path(&flag)?),
            "--resume" => args.resume = Some(flags.path(&flag)?),
            "--threads" => args.threads = Some(flags.limited(&flag, &THREADS)?),
            "--max-memory" => {
                let size = parse_size(&flags.value(&flag)?);
                args.max_memory = Some(size.map_err(|e| Error::Usage(format!("{flag}: {e}")))?);
            }
            _ => parse_data_flag(&flag, flags, &mut args.data)?,
        }
    }
    Ok(args)
}

/// `--save-every N steps|epochs` (also `N` and the unit as one argument: `--save-every=5epochs`).
fn save_interval(flags: &mut Flags, flag: &str) -> Result<netc_runtime::config::Interval, Error> {
    use netc_runtime::config::Interval;
    let text = flags.value(flag)?;
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (count, unit) = text.split_at(split);
    let unit = match unit.trim() {
        "" => flags.value(flag)?,
        unit => unit.to_string(),
    };
    let bad = || {
        Error::Usage(format!(
            "{flag} expects a count ≥ 1 and a unit, `steps` or `epochs` (e.g. `{flag} 500 steps`), got `{text}`"
        ))
    };
    let count: u64 = count.parse().map_err(|_| bad())?;
    if count == 0 {
        return Err(bad());
    }
    match unit.as_str() {
        "steps" | "step" => Ok(Interval::Steps(count)),
        "epochs" | "epoch" => Ok(Interval::Epochs(count)),
        _ => Err(bad()),
    }
}

fn parse_eval(flags: &mut Flags) -> Result<EvalArgs, Error> {
    let mut weights = None;
    let mut args = EvalArgs::default();
    let valid: Vec<&str> = EVAL_FLAGS.iter().chain(DATA_FLAGS).copied().collect();
    while let Some(flag) = flags.next_flag(&valid)? {
        match flag.as_str() {
            "--weights" => weights = Some(flags.path(&flag)?),
            "--seed" => args.seed = Some(flags.number(&flag)?),
            _ => parse_data_flag(&flag, flags, &mut args.data)?,
        }
    }
    args.weights = weights.ok_or_else(|| Error::Usage("`eval` needs --weights FILE".into()))?;
    Ok(args)
}

fn parse_predict(flags: &mut Flags) -> Result<PredictArgs, Error> {
    let (mut weights, mut input, mut output) = (None, None, None);
    while let Some(flag) = flags.next_flag(PREDICT_FLAGS)? {
        match flag.as_str() {
            "--weights" => weights = Some(flags.path(&flag)?),
            "--input" => input = Some(flags.path(&flag)?),
            _ => output = Some(flags.path(&flag)?),
        }
    }
    Ok(PredictArgs {
        weights: weights.ok_or_else(|| Error::Usage("`predict` needs --weights FILE".into()))?,
        input: input.ok_or_else(|| Error::Usage("`predict` needs --input FILE".into()))?,
        output,
    })
}

fn parse_bench(flags: &mut Flags) -> Result<Command, Error> {
    let (mut seconds, mut runs) = (DEFAULT_BENCH_SECONDS, DEFAULT_BENCH_RUNS);
    let mut threads = None;
    while let Some(flag) = flags.next_flag(BENCH_FLAGS)? {
        match flag.as_str() {
            "--seconds" => seconds = flags.number(&flag)?,
            "--threads" => threads = Some(flags.limited(&flag, &THREADS)?),
            _ => runs = flags.limited(&flag, &BENCH_RUNS)?,
        }
    }
    // `!(…)` so NaN is refused too; the cap keeps the timer's `Duration` representable.
    if !(seconds > 0.0 && seconds <= BENCH_MAX_SECONDS) {
        return Err(Error::Usage(format!(
            "--seconds must be > 0 and at most {BENCH_MAX_SECONDS}, got {seconds}"
        )));
    }
    Ok(Command::Bench {
        seconds,
        runs,
        threads,
    })
}

fn parse_data_flag(flag: &str, flags: &mut Flags, data: &mut DataArgs) -> Result<(), Error> {
    let path = Some(flags.path(flag)?);
    match flag {
        "--data-dir" => data.data_dir = path,
        "--train-images" => data.train_images = path,
        "--train-labels" => data.train_labels = path,
        "--test-images" => data.test_images = path,
        "--test-labels" => data.test_labels = path,
        _ => data.train_csv = path,
    }
    Ok(())
}

/// `NAME=VALUE` with a numeric value.
fn parse_assignment(text: &str) -> Result<(String, f64), Error> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| Error::Usage(format!("--set expects NAME=VALUE, got `{text}`")))?;
    let value = value
        .trim()
        .parse()
        .map_err(|_| Error::Usage(format!("--set {name}: `{value}` is not a number")))?;
    Ok((name.trim().to_string(), value))
}

/// A cursor over one command's flags; `--flag value` and `--flag=value` are both accepted.
struct Flags<'a> {
    command: &'a str,
    rest: std::slice::Iter<'a, String>,
    /// The `value` of a `--flag=value` just read.
    inline_value: Option<String>,
}

impl<'a> Flags<'a> {
    fn new(command: &'a str, rest: &'a [String]) -> Flags<'a> {
        Flags {
            command,
            rest: rest.iter(),
            inline_value: None,
        }
    }

    /// The next flag name, checked against `valid`; `None` at the end.
    fn next_flag(&mut self, valid: &[&str]) -> Result<Option<String>, Error> {
        let Some(arg) = self.rest.next() else {
            return Ok(None);
        };
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        if !valid.contains(&name) {
            let what = if name.starts_with('-') {
                "unknown flag"
            } else {
                "unexpected argument"
            };
            return Err(Error::Usage(format!(
                "{what} `{name}` for `{}`; valid flags: {}",
                self.command,
                if valid.is_empty() {
                    "none".to_string()
                } else {
                    valid.join(", ")
                }
            )));
        }
        self.inline_value = inline;
        Ok(Some(name.to_string()))
    }

    fn expect_end(&mut self, valid: &[&str]) -> Result<(), Error> {
        match self.next_flag(valid)? {
            None => Ok(()),
            Some(flag) => Err(Error::Usage(format!(
                "unexpected `{flag}` for `{}`",
                self.command
            ))),
        }
    }

    fn value(&mut self, flag: &str) -> Result<String, Error> {
        if let Some(value) = self.inline_value.take() {
            return Ok(value);
        }
        match self.rest.next() {
            Some(value) if !value.starts_with("--") => Ok(value.clone()),
            _ => Err(Error::Usage(format!("{flag} needs a value"))),
        }
    }

    fn path(&mut self, flag: &str) -> Result<PathBuf, Error> {
        self.value(flag).map(PathBuf::from)
    }

    fn number<T: std::str::FromStr>(&mut self, flag: &str) -> Result<T, Error> {
        let value = self.value(flag)?;
        value
            .parse()
            .map_err(|_| Error::Usage(format!("{flag}: `{value}` is not a valid number")))
    }

    /// A whole number within one of the shared limits (the spec's own range for the value).
    fn limited<T: TryFrom<u64>>(&mut self, flag: &str, limit: &Limit) -> Result<T, Error> {
        let value: u64 = self.number(flag)?;
        if !limit.contains(value) {
            return Err(Error::Usage(format!(
                "{flag} must be {}, got {value}",
                limit.range_text()
            )));
        }
        // In range means it fits: every limit's maximum is far below `usize::MAX`.
        T::try_from(value).map_err(|_| Error::Usage(format!("{flag}: {value} is too large")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, Error> {
        let args: Vec<String> = line.split_whitespace().map(String::from).collect();
        parse_args(&args)
    }

    fn usage_error(line: &str) -> String {
        match parse(line) {
            Err(Error::Usage(message)) => message,
            other => panic!("`{line}`: expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn train_with_every_flag() {
        let command = parse(
            "train --epochs 3 --seed=9 --max-steps 100 --batch-info --data-dir d \
             --train-images ti --train-labels tl --test-images si --test-labels sl \
             --set learning_rate=0.1 --set momentum=0.9 --init-weights w0 --checkpoint c \
             --metrics m --quiet --patience 4 --no-early-stopping --threads 2 \
             --save-every 50 steps --state s --resume r --max-memory 8G",
        )
        .unwrap();
        let expected = TrainArgs {
            epochs: Some(3),
            seed: Some(9),
            max_steps: Some(100),
            batch_info: true,
            data: DataArgs {
                data_dir: Some("d".into()),
                train_images: Some("ti".into()),
                train_labels: Some("tl".into()),
                test_images: Some("si".into()),
                test_labels: Some("sl".into()),
                train_csv: None,
            },
            set: vec![("learning_rate".into(), 0.1), ("momentum".into(), 0.9)],
            init_weights: Some("w0".into()),
            checkpoint: Some("c".into()),
            metrics: Some("m".into()),
            quiet: true,
            patience: Some(4),
            no_early_stopping: true,
            threads: Some(2),
            save_every: Some(netc_runtime::config::Interval::Steps(50)),
            state: Some("s".into()),
            resume: Some("r".into()),
            max_memory: Some(8 << 30),
        };
        assert_eq!(command, Command::Train(expected));
        assert_eq!(
            parse("train").unwrap(),
            Command::Train(TrainArgs::default())
        );
    }

    #[test]
    fn eval_predict_bench_hyper_help() {
        assert_eq!(
            parse("eval --weights w.safetensors --train-csv t.csv --seed 4").unwrap(),
            Command::Eval(EvalArgs {
                weights: "w.safetensors".into(),
                seed: Some(4),
                data: DataArgs {
                    train_csv: Some("t.csv".into()),
                    ..DataArgs::default()
                },
            })
        );
        assert_eq!(
            parse("predict --weights w --input x.csv --output o.txt").unwrap(),
            Command::Predict(PredictArgs {
                weights: "w".into(),
                input: "x.csv".into(),
                output: Some("o.txt".into())
            })
        );
        assert_eq!(
            parse("bench").unwrap(),
            Command::Bench {
                seconds: 2.0,
                runs: 5,
                threads: None
            }
        );
        assert_eq!(
            parse("bench --seconds 0.5 --runs 3 --threads 2").unwrap(),
            Command::Bench {
                seconds: 0.5,
                runs: 3,
                threads: Some(2)
            }
        );
        assert_eq!(parse("hyper").unwrap(), Command::Hyper);
        assert_eq!(parse("train --epochs 3 --help").unwrap(), Command::Help);
        assert_eq!(parse("help").unwrap(), Command::Help);
    }

    #[test]
    fn usage_errors_say_what_is_wrong() {
        assert!(usage_error("").starts_with("missing command"));
        assert!(usage_error("fly").starts_with("unknown command `fly`"));
        let unknown = usage_error("train --epoch 3");
        assert!(
            unknown
                .starts_with("unknown flag `--epoch` for `train`; valid flags: --epochs, --seed"),
            "{unknown}"
        );
        assert!(
            unknown.contains("--train-csv"),
            "data flags are listed too: {unknown}"
        );
        assert_eq!(usage_error("train --epochs"), "--epochs needs a value");
        assert_eq!(
            usage_error("train --epochs --quiet"),
            "--epochs needs a value"
        );
        assert_eq!(
            usage_error("train --epochs three"),
            "--epochs: `three` is not a valid number"
        );
        assert_eq!(
            usage_error("train --set lr"),
            "--set expects NAME=VALUE, got `lr`"
        );
        assert_eq!(
            usage_error("train --set lr=fast"),
            "--set lr: `fast` is not a number"
        );
        assert_eq!(
            usage_error("eval --train-csv x"),
            "`eval` needs --weights FILE"
        );
        assert_eq!(
            usage_error("predict --weights w"),
            "`predict` needs --input FILE"
        );
        assert!(
            usage_error("predict --weights w --input i --epochs 2")
                .starts_with("unknown flag `--epochs` for `predict`")
        );
        assert_eq!(
            usage_error("bench --runs 0"),
            "--runs must be between 1 and 1000, got 0"
        );
        assert_eq!(
            usage_error("bench --threads 0"),
            "--threads must be between 1 and 16, got 0"
        );
        assert_eq!(
            usage_error("train --threads 17"),
            "--threads must be between 1 and 16, got 17"
        );
        assert!(usage_error("hyper extra").starts_with("unexpected argument `extra` for `hyper`"));
    }

    /// Flags share the spec's limits (`netc_limits`): a value out of range is a usage error
    /// naming the range, before anything allocates or overflows (`--epochs 1e9` once aborted
    /// reserving a report per epoch; `--seconds 1e20` panicked in `Duration::from_secs_f64`).
    #[test]
    fn counts_out_of_the_shared_limits_are_usage_errors() {
        assert_eq!(
            usage_error("train --epochs 1000000000"),
            "--epochs must be between 1 and 1000000, got 1000000000"
        );
        assert_eq!(
            usage_error("train --epochs 0"),
            "--epochs must be between 1 and 1000000, got 0"
        );
        assert_eq!(
            usage_error("train --patience 2000000"),
            "--patience must be between 1 and 1000000, got 2000000"
        );
        assert_eq!(
            usage_error("bench --seconds 1e20"),
            "--seconds must be > 0 and at most 3600, got 100000000000000000000"
        );
        assert!(usage_error("bench --seconds NaN").starts_with("--seconds must be > 0"));
        assert_eq!(
            usage_error("bench --runs 1001"),
            "--runs must be between 1 and 1000, got 1001"
        );
        let max = parse("train --epochs 1000000 --patience 1000000").unwrap();
        assert!(
            matches!(
                max,
                Command::Train(TrainArgs {
                    epochs: Some(1_000_000),
                    ..
                })
            ),
            "{max:?}"
        );
        assert!(parse("bench --seconds 3600").is_ok());
        assert_eq!(
            usage_error("train --max-memory 8X"),
            "--max-memory: `8X` is not a size: write bytes or e.g. 512M, 8G"
        );
    }

    #[test]
    fn help_lists_every_flag() {
        let text = usage("mnist");
        for flag in TRAIN_FLAGS
            .iter()
            .chain(DATA_FLAGS)
            .chain(EVAL_FLAGS)
            .chain(PREDICT_FLAGS)
            .chain(BENCH_FLAGS)
        {
            assert!(text.contains(flag), "--help lacks {flag}");
        }
    }
}
