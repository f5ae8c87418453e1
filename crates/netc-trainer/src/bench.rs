//! Training throughput on synthetic data: the numbers `trainer bench` and `netc bench` print.

use std::time::{Duration, Instant};

use netc_runtime::Scalar;
use netc_runtime::network::{Batch, Network, TargetKind, Targets, batch_of};
use netc_runtime::rng::{Rng, streams};

/// How often a timed run reads the clock, once it knows its step time.
const CLOCK_EVERY: Duration = Duration::from_micros(50);

/// Batches in the synthetic pool: enough to defeat trivial caching of one batch, small enough
/// to build instantly.
const POOL_BATCHES: usize = 32;
const WARM_UP_SECONDS: f64 = 0.5;
const BENCH_SEED: u64 = 0;

/// Median throughput over `runs` (each entry of `runs` is one run's samples/s).
#[derive(Clone, Debug, PartialEq)]
pub struct BenchReport {
    pub samples_per_sec: f64,
    pub steps_per_sec: f64,
    pub gflops: f64,
    pub runs: Vec<f64>,
}

impl BenchReport {
    /// `bench: 123456 samples/s  1929.0 steps/s  124.3 GFLOP/s  (median of 5 runs of 2.0 s)`
    pub fn summary_line(&self, seconds: f64) -> String {
        format!(
            "bench: {:.0} samples/s  {:.1} steps/s  {:.1} GFLOP/s  (median of {} runs of {:.1} s)",
            self.samples_per_sec,
            self.steps_per_sec,
            self.gflops,
            self.runs.len(),
            seconds
        )
    }
}

/// Trains a fresh model on a pool of 32 seeded synthetic batches (inputs uniform in [0, 1),
/// labels uniform below `OUTPUT`), cycled: ≥ 0.5 s of warm-up, then `runs` runs of at least
/// `seconds` each. Reports the median run; GFLOP/s = samples/s × `TRAIN_FLOPS_PER_SAMPLE` / 1e9.
pub fn bench<M: Network>(hyper: M::Hyper, seconds: f64, runs: usize) -> BenchReport {
    bench_with::<M>(hyper, WARM_UP_SECONDS, seconds, runs)
}

pub(crate) fn bench_with<M: Network>(
    hyper: M::Hyper,
    warm_up: f64,
    seconds: f64,
    runs: usize,
) -> BenchReport {
    let mut model = M::new(hyper, BENCH_SEED);
    let mut rng = Rng::new(BENCH_SEED, streams::SAMPLING);
    let x: Vec<M::Float> = (0..POOL_BATCHES * M::BATCH * M::INPUT)
        .map(|_| M::Float::from_f64(f64::from(rng.uniform())))
        .collect();
    let labels: Vec<u32> = (0..POOL_BATCHES * M::BATCH)
        .map(|_| rng.below(M::OUTPUT) as u32)
        .collect();
    // Value targets, for models that train on them: 0/1, valid for mse and multi-label alike.
    let values: Vec<M::Float> = match M::TARGET_KIND {
        TargetKind::Classes => Vec::new(),
        TargetKind::Values => (0..POOL_BATCHES * M::BATCH * M::OUTPUT)
            .map(|_| M::Float::from_f64(rng.below(2) as f64))
            .collect(),
    };
    let targets = match M::TARGET_KIND {
        TargetKind::Classes => Targets::Classes(&labels),
        TargetKind::Values => Targets::Values(&values),
    };
    // The pool as the step's fixed-size batches, filled once.
    let pool: Vec<Batch<M>> = (0..POOL_BATCHES)
        .map(|batch| {
            let rows = batch * M::BATCH..(batch + 1) * M::BATCH;
            let x = &x[rows.start * M::INPUT..rows.end * M::INPUT];
            batch_of::<M>(x, targets.rows(rows, M::OUTPUT))
        })
        .collect();
    let mut next_batch = 0;
    let mut run_for = |seconds: f64| -> f64 {
        let budget = Duration::from_secs_f64(seconds.max(0.0));
        let started = Instant::now();
        let (mut steps, mut check_every) = (0u64, 1u64);
        loop {
            let (batch_x, batch_y) = &pool[next_batch % POOL_BATCHES];
            next_batch += 1;
            model.train_step(batch_x, batch_y);
            steps += 1;
            if steps % check_every != 0 {
                continue;
            }
            let elapsed = started.elapsed();
            if elapsed >= budget {
                return steps as f64 * M::BATCH as f64 / elapsed.as_secs_f64();
            }
            // A clock read costs ~25 ns, a tenth of a tiny net's step: once the step time is
            // known, read it about every CLOCK_EVERY (the run overshoots by that at most).
            let per_step = elapsed.as_nanos().max(1) / u128::from(steps);
            check_every = (CLOCK_EVERY.as_nanos() / per_step).clamp(1, 1 << 16) as u64;
        }
    };
    run_for(warm_up);
    let runs: Vec<f64> = (0..runs.max(1)).map(|_| run_for(seconds)).collect();
    let samples_per_sec = median(&runs);
    BenchReport {
        samples_per_sec,
        steps_per_sec: samples_per_sec / M::BATCH as f64,
        gflops: samples_per_sec * M::TRAIN_FLOPS_PER_SAMPLE as f64 / 1e9,
        runs,
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    } else {
        sorted[middle]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netc_runtime::test_model::{LogReg, LogRegHyper};

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn reports_consistent_rates() {
        let report = bench_with::<LogReg>(LogRegHyper::default(), 0.01, 0.02, 3);
        assert_eq!(report.runs.len(), 3);
        assert!(report.samples_per_sec > 0.0);
        assert_eq!(report.samples_per_sec, median(&report.runs));
        assert!(
            (report.steps_per_sec * 8.0 - report.samples_per_sec).abs()
                < 1e-6 * report.samples_per_sec
        );
        let expected_gflops = report.samples_per_sec * 72.0 / 1e9;
        assert!((report.gflops - expected_gflops).abs() <= 1e-12 * expected_gflops.max(1.0));
    }

    #[test]
    fn summary_line_format() {
        let report = BenchReport {
            samples_per_sec: 123_456.4,
            steps_per_sec: 1929.0,
            gflops: 124.31,
            runs: vec![0.0; 5],
        };
        assert_eq!(
            report.summary_line(2.0),
            "bench: 123456 samples/s  1929.0 steps/s  124.3 GFLOP/s  (median of 5 runs of 2.0 s)"
        );
    }
}
