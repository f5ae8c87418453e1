//! The command line, declared with clap's derive API.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// netc: compiles `.net` specs into specialized Rust training loops.
#[derive(Debug, Parser)]
#[command(name = "netc", version)]
pub struct Cli {
    /// When to colour diagnostics (auto: when stderr is a terminal and NO_COLOR is unset).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate specs and print each model's summary (layers, shapes, params, FLOPs, settings).
    Check {
        /// The `.net` spec files.
        #[arg(required = true, value_name = "SPEC")]
        specs: Vec<PathBuf>,
    },
    /// Print the parsed syntax tree of a spec (a debugging dump of the parser's output).
    Parse {
        /// The `.net` spec file.
        #[arg(value_name = "SPEC")]
        spec: PathBuf,
    },
    /// Print the checked IR of a spec (a debugging dump of what codegen receives).
    Ir {
        /// The `.net` spec file.
        #[arg(value_name = "SPEC")]
        spec: PathBuf,
    },
    /// Print the generated Rust module for a spec.
    Emit {
        /// The `.net` spec file.
        #[arg(value_name = "SPEC")]
        spec: PathBuf,
        /// Write the code to FILE instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write a Cargo project for a spec's trainer and build it (release); prints the binary path.
    ///
    /// The default project directory is `target/netc/<model>` in the netc workspace; every
    /// trainer shares one cargo target directory (`target/trainers`, or $NETC_TARGET_DIR), so
    /// only the first build compiles the runtime.
    Build {
        /// The `.net` spec file.
        #[arg(value_name = "SPEC")]
        spec: PathBuf,
        /// The project directory to write.
        #[arg(short, long, value_name = "DIR")]
        output: Option<PathBuf>,
        /// Link the trainer with MPI (binary `<model>-mpi`): `mpirun -n N <trainer> train`
        /// spreads a search's trials and bagging's members over the ranks. Needs an MPI
        /// library and libclang (Debian: openmpi-bin libopenmpi-dev libclang-dev).
        #[arg(long)]
        mpi: bool,
    },
    /// Build the trainer if needed, then run `<trainer> train FLAGS...` in the current directory.
    ///
    /// Relative data paths in the spec are resolved from the current directory (or the
    /// trainer's `--data-dir`). `netc train SPEC -- --help` lists the trainer's flags; the exit
    /// code is the trainer's.
    Train {
        /// The `.net` spec file.
        #[arg(value_name = "SPEC")]
        spec: PathBuf,
        /// The trainer project directory (as for `build -o`).
        #[arg(long, value_name = "DIR")]
        project: Option<PathBuf>,
        /// Flags for the trainer (`netc train spec.net -- --epochs 3`).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "TRAINER FLAGS"
        )]
        flags: Vec<OsString>,
    },
    /// Build the trainer if needed, then benchmark training steps on the spec's model.
    Bench {
        /// The `.net` spec file.
        #[arg(value_name = "SPEC")]
        spec: PathBuf,
        /// The trainer project directory (as for `build -o`).
        #[arg(long, value_name = "DIR")]
        project: Option<PathBuf>,
        /// Seconds per timed run (the trainer defaults to 2).
        #[arg(long, value_name = "S")]
        seconds: Option<f64>,
        /// Number of timed runs, the median is reported (the trainer defaults to 5).
        #[arg(long, value_name = "R")]
        runs: Option<u32>,
        /// Threads for the large matrix products (the trainer defaults to `NETC_THREADS`, else 1).
        #[arg(long, value_name = "N")]
        threads: Option<u32>,
    },
}
