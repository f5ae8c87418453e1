//! How the members' outputs become the ensemble's: summed per member, then divided by the
//! number of members, so every rule yields outputs the evaluation scores like one model's.

use crate::evaluate::arg_max;
use crate::network::{Network, OutputKind, TargetKind};
use crate::real::Real;

/// `vote=` of `ensemble bagging`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vote {
    /// Each member votes for a class (or says yes/no per logistic unit); the output is the
    /// fraction of votes.
    Majority,
    /// The output is the mean of the members' outputs (probabilities, or values for mse).
    Average,
}

impl Vote {
    pub fn name(self) -> &'static str {
        match self {
            Vote::Majority => "majority",
            Vote::Average => "average",
        }
    }
}

/// What one member adds to the ensemble's sum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Its outputs.
    Mean,
    /// 1 for its arg-max class (softmax, one-vs-all logistic on class labels): the ensemble's
    /// arg-max is the majority class, ties going to the lower class index.
    ClassVote,
    /// 1 for every unit at ≥ 0.5 (one logistic unit, multi-label logistic): the ensemble's
    /// unit is ≥ 0.5 when at least half of the members say yes.
    UnitVote,
}

impl Rule {
    /// The rule of `vote` for model type `M`. Sema refuses a majority vote of mse models;
    /// should one get here, their values are averaged.
    pub(crate) fn of<M: Network>(vote: Vote) -> Rule {
        match (vote, M::OUTPUT_KIND) {
            (Vote::Average, _) | (Vote::Majority, OutputKind::Linear) => Rule::Mean,
            (Vote::Majority, OutputKind::Softmax) => Rule::ClassVote,
            (Vote::Majority, OutputKind::Logistic)
                if M::TARGET_KIND == TargetKind::Classes && M::OUTPUT > 1 =>
            {
                Rule::ClassVote
            }
            (Vote::Majority, OutputKind::Logistic) => Rule::UnitVote,
        }
    }

    /// Adds one member's outputs for one sample into `sum` (same length).
    pub(crate) fn add<V: Real>(self, member: &[V], sum: &mut [V]) {
        let half = V::from_f64(0.5);
        match self {
            Rule::Mean => sum.iter_mut().zip(member).for_each(|(s, &y)| *s += y),
            Rule::ClassVote => sum[arg_max(member)] += V::ONE,
            Rule::UnitVote => sum
                .iter_mut()
                .zip(member)
                .for_each(|(s, &p)| *s += V::from_byte(u8::from(p >= half))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three members' outputs for one sample, combined by `rule` and divided by 3.
    fn combine(rule: Rule, members: [[f32; 3]; 3]) -> [f32; 3] {
        let mut sum = [0.0; 3];
        for member in &members {
            rule.add(member, &mut sum);
        }
        sum.map(|s| s / 3.0)
    }

    const MEMBERS: [[f32; 3]; 3] = [
        [0.6, 0.3, 0.1],   // votes 0
        [0.2, 0.5, 0.3],   // votes 1
        [0.4, 0.45, 0.15], // votes 1
    ];

    #[test]
    fn mean_averages_the_outputs() {
        // (0.6+0.2+0.4)/3 = 0.4, (0.3+0.5+0.45)/3 = 0.41667, (0.1+0.3+0.15)/3 = 0.18333
        let mean = combine(Rule::Mean, MEMBERS);
        for (got, want) in mean.iter().zip([0.4, 1.25 / 3.0, 0.55 / 3.0]) {
            assert!((got - want).abs() < 1e-6, "{mean:?}");
        }
    }

    #[test]
    fn class_vote_counts_arg_maxes() {
        // Class 1 wins 2 of 3 although the mean of class 0's probability is close (0.4 vs
        // 0.4167): the vote and the average can disagree, which is why both exist.
        assert_eq!(
            combine(Rule::ClassVote, MEMBERS),
            [1.0 / 3.0, 2.0 / 3.0, 0.0]
        );
        // A tie (one vote each) goes to the lowest class index, by `arg_max`.
        let tie = combine(
            Rule::ClassVote,
            [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]],
        );
        assert_eq!(arg_max(&tie), 0);
    }

    #[test]
    fn unit_vote_counts_yes_per_unit() {
        // Unit 0: 0.6 ≥ 0.5 yes, 0.2 no, 0.4 no → 1/3; unit 1: no, yes (0.5), no → 1/3;
        // unit 2: no ×3 → 0.
        assert_eq!(
            combine(Rule::UnitVote, MEMBERS),
            [1.0 / 3.0, 1.0 / 3.0, 0.0]
        );
    }
}
