//! Training with GEMMs split over threads gives bit-identical weights: products are split by
//! rows of their result, never along the summed dimension.

use netc::Network;

netc::net!(include "../../specs/mnist_ref.net");

/// The parameters after `steps` steps from seed 3 with `threads` GEMM threads.
fn params_after_steps(threads: usize, steps: usize) -> Vec<u64> {
    netc::__private::set_threads(threads);
    let mut model = mnist_ref::new(3);
    let x: Vec<f32> = (0..4 * 64 * 784)
        .map(|i| ((i * 7919) % 255) as f32 / 255.0)
        .collect();
    let labels: Vec<u32> = (0..4 * 64).map(|i| ((i * 31) % 10) as u32).collect();
    for step in 0..steps {
        let batch = step % 4;
        netc::__private::train_step_on(
            &mut model,
            &x[batch * 64 * 784..(batch + 1) * 64 * 784],
            netc::Targets::Classes(&labels[batch * 64..(batch + 1) * 64]),
        );
    }
    let mut params = vec![0.0f64; PARAMS];
    model.read_params(&mut params);
    params.iter().map(|p| p.to_bits()).collect()
}

const PARAMS: usize = <mnist_ref::Model as Network>::PARAMS;

#[test]
fn two_threads_train_bit_identical_weights() {
    let one = params_after_steps(1, 30);
    let two = params_after_steps(2, 30);
    netc::__private::set_threads(1);
    let differing = one.iter().zip(&two).filter(|(a, b)| a != b).count();
    assert_eq!(differing, 0, "{differing} of {PARAMS} parameters differ");
    // The steps did move the weights (a test of nothing would pass too).
    let fresh = {
        let model = mnist_ref::new(3);
        let mut params = vec![0.0f64; PARAMS];
        model.read_params(&mut params);
        params
    };
    let moved = fresh
        .iter()
        .zip(&one)
        .filter(|(a, b)| a.to_bits() != **b)
        .count();
    assert!(moved > PARAMS / 2, "only {moved} parameters moved");
}
