//! Training-step throughput of the generated code for the benchmark specs (synthetic data).
//!
//! `cargo run --release -p netc --example bench_specs [seconds]`

netc::net!(include "../../specs/tiny.net");
netc::net!(include "../../specs/mnist_mlp.net");

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let tiny = netc::__private::bench::<tiny::Model>(tiny::Hyper::default(), seconds, 5);
    println!(
        "tiny 4-16-3, batch 8: {:.0} steps/s ({:.0} samples/s)",
        tiny.steps_per_sec, tiny.samples_per_sec
    );
    let mnist = netc::__private::bench::<mnist_mlp::Model>(mnist_mlp::Hyper::default(), seconds, 5);
    println!(
        "mnist_mlp 784-256-128-10, batch 64: {:.0} samples/s, {:.1} GFLOP/s",
        mnist.samples_per_sec, mnist.gflops
    );
}
