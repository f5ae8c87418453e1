//! The one random number generator of the runtime: deterministic and platform-independent.
//!
//! Every random decision (initialization, sampling order, dropout masks, validation split,
//! augmentation) draws from its own stream of the same seed, so changing how often one consumer
//! draws never shifts another one's numbers. All conversions below are written out by hand
//! (no `rand` distributions), so results do not change with a `rand` upgrade either.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The stream numbers of [`Rng::new`], one per consumer.
pub mod streams {
    pub const INIT: u64 = 1;
    pub const SAMPLING: u64 = 2;
    pub const DROPOUT: u64 = 3;
    pub const SPLIT: u64 = 4;
    pub const AUGMENT: u64 = 5;
    /// Bagging: member seeds and bootstrap samples (6 is the search's).
    pub const ENSEMBLE: u64 = 7;
}

/// ChaCha8 with a seed and a stream; same `(seed, stream)` → same sequence on every platform.
#[derive(Clone, Debug)]
pub struct Rng {
    inner: ChaCha8Rng,
    /// Second value of the last Box–Muller pair, returned by the next `normal` call.
    spare_normal: Option<f32>,
}

/// Everything an [`Rng`] will draw next depends on: saved in run-state files so a resumed
/// run draws exactly the numbers the uninterrupted one would have.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RngState {
    seed: [u8; 32],
    stream: u64,
    word_pos: u128,
    spare_normal: Option<f32>,
}

impl RngState {
    /// Eight words: the 32-byte seed, the stream, the word position (low, high), and the
    /// cached normal (bit 32 set when present, its f32 bits below).
    pub fn to_words(&self) -> [u64; 8] {
        let seed =
            |i: usize| u64::from_le_bytes(self.seed[8 * i..8 * i + 8].try_into().unwrap_or([0; 8]));
        let spare = self
            .spare_normal
            .map_or(0, |z| (1u64 << 32) | u64::from(z.to_bits()));
        [
            seed(0),
            seed(1),
            seed(2),
            seed(3),
            self.stream,
            self.word_pos as u64,
            (self.word_pos >> 64) as u64,
            spare,
        ]
    }

    pub fn from_words(words: [u64; 8]) -> RngState {
        let mut seed = [0u8; 32];
        for (i, word) in words[..4].iter().enumerate() {
            seed[8 * i..8 * i + 8].copy_from_slice(&word.to_le_bytes());
        }
        RngState {
            seed,
            stream: words[4],
            word_pos: u128::from(words[5]) | (u128::from(words[6]) << 64),
            spare_normal: (words[7] >> 32 == 1).then(|| f32::from_bits(words[7] as u32)),
        }
    }
}

impl Rng {
    pub fn state(&self) -> RngState {
        RngState {
            seed: self.inner.get_seed(),
            stream: self.inner.get_stream(),
            word_pos: self.inner.get_word_pos(),
            spare_normal: self.spare_normal,
        }
    }

    pub fn from_state(state: &RngState) -> Rng {
        let mut inner = ChaCha8Rng::from_seed(state.seed);
        inner.set_stream(state.stream);
        inner.set_word_pos(state.word_pos);
        Rng {
            inner,
            spare_normal: state.spare_normal,
        }
    }

    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut inner = ChaCha8Rng::seed_from_u64(seed);
        inner.set_stream(stream);
        Rng {
            inner,
            spare_normal: None,
        }
    }

    pub fn next_u32(&mut self) -> u32 {
        self.inner.next_u32()
    }

    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// Uniform in [0, 1), with 24 random bits (every value exactly representable).
    pub fn uniform(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// Standard normal N(0, 1) by Box–Muller; values come in pairs, the second is cached.
    pub fn normal(&mut self) -> f32 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // 1 - uniform lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - f64::from(self.uniform());
        let u2 = f64::from(self.uniform());
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        self.spare_normal = Some((radius * angle.sin()) as f32);
        (radius * angle.cos()) as f32
    }

    /// Uniform in [0, n), without modulo bias (Lemire's multiply-and-reject). `n` must be > 0.
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0, "Rng::below(0)");
        let n = n.max(1) as u64;
        let threshold = n.wrapping_neg() % n;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(n);
            if (product as u64) >= threshold {
                return (product >> 64) as usize;
            }
        }
    }

    /// Fisher–Yates shuffle of `items` in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_and_stream_repeat_and_streams_differ() {
        let draw = |seed, stream| {
            let mut rng = Rng::new(seed, stream);
            (0..8).map(|_| rng.next_u32()).collect::<Vec<_>>()
        };
        assert_eq!(draw(7, streams::INIT), draw(7, streams::INIT));
        assert_ne!(draw(7, streams::INIT), draw(7, streams::SAMPLING));
        assert_ne!(draw(7, streams::INIT), draw(8, streams::INIT));
    }

    #[test]
    fn uniform_stays_in_unit_interval_with_mean_one_half() {
        let mut rng = Rng::new(1, 0);
        let values: Vec<f32> = (0..20_000).map(|_| rng.uniform()).collect();
        assert!(values.iter().all(|&v| (0.0..1.0).contains(&v)));
        let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn normal_has_zero_mean_and_unit_variance() {
        let mut rng = Rng::new(2, 0);
        let values: Vec<f64> = (0..40_000).map(|_| f64::from(rng.normal())).collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        assert!(mean.abs() < 0.02, "mean {mean}");
        assert!((variance - 1.0).abs() < 0.03, "variance {variance}");
    }

    #[test]
    fn below_covers_every_value_and_nothing_else() {
        let mut rng = Rng::new(3, 0);
        let mut counts = [0usize; 7];
        for _ in 0..7_000 {
            counts[rng.below(7)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (850..1150).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = Rng::new(4, 0);
        let mut items: Vec<usize> = (0..100).collect();
        rng.shuffle(&mut items);
        assert_ne!(items, (0..100).collect::<Vec<_>>());
        items.sort_unstable();
        assert_eq!(items, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_restored_state_draws_the_same_numbers() {
        let mut rng = Rng::new(9, streams::AUGMENT);
        let _ = (rng.next_u64(), rng.next_u32(), rng.normal());
        let saved = RngState::from_words(rng.state().to_words());
        let mut restored = Rng::from_state(&saved);
        for _ in 0..100 {
            assert_eq!(rng.normal().to_bits(), restored.normal().to_bits());
            assert_eq!(rng.next_u32(), restored.next_u32());
        }
    }
}
