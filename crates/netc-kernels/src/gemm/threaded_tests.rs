//! Products split over threads equal the single-threaded ones bit for bit.

use std::sync::Mutex;

use super::{Element, Isa, nn_on, nt_on, tn_on};
use crate::threads::{set_threads, threads};

/// Tests that change the process-wide thread count run one at a time.
static THREAD_COUNT: Mutex<()> = Mutex::new(());

/// (m, n, k): the MNIST step's large products, row counts that do not split evenly, and a
/// product too small to split.
const SHAPES: [(usize, usize, usize); 7] = [
    (64, 256, 784),
    (256, 784, 64),
    (64, 256, 128),
    (128, 256, 64),
    (61, 97, 300),
    (200, 33, 129),
    (64, 10, 128),
];

fn values<T: From<f32>>(len: usize, seed: usize) -> Vec<T> {
    (0..len)
        .map(|i| T::from(((i * 7919 + seed * 104_729) % 2003) as f32 / 1001.5 - 1.0))
        .collect()
}

/// C of every variant and both `accumulate` modes under the current thread count.
fn products<T: Element + From<f32>>(isa: Isa) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    for &(m, n, k) in &SHAPES {
        let (a, b) = (values::<T>(m * k, 1), values::<T>(k * n, 2));
        for variant in [nn_on::<T>, nt_on::<T>, tn_on::<T>] {
            for acc in [false, true] {
                let mut c = values::<T>(m * n, 3);
                variant(isa, m, n, k, &a, &b, &mut c, acc);
                out.push(c);
            }
        }
    }
    out
}

/// `products` under 1, 2 and 3 threads; restores the previous count.
fn under_thread_counts<T>(products: impl Fn() -> T) -> [T; 3] {
    let _only_us = THREAD_COUNT.lock().unwrap_or_else(|e| e.into_inner());
    let before = threads();
    let results = [1, 2, 3].map(|count| {
        set_threads(count);
        products()
    });
    set_threads(before);
    results
}

fn assert_bit_identical<T: Copy + PartialEq + std::fmt::Debug>(
    what: &str,
    results: &[Vec<Vec<T>>; 3],
    bits: impl Fn(T) -> u64,
) {
    for (count, result) in [2, 3].into_iter().zip(&results[1..]) {
        for (index, (one, many)) in results[0].iter().zip(result).enumerate() {
            let same = one.iter().zip(many).all(|(&x, &y)| bits(x) == bits(y));
            assert!(same, "{what}: product {index} differs on {count} threads");
        }
    }
}

#[test]
fn f32_products_are_bit_identical_on_any_thread_count() {
    for isa in Isa::ALL.into_iter().filter(|isa| isa.is_supported()) {
        let results = under_thread_counts(|| products::<f32>(isa));
        assert_bit_identical(&format!("f32 {isa:?}"), &results, |x| x.to_bits() as u64);
    }
}

#[test]
fn f64_products_are_bit_identical_on_any_thread_count() {
    for isa in Isa::ALL.into_iter().filter(|isa| isa.is_supported()) {
        let results = under_thread_counts(|| products::<f64>(isa));
        assert_bit_identical(&format!("f64 {isa:?}"), &results, f64::to_bits);
    }
}

#[test]
fn threaded_products_match_the_reference() {
    // Splitting must not only be consistent but right: compare with the portable f64 kernels
    // run whole (below the split threshold per call is irrelevant: the reference is serial).
    let _only_us = THREAD_COUNT.lock().unwrap_or_else(|e| e.into_inner());
    let before = threads();
    set_threads(2);
    let (m, n, k) = (200, 33, 129);
    let (a, b) = (values::<f32>(m * k, 1), values::<f32>(k * n, 2));
    let mut c = vec![f32::NAN; m * n];
    tn_on(Isa::detect(), m, n, k, &a, &b, &mut c, false);
    set_threads(before);
    let wide = |v: &[f32]| v.iter().map(|&x| f64::from(x)).collect::<Vec<_>>();
    let mut want = vec![0.0; m * n];
    super::portable::tn(m, n, k, &wide(&a), m, &wide(&b), &mut want, false);
    for (index, (&got, &want)) in c.iter().zip(&want).enumerate() {
        let tol = 1e-5 * (k as f64 + 1.0) * (1.0 + want.abs());
        assert!(
            (f64::from(got) - want).abs() <= tol,
            "C[{index}] = {got}, want {want}"
        );
    }
}

#[test]
fn threaded_f64_products_match_the_reference() {
    // Every variant split over 2 threads on the detected path (NaN in C ignored) against the
    // portable kernels run whole.
    let _only_us = THREAD_COUNT.lock().unwrap_or_else(|e| e.into_inner());
    let before = threads();
    set_threads(2);
    let (m, n, k) = (200, 33, 129);
    let (a, b) = (values::<f64>(m * k, 1), values::<f64>(k * n, 2));
    let mut got = [nn_on::<f64>, nt_on::<f64>, tn_on::<f64>].map(|variant| {
        let mut c = vec![f64::NAN; m * n];
        variant(Isa::detect(), m, n, k, &a, &b, &mut c, false);
        c
    });
    set_threads(before);
    let mut want = [vec![0.0; m * n], vec![0.0; m * n], vec![0.0; m * n]];
    super::portable::nn(m, n, k, &a, &b, &mut want[0], false);
    super::portable::nt(m, n, k, &a, &b, &mut want[1], false);
    super::portable::tn(m, n, k, &a, m, &b, &mut want[2], false);
    for (variant, (got, want)) in ["nn", "nt", "tn"].iter().zip(got.iter_mut().zip(&want)) {
        for (index, (&got, &want)) in got.iter().zip(want).enumerate() {
            let tol = 1e-14 * (k as f64 + 1.0) * (1.0 + want.abs());
            assert!(
                (got - want).abs() <= tol,
                "{variant}: C[{index}] = {got}, want {want}"
            );
        }
    }
}
