//! Bootstrap samples: as many rows as the training set, drawn uniformly with replacement.

use netc_runtime::rng::Rng;

/// `n` row indices below `n`, each drawn uniformly and independently (with replacement).
pub(crate) fn bootstrap_indices(n: usize, rng: &mut Rng) -> Vec<usize> {
    (0..n).map(|_| rng.below(n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bootstrap_sample_holds_about_63_percent_of_the_rows() {
        // P(row never drawn) = (1 − 1/n)ⁿ → 1/e, so the expected share of distinct rows is
        // 1 − 1/e = 0.63212; its standard deviation at n = 10,000 is ≈ 0.0027, so ±0.012 is
        // more than 4σ.
        let n = 10_000;
        let mut rng = Rng::new(9, 0);
        for _ in 0..5 {
            let indices = bootstrap_indices(n, &mut rng);
            assert_eq!(indices.len(), n);
            assert!(indices.iter().all(|&i| i < n));
            let mut seen = vec![false; n];
            indices.iter().for_each(|&i| seen[i] = true);
            let distinct = seen.iter().filter(|&&s| s).count() as f64 / n as f64;
            assert!(
                (distinct - (1.0 - (-1.0f64).exp())).abs() < 0.012,
                "{distinct}"
            );
        }
    }

    #[test]
    fn same_stream_same_sample() {
        let draw = |seed| bootstrap_indices(100, &mut Rng::new(seed, 7));
        assert_eq!(draw(1), draw(1));
        assert_ne!(draw(1), draw(2));
    }
}
