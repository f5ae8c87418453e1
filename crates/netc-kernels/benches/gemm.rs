//! GFLOP/s of the GEMM kernels, in f32 and f64, at the MNIST MLP's shapes (784-256-128-10,
//! batch 64), at one large square product, and of a whole training step's worth of GEMMs.
//!
//! Run pinned to one core: `taskset -c 0 cargo bench -p netc-kernels --bench gemm`; with
//! `NETC_THREADS=2` (and two cores: `taskset -c 0,1`) large products are split over two threads
//! (the CPU-time column then counts the calling thread only).
//! Arguments: ISA names to measure (`avx512`, `avx2`, `portable`; default: every SIMD path
//! this CPU supports), element types (`f32`, `f64`; default both) and shape labels to keep
//! (e.g. `dW1`, `large`; default: all, plus the whole step).
//! `benches/numpy_gemm.py` measures numpy (OpenBLAS) at the same shapes, for a ceiling.
//!
//! Each figure is the median of 5 runs of ≥ 0.5 s after a warm-up, by wall clock and by this
//! thread's CPU time: on a shared machine the second leaves out the time other processes held
//! the core (the first is the one to compare with other libraries on a quiet machine).

use std::hint::black_box;
use std::time::{Duration, Instant};

use netc_kernels::gemm::{self, Element, Isa};

#[derive(Clone, Copy)]
enum Variant {
    Nn,
    Nt,
    Tn,
}

struct Shape {
    label: &'static str,
    variant: Variant,
    m: usize,
    n: usize,
    k: usize,
}

const fn shape(label: &'static str, variant: Variant, m: usize, n: usize, k: usize) -> Shape {
    Shape {
        label,
        variant,
        m,
        n,
        k,
    }
}

/// The 8 GEMMs of one training step, in step order (layer 1 needs no input gradient).
const STEP: [Shape; 8] = [
    shape("fwd L1", Variant::Nt, 64, 256, 784),
    shape("fwd L2", Variant::Nt, 64, 128, 256),
    shape("fwd L3", Variant::Nt, 64, 10, 128),
    shape("dW3", Variant::Tn, 10, 128, 64),
    shape("dH2", Variant::Nn, 64, 128, 10),
    shape("dW2", Variant::Tn, 128, 256, 64),
    shape("dH1", Variant::Nn, 64, 256, 128),
    shape("dW1", Variant::Tn, 256, 784, 64),
];

/// A product large enough to leave the caches (32 MiB per f64 operand).
const LARGE: Shape = shape("large", Variant::Nn, 2048, 2048, 2048);

const RUNS: usize = 5;
const MIN_RUN: Duration = Duration::from_millis(500);

/// Operands of one product, filled with small non-trivial values.
struct Operands<T> {
    a: Vec<T>,
    b: Vec<T>,
    c: Vec<T>,
}

impl<T: Element + From<f32>> Operands<T> {
    fn new(s: &Shape) -> Self {
        let fill = |len: usize, step: usize| {
            (0..len)
                .map(|i| T::from(((i * step) % 17) as f32 * 0.01 - 0.08))
                .collect()
        };
        Self {
            a: fill(s.m * s.k, 7),
            b: fill(s.k * s.n, 5),
            c: vec![T::from(0.0); s.m * s.n],
        }
    }

    fn run(&mut self, isa: Isa, s: &Shape) {
        let (a, b, c) = (
            black_box(&self.a[..]),
            black_box(&self.b[..]),
            &mut self.c[..],
        );
        match s.variant {
            Variant::Nn => gemm::nn_on(isa, s.m, s.n, s.k, a, b, c, false),
            Variant::Nt => gemm::nt_on(isa, s.m, s.n, s.k, a, b, c, false),
            Variant::Tn => gemm::tn_on(isa, s.m, s.n, s.k, a, b, c, false),
        }
        black_box(&mut self.c);
    }
}

fn flop(s: &Shape) -> f64 {
    2.0 * (s.m * s.n * s.k) as f64
}

/// Median GFLOP/s of `RUNS` timed runs of `body` (which performs `flop_per_call`), by wall
/// clock and by this thread's CPU time (which leaves out time other processes had the core).
fn measure(flop_per_call: f64, mut body: impl FnMut()) -> Rates {
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(200) {
        body();
    }
    // Clock reads between calls only for products that take microseconds.
    let batch = if flop_per_call > 1e8 { 1 } else { 16 };
    let mut wall = Vec::with_capacity(RUNS);
    let mut cpu = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let (start, cpu_start) = (Instant::now(), thread_cpu_time());
        let mut calls = 0u64;
        while start.elapsed() < MIN_RUN {
            for _ in 0..batch {
                body();
            }
            calls += batch;
        }
        let gflop = flop_per_call * calls as f64 / 1e9;
        wall.push(gflop / start.elapsed().as_secs_f64());
        if let (Some(t0), Some(t1)) = (cpu_start, thread_cpu_time()) {
            cpu.push(gflop / (t1 - t0).as_secs_f64());
        }
    }
    Rates {
        wall: median(wall),
        cpu: (cpu.len() == RUNS).then(|| median(cpu)),
    }
}

struct Rates {
    wall: f64,
    cpu: Option<f64>,
}

impl std::fmt::Display for Rates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.cpu {
            Some(cpu) => write!(f, "{:>10.1} {cpu:>10.1}", self.wall),
            None => write!(f, "{:>10.1} {:>10}", self.wall, "-"),
        }
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Time this thread has run on a CPU (Linux `schedstat`); `None` where unavailable.
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn parse_isa(name: &str) -> Option<Isa> {
    match name {
        "avx512" => Some(Isa::Avx512),
        "avx2" => Some(Isa::Avx2Fma),
        "portable" => Some(Isa::Portable),
        _ => None,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; ignore flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let asked: Vec<Isa> = args.iter().filter_map(|a| parse_isa(a)).collect();
    let types: Vec<&str> = ["f32", "f64"]
        .into_iter()
        .filter(|t| args.iter().any(|a| a == t))
        .collect();
    let labels: Vec<&String> = args
        .iter()
        .filter(|a| parse_isa(a).is_none() && !["f32", "f64"].contains(&a.as_str()))
        .collect();
    let isas: Vec<Isa> = if asked.is_empty() {
        [Isa::Avx512, Isa::Avx2Fma]
            .into_iter()
            .filter(|isa| isa.is_supported())
            .collect()
    } else {
        asked.into_iter().filter(|isa| isa.is_supported()).collect()
    };
    println!(
        "detected: {:?}; {} thread(s); median of {RUNS} runs of >= {MIN_RUN:?}",
        Isa::detect(),
        netc_kernels::threads::threads()
    );
    for isa in isas {
        if types.is_empty() || types.contains(&"f32") {
            report::<f32>(isa, &labels);
        }
        if types.is_empty() || types.contains(&"f64") {
            report::<f64>(isa, &labels);
        }
    }
}

/// Every wanted shape, then (unless shapes were named) the whole step, in `T` on `isa`.
fn report<T: Element + From<f32>>(isa: Isa, labels: &[&String]) {
    let wanted = |s: &Shape| labels.is_empty() || labels.iter().any(|l| *l == s.label);
    println!("\n{isa:?} {}", std::any::type_name::<T>());
    println!(
        "{:<8} {:<4} {:>16} {:>10} {:>10}",
        "shape", "op", "m x n x k", "GFLOP/s", "(cpu time)"
    );
    for s in STEP.iter().chain([&LARGE]).filter(|s| wanted(s)) {
        let mut ops = Operands::<T>::new(s);
        let rate = measure(flop(s), || ops.run(isa, s));
        let op = match s.variant {
            Variant::Nn => "nn",
            Variant::Nt => "nt",
            Variant::Tn => "tn",
        };
        let dims = format!("{}x{}x{}", s.m, s.n, s.k);
        println!("{:<8} {op:<4} {dims:>16} {rate}", s.label);
    }
    if !labels.is_empty() {
        return;
    }
    let mut all: Vec<Operands<T>> = STEP.iter().map(Operands::new).collect();
    let step_flop: f64 = STEP.iter().map(flop).sum();
    let rate = measure(step_flop, || {
        for (ops, s) in all.iter_mut().zip(&STEP) {
            ops.run(isa, s);
        }
    });
    println!(
        "MLP step GEMMs ({:.2} MFLOP, 8 calls): {:.1} GFLOP/s = {:.0} samples/s at batch 64 \
         (by CPU time: {})",
        step_flop / 1e6,
        rate.wall,
        rate.wall * 1e9 / step_flop * 64.0,
        rate.cpu
            .map_or("-".to_string(), |r| format!("{r:.1} GFLOP/s")),
    );
}
