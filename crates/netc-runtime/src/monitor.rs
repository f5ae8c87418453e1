//! What `monitor` measures during training: the gradient norm per epoch, and a curvature watch
//! that warns when the learning rate overshoots along the gradient.

/// ‖g‖ over one epoch's steps, from `StepStats::grad_sq`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradNorm {
    /// Mean of ‖g‖ = √(gᵀg) over the epoch's steps.
    pub mean: f32,
    /// ‖g‖ of the epoch's last step.
    pub last: f32,
}

/// Running sums for [`GradNorm`]; no allocation.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct GradNormSum {
    sum: f64,
    last: f64,
    steps: u64,
}

impl GradNormSum {
    pub(crate) fn add(&mut self, grad_sq: f32) {
        let norm = f64::from(grad_sq).sqrt();
        self.sum += norm;
        self.last = norm;
        self.steps += 1;
    }

    /// (sum, last, steps): saved mid-epoch in run-state files.
    pub(crate) fn parts(&self) -> [f64; 3] {
        [self.sum, self.last, self.steps as f64]
    }

    pub(crate) fn from_parts([sum, last, steps]: [f64; 3]) -> GradNormSum {
        GradNormSum {
            sum,
            last,
            steps: steps as u64,
        }
    }

    /// `None` for an epoch without steps.
    pub(crate) fn finish(&self) -> Option<GradNorm> {
        (self.steps > 0).then(|| GradNorm {
            mean: (self.sum / self.steps as f64) as f32,
            last: self.last as f32,
        })
    }
}

/// One curvature check: the quantities at optimizer step `step` (counted from 1 in the `fit`
/// call), for the step −η·g.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvatureCheck {
    pub step: u64,
    /// η, the learning rate of the step.
    pub learning_rate: f64,
    /// gᵀg.
    pub g_g: f64,
    /// gᵀHg (H the Hessian of the loss at the step's parameters).
    pub g_h_g: f64,
}

impl CurvatureCheck {
    /// Along −η·g the loss changes by −η·gᵀg + ½η²·gᵀHg to second order: the step overshoots
    /// (the quadratic model of the loss goes up) when ½η²·gᵀHg > η·gᵀg, i.e. η > 2·gᵀg/gᵀHg.
    /// Never true for non-finite inputs, a non-positive rate or non-positive curvature.
    pub fn overshoots(&self) -> bool {
        let eta = self.learning_rate;
        eta > 0.0 && 0.5 * eta * eta * self.g_h_g > eta * self.g_g
    }

    /// The largest rate that does not overshoot, 2·gᵀg/gᵀHg (infinite without positive
    /// curvature).
    pub fn rate_limit(&self) -> f64 {
        if self.g_h_g > 0.0 {
            2.0 * self.g_g / self.g_h_g
        } else {
            f64::INFINITY
        }
    }
}

/// Decides when a curvature check is worth a warning.
///
/// Occurrence window: a warning is given for an overshooting check only if (a) no warning was
/// given in the same epoch and (b) the check before it (if any) did not overshoot. A rate that
/// keeps overshooting therefore warns once, not once per check; after it recovers for at least
/// one check, the next overshoot warns again (but at most once per epoch).
#[derive(Clone, Debug, Default)]
pub struct CurvatureWatch {
    /// The epoch of the last warning.
    warned_in_epoch: Option<usize>,
    /// The last check overshot (whether or not it warned).
    last_overshot: bool,
}

impl CurvatureWatch {
    pub fn new() -> CurvatureWatch {
        CurvatureWatch::default()
    }

    /// (epoch of the last warning + 1 or 0, last check overshot 0/1): for run-state files.
    pub(crate) fn parts(&self) -> [u64; 2] {
        [
            self.warned_in_epoch.map_or(0, |e| e as u64 + 1),
            u64::from(self.last_overshot),
        ]
    }

    pub(crate) fn from_parts([warned, overshot]: [u64; 2]) -> CurvatureWatch {
        CurvatureWatch {
            warned_in_epoch: warned.checked_sub(1).map(|e| e as usize),
            last_overshot: overshot != 0,
        }
    }

    /// Feeds one check made in `epoch` (1-based); returns the warning to print, if one is due.
    pub fn check(&mut self, epoch: usize, check: &CurvatureCheck) -> Option<String> {
        let overshoots = check.overshoots();
        let due = overshoots && !self.last_overshot && self.warned_in_epoch != Some(epoch);
        self.last_overshot = overshoots;
        if !due {
            return None;
        }
        self.warned_in_epoch = Some(epoch);
        Some(format!(
            "warning: step {}: learning rate {:.2e} overshoots along the gradient: \
             ½η²·gᵀHg = {:.3e} > η·gᵀg = {:.3e}; rates below 2·gᵀg/gᵀHg = {:.2e} do not",
            check.step,
            check.learning_rate,
            0.5 * check.learning_rate * check.learning_rate * check.g_h_g,
            check.learning_rate * check.g_g,
            check.rate_limit()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gᵀg = 1, gᵀHg = 10: rates above 0.2 overshoot.
    fn check(step: u64, learning_rate: f64) -> CurvatureCheck {
        CurvatureCheck {
            step,
            learning_rate,
            g_g: 1.0,
            g_h_g: 10.0,
        }
    }

    #[test]
    fn overshoot_is_half_eta_squared_curvature_above_eta_slope() {
        assert!(check(1, 0.3).overshoots());
        assert!(!check(1, 0.1).overshoots());
        let at_limit = CurvatureCheck {
            g_h_g: 8.0,
            ..check(1, 0.25)
        };
        assert!(
            !at_limit.overshoots(),
            "exactly at the limit 2·gᵀg/gᵀHg: no rise"
        );
        assert_eq!(check(1, 0.3).rate_limit(), 0.2);
        let flat = CurvatureCheck {
            g_h_g: -5.0,
            ..check(1, 100.0)
        };
        assert!(!flat.overshoots(), "negative curvature never overshoots");
        assert_eq!(flat.rate_limit(), f64::INFINITY);
        let nan = CurvatureCheck {
            g_h_g: f64::NAN,
            ..check(1, 1.0)
        };
        assert!(!nan.overshoots());
    }

    #[test]
    fn warns_for_a_too_large_rate_not_for_a_sane_one() {
        let mut watch = CurvatureWatch::new();
        assert_eq!(watch.check(1, &check(10, 0.1)), None);
        let warning = watch
            .check(1, &check(20, 0.5))
            .expect("0.5 > 0.2 overshoots");
        assert_eq!(
            warning,
            "warning: step 20: learning rate 5.00e-1 overshoots along the gradient: \
             ½η²·gᵀHg = 1.250e0 > η·gᵀg = 5.000e-1; rates below 2·gᵀg/gᵀHg = 2.00e-1 do not"
        );
    }

    #[test]
    fn warns_once_per_window() {
        let mut watch = CurvatureWatch::new();
        let warnings = |watch: &mut CurvatureWatch, epoch, rates: &[f64]| {
            rates
                .iter()
                .enumerate()
                .filter_map(|(i, &rate)| watch.check(epoch, &check(i as u64, rate)))
                .count()
        };
        // Overshooting check after overshooting check: one warning.
        assert_eq!(warnings(&mut watch, 1, &[0.5, 0.5, 0.5]), 1);
        // Still overshooting in the next epoch: the same occurrence, no new warning.
        assert_eq!(warnings(&mut watch, 2, &[0.5, 0.5]), 0);
        // Recovered: warns again; a second recovery in the same epoch stays silent.
        assert_eq!(warnings(&mut watch, 3, &[0.1, 0.5, 0.1, 0.5]), 1);
        // Never for sane rates.
        assert_eq!(warnings(&mut CurvatureWatch::new(), 1, &[0.1; 8]), 0);
    }

    #[test]
    fn grad_norm_mean_and_last() {
        let mut sum = GradNormSum::default();
        assert_eq!(sum.finish(), None);
        for grad_sq in [9.0, 16.0, 1.0] {
            sum.add(grad_sq);
        }
        assert_eq!(
            sum.finish(),
            Some(GradNorm {
                mean: 8.0 / 3.0,
                last: 1.0
            })
        );
    }
}
