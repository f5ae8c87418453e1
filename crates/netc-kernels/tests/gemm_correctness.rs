//! Every GEMM variant on every instruction-set path this CPU has, against a naive f64 triple
//! loop, over shapes chosen to hit every register-block remainder.

use netc_kernels::gemm::{self, Isa};

#[derive(Clone, Copy, Debug)]
enum Variant {
    Nn,
    Nt,
    Tn,
}

/// Deterministic values in [-1, 1) (a 64-bit LCG; no test depends on a particular sequence).
fn values(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

/// A(i, p) and B(p, j) as the product sees them, whatever the storage order.
fn reference(v: Variant, m: usize, n: usize, k: usize, a: &[f32], b: &[f32]) -> Vec<f64> {
    let a_at = |i: usize, p: usize| match v {
        Variant::Nn | Variant::Nt => a[i * k + p],
        Variant::Tn => a[p * m + i],
    } as f64;
    let b_at = |p: usize, j: usize| match v {
        Variant::Nn | Variant::Tn => b[p * n + j],
        Variant::Nt => b[j * k + p],
    } as f64;
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a_at(i, p) * b_at(p, j)).sum();
        }
    }
    c
}

fn run(isa: Isa, v: Variant, m: usize, n: usize, k: usize, acc: bool) {
    // One spare element past each matrix: kernels must not need or touch it.
    let a = values(m * k + 1, 1 + (m * 31 + n * 7 + k) as u64);
    let b = values(k * n + 1, 2 + (m + n * 13 + k * 3) as u64);
    let c0 = values(m * n + 1, 3);
    let mut c = if acc {
        c0.clone()
    } else {
        vec![f32::NAN; m * n + 1]
    };
    if !acc {
        c[m * n] = 7.0;
    }
    match v {
        Variant::Nn => gemm::nn_on(isa, m, n, k, &a, &b, &mut c, acc),
        Variant::Nt => gemm::nt_on(isa, m, n, k, &a, &b, &mut c, acc),
        Variant::Tn => gemm::tn_on(isa, m, n, k, &a, &b, &mut c, acc),
    }
    let want = reference(v, m, n, k, &a, &b);
    for idx in 0..m * n {
        let expect = want[idx] + if acc { c0[idx] as f64 } else { 0.0 };
        let got = c[idx] as f64;
        // f32 rounding grows with k; the reference is exact enough to be the truth.
        let tol = 1e-5 * (k as f64 + 1.0) * (1.0 + expect.abs());
        assert!(
            (got - expect).abs() <= tol,
            "{isa:?} {v:?} m={m} n={n} k={k} acc={acc}: C[{}, {}] = {got}, want {expect}",
            idx / n,
            idx % n,
        );
    }
    let spare = if acc { c0[m * n] } else { 7.0 };
    assert_eq!(
        c[m * n],
        spare,
        "{isa:?} {v:?} m={m} n={n} k={k}: wrote past C"
    );
}

const SIZES: [usize; 14] = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 65];

fn check_all_shapes(isa: Isa) {
    if !isa.is_supported() {
        eprintln!("skipping {isa:?}: not supported by this CPU");
        return;
    }
    for v in [Variant::Nn, Variant::Nt, Variant::Tn] {
        for &m in &SIZES {
            for &n in &SIZES {
                for &k in &[0, 1, 3, 16, 17, 40] {
                    for acc in [false, true] {
                        run(isa, v, m, n, k, acc);
                    }
                }
            }
        }
        // The MLP's own shapes, widths past one 64-column block, several depth chunks, and
        // more rows than one `nt` pass takes.
        for &(m, n, k) in &[
            (64, 256, 784),
            (64, 10, 128),
            (10, 128, 64),
            (13, 200, 70),
            (7, 131, 300),
            (600, 9, 20),
        ] {
            run(isa, v, m, n, k, false);
            run(isa, v, m, n, k, true);
        }
    }
}

#[test]
fn portable_matches_reference() {
    check_all_shapes(Isa::Portable);
}

#[test]
fn avx2_fma_matches_reference() {
    check_all_shapes(Isa::Avx2Fma);
}

#[test]
fn avx512_matches_reference() {
    check_all_shapes(Isa::Avx512);
}

#[test]
fn detected_path_is_the_best_supported() {
    let best = Isa::detect();
    assert!(best.is_supported());
    assert_eq!(Isa::detect(), best, "detection must be stable");
    for isa in Isa::ALL.into_iter().filter(|isa| isa.is_supported()) {
        assert!(
            isa as u8 <= best as u8,
            "{isa:?} is supported but {best:?} was chosen"
        );
    }
}

#[test]
fn public_entry_points_use_the_detected_path() {
    let (m, n, k) = (5, 19, 21);
    let a = values(m * k, 9);
    let b = values(k * n, 10);
    let want = reference(Variant::Nn, m, n, k, &a, &b);
    let mut c = vec![0.0; m * n];
    gemm::nn(m, n, k, &a, &b, &mut c, false);
    for (got, want) in c.iter().zip(&want) {
        assert!((*got as f64 - want).abs() < 1e-4);
    }
}

#[test]
#[should_panic(expected = "B has")]
fn too_short_b_panics() {
    let mut c = vec![0.0; 4];
    gemm::nt(2, 2, 3, &[0.0; 6], &[0.0; 5], &mut c, false);
}

#[test]
fn f64_variants_match_reference() {
    for v in [Variant::Nn, Variant::Nt, Variant::Tn] {
        for &(m, n, k) in &[
            (0, 3, 2),
            (1, 1, 1),
            (5, 7, 9),
            (17, 3, 33),
            (4, 0, 5),
            (3, 4, 0),
        ] {
            let a: Vec<f64> = values(m * k, 4).into_iter().map(f64::from).collect();
            let b: Vec<f64> = values(k * n, 5).into_iter().map(f64::from).collect();
            let a32: Vec<f32> = a.iter().map(|&x| x as f32).collect();
            let b32: Vec<f32> = b.iter().map(|&x| x as f32).collect();
            let want = reference(v, m, n, k, &a32, &b32);
            for acc in [false, true] {
                let mut c = vec![if acc { 0.5 } else { f64::NAN }; m * n];
                match v {
                    Variant::Nn => gemm::f64::nn(m, n, k, &a, &b, &mut c, acc),
                    Variant::Nt => gemm::f64::nt(m, n, k, &a, &b, &mut c, acc),
                    Variant::Tn => gemm::f64::tn(m, n, k, &a, &b, &mut c, acc),
                }
                for (got, want) in c.iter().zip(&want) {
                    let want = want + if acc { 0.5 } else { 0.0 };
                    assert!((got - want).abs() < 1e-12, "{v:?} {m}x{n}x{k} acc={acc}");
                }
            }
        }
    }
}
