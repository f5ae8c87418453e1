//! Every GEMM variant on every instruction-set path this CPU has, in f32 and f64, against a
//! naive triple loop, over shapes chosen to hit every register-block remainder.

use netc_kernels::gemm::{self, Element, Isa};

#[derive(Clone, Copy, Debug)]
enum Variant {
    Nn,
    Nt,
    Tn,
}

/// An element type under test: how it converts and how close to the reference it must come.
trait Elem: Element + std::fmt::Debug + PartialEq {
    const NAN: Self;
    /// Allowed error per unit of depth, relative to 1 + |result|: the type's rounding grows
    /// with k (the reference sums in f64, exact enough to be the truth for f32, and rounding
    /// in a different order for f64).
    const TOLERANCE: f64;
    /// `x` rounded to this type.
    fn from_f64(x: f64) -> Self;
    fn to_f64(self) -> f64;
}

impl Elem for f32 {
    const NAN: Self = f32::NAN;
    const TOLERANCE: f64 = 1e-5;
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn to_f64(self) -> f64 {
        self.into()
    }
}

impl Elem for f64 {
    const NAN: Self = f64::NAN;
    const TOLERANCE: f64 = 1e-14;
    fn from_f64(x: f64) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
}

/// Deterministic values in [-1, 1) (a 64-bit LCG; no test depends on a particular sequence).
fn values<T: Elem>(len: usize, seed: u64) -> Vec<T> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            T::from_f64(((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0)
        })
        .collect()
}

/// A(i, p) and B(p, j) as the product sees them, whatever the storage order.
fn reference<T: Elem>(v: Variant, m: usize, n: usize, k: usize, a: &[T], b: &[T]) -> Vec<f64> {
    let a_at = |i: usize, p: usize| {
        match v {
            Variant::Nn | Variant::Nt => a[i * k + p],
            Variant::Tn => a[p * m + i],
        }
        .to_f64()
    };
    let b_at = |p: usize, j: usize| {
        match v {
            Variant::Nn | Variant::Tn => b[p * n + j],
            Variant::Nt => b[j * k + p],
        }
        .to_f64()
    };
    let mut c = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            c[i * n + j] = (0..k).map(|p| a_at(i, p) * b_at(p, j)).sum();
        }
    }
    c
}

fn run<T: Elem>(isa: Isa, v: Variant, m: usize, n: usize, k: usize, acc: bool) {
    let name = std::any::type_name::<T>();
    // One spare element past each matrix: kernels must not need or touch it.
    let a = values(m * k + 1, 1 + (m * 31 + n * 7 + k) as u64);
    let b = values(k * n + 1, 2 + (m + n * 13 + k * 3) as u64);
    let c0 = values::<T>(m * n + 1, 3);
    let spare = if acc { c0[m * n] } else { T::from_f64(7.0) };
    let mut c = if acc {
        c0.clone()
    } else {
        vec![T::NAN; m * n + 1]
    };
    c[m * n] = spare;
    match v {
        Variant::Nn => gemm::nn_on(isa, m, n, k, &a, &b, &mut c, acc),
        Variant::Nt => gemm::nt_on(isa, m, n, k, &a, &b, &mut c, acc),
        Variant::Tn => gemm::tn_on(isa, m, n, k, &a, &b, &mut c, acc),
    }
    let want = reference(v, m, n, k, &a, &b);
    for idx in 0..m * n {
        let expect = want[idx] + if acc { c0[idx].to_f64() } else { 0.0 };
        let got = c[idx].to_f64();
        let tol = T::TOLERANCE * (k as f64 + 1.0) * (1.0 + expect.abs());
        assert!(
            (got - expect).abs() <= tol,
            "{name} {isa:?} {v:?} m={m} n={n} k={k} acc={acc}: C[{}, {}] = {got}, want {expect}",
            idx / n,
            idx % n,
        );
    }
    assert_eq!(
        c[m * n],
        spare,
        "{name} {isa:?} {v:?} m={m} n={n} k={k}: wrote past C"
    );
}

const SIZES: [usize; 14] = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 65];

fn check_all_shapes<T: Elem>(isa: Isa) {
    if !isa.is_supported() {
        eprintln!("skipping {isa:?}: not supported by this CPU");
        return;
    }
    for v in [Variant::Nn, Variant::Nt, Variant::Tn] {
        for &m in &SIZES {
            for &n in &SIZES {
                for &k in &[0, 1, 3, 16, 17, 40] {
                    for acc in [false, true] {
                        run::<T>(isa, v, m, n, k, acc);
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
            (9, 600, 20),
            (13, 40, 1100),
        ] {
            run::<T>(isa, v, m, n, k, false);
            run::<T>(isa, v, m, n, k, true);
        }
    }
}

#[test]
fn portable_matches_reference() {
    check_all_shapes::<f32>(Isa::Portable);
}

#[test]
fn avx2_fma_matches_reference() {
    check_all_shapes::<f32>(Isa::Avx2Fma);
}

#[test]
fn avx512_matches_reference() {
    check_all_shapes::<f32>(Isa::Avx512);
}

#[test]
fn f64_portable_matches_reference() {
    check_all_shapes::<f64>(Isa::Portable);
}

#[test]
fn f64_avx2_fma_matches_reference() {
    check_all_shapes::<f64>(Isa::Avx2Fma);
}

#[test]
fn f64_avx512_matches_reference() {
    check_all_shapes::<f64>(Isa::Avx512);
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
    let a = values::<f32>(m * k, 9);
    let b = values::<f32>(k * n, 10);
    let want = reference(Variant::Nn, m, n, k, &a, &b);
    let mut c = vec![0.0; m * n];
    gemm::nn(m, n, k, &a, &b, &mut c, false);
    for (got, want) in c.iter().zip(&want) {
        assert!((*got as f64 - want).abs() < 1e-4);
    }
}

#[test]
fn f64_entry_points_match_the_detected_path_bit_for_bit() {
    let (m, n, k) = (13, 37, 45);
    let a = values::<f64>(m * k, 11);
    let b = values::<f64>(k * n, 12);
    type Entry = fn(usize, usize, usize, &[f64], &[f64], &mut [f64], bool);
    type On = fn(Isa, usize, usize, usize, &[f64], &[f64], &mut [f64], bool);
    let pairs: [(Entry, On); 3] = [
        (gemm::f64::nn, gemm::nn_on),
        (gemm::f64::nt, gemm::nt_on),
        (gemm::f64::tn, gemm::tn_on),
    ];
    for (entry, on) in pairs {
        let (mut got, mut want) = (vec![0.0; m * n], vec![0.0; m * n]);
        entry(m, n, k, &a, &b, &mut got, false);
        on(Isa::detect(), m, n, k, &a, &b, &mut want, false);
        assert_eq!(got, want);
    }
}

#[test]
#[should_panic(expected = "B has")]
fn too_short_b_panics() {
    let mut c = vec![0.0; 4];
    gemm::nt(2, 2, 3, &[0.0; 6], &[0.0; 5], &mut c, false);
}
