//! The range limits of every count a spec, a `--set NAME=VALUE` or a trainer flag can set: one
//! table, so a value one of them accepts the others accept too. `netc-sema` checks specs
//! against it, `netc-codegen` bakes it into the generated `Hyper::set`, and `netc-runtime`'s
//! flag parser checks flags against it. No dependencies: the compiler and the runtime both
//! link it without linking each other.
//!
//! The bounds keep a run's own bookkeeping (one report per epoch, the timer of a benchmark)
//! far below what could fail to allocate or overflow; the memory of the model and the data is
//! checked separately, against the machine, by the trainer.

/// An inclusive range of whole numbers, with the words an error message uses for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// What the value counts, as a message names it (`epochs`, `the batch size`).
    pub what: &'static str,
    pub min: u64,
    pub max: u64,
}

impl Limit {
    pub const fn contains(&self, value: u64) -> bool {
        self.min <= value && value <= self.max
    }

    /// `value` is a whole number in range (for values that arrive as f64: `--set`).
    pub fn contains_f64(&self, value: f64) -> bool {
        value.fract() == 0.0 && value >= self.min as f64 && value <= self.max as f64
    }

    /// `between 1 and 1000000`: what an error message says the value must be.
    pub fn range_text(&self) -> String {
        format!("between {} and {}", self.min, self.max)
    }
}

/// Passes over the training set. Each epoch keeps a report line in memory.
pub const EPOCHS: Limit = Limit {
    what: "epochs",
    min: 1,
    max: 1_000_000,
};

/// Samples per optimizer step (activation buffers are batch × width).
pub const BATCH: Limit = Limit {
    what: "the batch size",
    min: 1,
    max: 1_000_000,
};

/// Epochs without improvement before early stopping stops.
pub const PATIENCE: Limit = Limit {
    what: "patience",
    min: 1,
    max: EPOCHS.max,
};

/// Threads per large matrix product (the runtime keeps a fixed pool of helper slots).
pub const THREADS: Limit = Limit {
    what: "threads",
    min: 1,
    max: 16,
};

/// Timed runs of `bench` (each is kept to report the median).
pub const BENCH_RUNS: Limit = Limit {
    what: "bench runs",
    min: 1,
    max: 1_000,
};

/// Longest timed `bench` run, in seconds (one hour: a benchmark, not a soak test). A float
/// flag, so not a [`Limit`]; the shortest is anything > 0.
pub const BENCH_MAX_SECONDS: f64 = 3_600.0;

/// Largest layer width or input feature count.
pub const FEATURES: Limit = Limit {
    what: "features",
    min: 1,
    max: 1_000_000,
};

/// Largest model, in trainable parameters.
pub const MAX_PARAMS: u64 = 1_000_000_000;

/// `4.1 MB`, `4.0 TB`: decimal units, as `free` and `/usr/bin/time` readers expect. The one
/// way sizes are written, so `netc check`'s estimate and the trainer's memory refusal agree.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for next in UNITS {
        if value < 1000.0 {
            break;
        }
        value /= 1000.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_inclusive_and_whole() {
        assert!(EPOCHS.contains(1) && EPOCHS.contains(1_000_000));
        assert!(!EPOCHS.contains(0) && !EPOCHS.contains(1_000_001));
        assert!(EPOCHS.contains_f64(1e6));
        assert!(!EPOCHS.contains_f64(1e9));
        assert!(!EPOCHS.contains_f64(2.5));
        assert!(!EPOCHS.contains_f64(f64::NAN));
        assert_eq!(THREADS.range_text(), "between 1 and 16");
    }
}
