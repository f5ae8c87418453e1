//! `ensemble bagging D`: D models of one spec, each trained on its own bootstrap sample of
//! the training set, predicting together by majority vote or by averaging their outputs.
//!
//! An [`Ensemble`] predicts batch by batch like one model (its outputs are the vote
//! fractions or the mean outputs, see [`Vote`]), so evaluation, the per-label report and
//! `predict` are the single model's code run on combined outputs.

mod checkpoint;
mod vote;

pub use checkpoint::{load_ensemble, save_ensemble};
pub use vote::Vote;

use crate::data::Dataset;
use crate::error::Error;
use crate::evaluate::{Evaluation, evaluate_by, test_report_by};
use crate::network::Network;
use crate::real::Real as _;
use crate::scalar::Scalar as _;
use vote::Rule;

/// The spec's `ensemble bagging` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnsembleConfig {
    /// Members, each on its own bootstrap sample (2..=1000).
    pub models: usize,
    pub vote: Vote,
}

/// Trained members and how they vote.
pub struct Ensemble<M: Network> {
    pub members: Vec<M>,
    pub vote: Vote,
    /// One member's outputs for one batch (allocated once).
    member_out: Vec<M::Float>,
}

impl<M: Network> Ensemble<M> {
    /// Errors without members (an ensemble of none predicts nothing).
    pub fn new(members: Vec<M>, vote: Vote) -> Result<Ensemble<M>, Error> {
        if members.is_empty() {
            return Err(Error::Usage("an ensemble needs at least one member".into()));
        }
        Ok(Ensemble {
            members,
            vote,
            member_out: vec![M::Float::ZERO; M::BATCH * M::OUTPUT],
        })
    }

    /// The ensemble's outputs for `rows ≤ M::BATCH` samples: for each sample, the members'
    /// contributions ([`Vote`]) summed and divided by the number of members.
    pub fn predict_batch(&mut self, x: &[M::Float], rows: usize, out: &mut [M::Float]) {
        let rule = Rule::of::<M>(self.vote);
        let out = &mut out[..rows * M::OUTPUT];
        out.fill(M::Float::ZERO);
        for member in &mut self.members {
            let member_out = &mut self.member_out[..rows * M::OUTPUT];
            member.predict_batch(x, rows, member_out);
            for (sum, outputs) in out
                .chunks_exact_mut(M::OUTPUT)
                .zip(member_out.chunks_exact(M::OUTPUT))
            {
                rule.add(outputs, sum);
            }
        }
        let members = M::Float::from_f64(self.members.len() as f64);
        out.iter_mut().for_each(|value| *value /= members);
    }

    /// Loss and accuracy of the combined outputs on `data`, scored as one model's are.
    pub fn evaluate(&mut self, data: &Dataset<M::Float>) -> Result<Evaluation, Error> {
        evaluate_by::<M>(&mut |x, rows, out| self.predict_batch(x, rows, out), data)
    }

    /// The test report of the combined outputs (with the per-label table for multi-label).
    pub fn test_report(&mut self, data: &Dataset<M::Float>) -> Result<(Evaluation, String), Error> {
        test_report_by::<M>(&mut |x, rows, out| self.predict_batch(x, rows, out), data)
    }

    /// Combined outputs for every row of `x` (`M::INPUT` values per row).
    pub fn predict(&mut self, x: &[M::Float]) -> Result<Vec<M::Float>, Error> {
        crate::predict::predict_by::<M>(&mut |x, rows, out| self.predict_batch(x, rows, out), x)
    }
}
