//! Early stopping's decision after each epoch, apart from the driver (which keeps the best
//! tensors): Keras' `EarlyStopping` rule.

use crate::config::{EarlyStopping, Metric};
use crate::error::Error;
use crate::report::{EarlyStoppingStatus, EpochReport};

/// What to do after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The epoch is the new best: keep its tensors if restoring.
    Improved,
    /// No improvement, patience left.
    Stale,
    /// `patience` epochs in a row without improvement: stop training.
    Stop,
}

/// Tracks the best value of the monitored metric and the epochs since it.
#[derive(Clone, Debug)]
pub struct EarlyStopper {
    cfg: EarlyStopping,
    /// (epoch, value) of the best epoch so far.
    best: Option<(usize, f32)>,
    stale_epochs: usize,
}

impl EarlyStopper {
    /// Refuses a patience of 0, a negative or non-finite `min_delta`, and a validation metric
    /// when `has_validation` is false.
    pub fn new(cfg: EarlyStopping, has_validation: bool) -> Result<EarlyStopper, Error> {
        let name = cfg.monitor.name();
        if cfg.monitor.needs_validation() && !has_validation {
            return Err(Error::Usage(format!(
                "early stopping monitors `{name}`, but there is no validation split: hold one \
                 out (`validation N` or `validation P%` in the data block) or monitor \
                 `train_loss` / `train_accuracy`"
            )));
        }
        if cfg.patience == 0 {
            return Err(Error::Usage("early stopping needs a patience ≥ 1".into()));
        }
        if !(cfg.min_delta >= 0.0 && cfg.min_delta.is_finite()) {
            return Err(Error::Usage(format!(
                "early stopping needs a finite min_delta ≥ 0, not {}",
                cfg.min_delta
            )));
        }
        Ok(EarlyStopper {
            cfg,
            best: None,
            stale_epochs: 0,
        })
    }

    /// (has a best 0/1, best epoch, best value, stale epochs): for run-state files.
    pub(crate) fn parts(&self) -> [f64; 4] {
        let (epoch, value) = self.best.unwrap_or((0, 0.0));
        [
            f64::from(u8::from(self.best.is_some())),
            epoch as f64,
            f64::from(value),
            self.stale_epochs as f64,
        ]
    }

    pub(crate) fn restore_parts(&mut self, [has_best, epoch, value, stale]: [f64; 4]) {
        self.best = (has_best != 0.0).then_some((epoch as usize, value as f32));
        self.stale_epochs = stale as usize;
    }

    /// Feeds the monitored value of `epoch`. An epoch improves when its value is finite and
    /// better than the best so far by more than `min_delta` (losses: lower, accuracies:
    /// higher); the first finite value always improves. A missing or non-finite value never
    /// does. After `patience` epochs in a row without improvement the verdict is `Stop`.
    pub fn observe(&mut self, epoch: usize, value: Option<f32>) -> Verdict {
        let improved = match (value, self.best) {
            (Some(value), _) if !value.is_finite() => false,
            (None, _) => false,
            (Some(_), None) => true,
            (Some(value), Some((_, best))) => {
                let (value, best) = (f64::from(value), f64::from(best));
                if self.cfg.monitor.lower_is_better() {
                    value < best - self.cfg.min_delta
                } else {
                    value > best + self.cfg.min_delta
                }
            }
        };
        if improved {
            self.best = value.map(|v| (epoch, v));
            self.stale_epochs = 0;
            return Verdict::Improved;
        }
        self.stale_epochs += 1;
        if self.stale_epochs >= self.cfg.patience {
            Verdict::Stop
        } else {
            Verdict::Stale
        }
    }

    /// The monitored value in an epoch's report.
    pub fn value_of(&self, report: &EpochReport) -> Option<f32> {
        match self.cfg.monitor {
            Metric::ValLoss => report.val_loss,
            Metric::ValAccuracy => report.val_accuracy,
            Metric::TrainLoss => Some(report.loss),
            Metric::TrainAccuracy => Some(report.train_accuracy),
        }
    }

    pub fn config(&self) -> &EarlyStopping {
        &self.cfg
    }

    /// The best epoch (1-based) and its value.
    pub fn best(&self) -> Option<(usize, f32)> {
        self.best
    }

    pub fn status(&self, stopped: bool) -> EarlyStoppingStatus {
        EarlyStoppingStatus {
            best_epoch: self.best.map(|(epoch, _)| epoch),
            best: self.best.map(|(_, value)| value),
            stale_epochs: self.stale_epochs,
            patience: self.cfg.patience,
            stopped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stopper(monitor: Metric, patience: usize, min_delta: f64) -> EarlyStopper {
        let cfg = EarlyStopping {
            patience,
            monitor,
            min_delta,
            restore_best: false,
        };
        EarlyStopper::new(cfg, true).unwrap()
    }

    /// The verdicts for a scripted metric sequence, `I`mproved / `s`tale / `S`top, up to the
    /// first stop.
    fn verdicts(mut stopper: EarlyStopper, values: &[f32]) -> String {
        let mut out = String::new();
        for (i, &value) in values.iter().enumerate() {
            let verdict = stopper.observe(i + 1, Some(value));
            out.push(match verdict {
                Verdict::Improved => 'I',
                Verdict::Stale => 's',
                Verdict::Stop => 'S',
            });
            if verdict == Verdict::Stop {
                break;
            }
        }
        out
    }

    #[test]
    fn stops_after_patience_epochs_without_improvement() {
        let losses = [1.0, 0.8, 0.9, 0.85, 0.7, 0.75, 0.75, 0.72, 0.71];
        assert_eq!(
            verdicts(stopper(Metric::ValLoss, 3, 0.0), &losses),
            "IIssIssS"
        );
        let mut s = stopper(Metric::ValLoss, 3, 0.0);
        for (i, &loss) in losses.iter().enumerate().take(8) {
            s.observe(i + 1, Some(loss));
        }
        assert_eq!(s.best(), Some((5, 0.7)));
    }

    #[test]
    fn never_stops_while_patience_lasts() {
        // Improvement every third epoch with patience 3: stale, stale, improved, forever.
        let losses: Vec<f32> = (0..30)
            .map(|i| {
                if i % 3 == 0 {
                    1.0 - i as f32 / 100.0
                } else {
                    2.0
                }
            })
            .collect();
        let out = verdicts(stopper(Metric::TrainLoss, 3, 0.0), &losses);
        assert_eq!(out.len(), 30);
        assert!(!out.contains('S'), "{out}");
        // Patience 2 runs out on the second stale epoch.
        assert_eq!(verdicts(stopper(Metric::TrainLoss, 2, 0.0), &losses), "IsS");
    }

    #[test]
    fn accuracy_improves_upwards() {
        let accuracies = [0.5, 0.6, 0.6, 0.59, 0.7, 0.7];
        assert_eq!(
            verdicts(stopper(Metric::ValAccuracy, 2, 0.0), &accuracies),
            "IIsS"
        );
        assert_eq!(
            verdicts(stopper(Metric::TrainAccuracy, 3, 0.0), &accuracies),
            "IIssIs"
        );
    }

    #[test]
    fn min_delta_is_honoured() {
        // Each step down is 0.05; against the best, two steps (0.1) do not beat min_delta 0.11.
        let losses = [1.0, 0.95, 0.9, 0.85];
        assert_eq!(verdicts(stopper(Metric::ValLoss, 2, 0.01), &losses), "IIII");
        assert_eq!(verdicts(stopper(Metric::ValLoss, 2, 0.11), &losses), "IsS");
        // Against the best, not the last: 0.97 and 0.94 each fail to beat 1.0 by 0.1, 0.89 does.
        let creeping = [1.0, 0.97, 0.94, 0.89];
        assert_eq!(
            verdicts(stopper(Metric::ValLoss, 5, 0.1), &creeping),
            "IssI"
        );
        let accuracies = [0.5, 0.52, 0.56];
        assert_eq!(
            verdicts(stopper(Metric::ValAccuracy, 5, 0.05), &accuracies),
            "IsI"
        );
    }

    #[test]
    fn non_finite_or_missing_values_never_improve() {
        let mut s = stopper(Metric::ValLoss, 2, 0.0);
        assert_eq!(s.observe(1, Some(f32::NAN)), Verdict::Stale);
        assert_eq!(s.best(), None);
        assert_eq!(s.observe(2, Some(1.0)), Verdict::Improved);
        assert_eq!(s.observe(3, None), Verdict::Stale);
        assert_eq!(s.observe(4, Some(f32::NEG_INFINITY)), Verdict::Stop);
        assert_eq!(s.best(), Some((2, 1.0)));
    }

    #[test]
    fn refuses_what_cannot_work() {
        let cfg = EarlyStopping {
            patience: 3,
            monitor: Metric::ValAccuracy,
            min_delta: 0.0,
            restore_best: true,
        };
        let error = EarlyStopper::new(cfg, false).unwrap_err().to_string();
        assert!(
            error.starts_with(
                "early stopping monitors `val_accuracy`, but there is no validation split"
            ),
            "{error}"
        );
        let train_metric = EarlyStopping {
            monitor: Metric::TrainLoss,
            ..cfg
        };
        assert!(EarlyStopper::new(train_metric, false).is_ok());
        let no_patience = EarlyStopping { patience: 0, ..cfg };
        assert!(EarlyStopper::new(no_patience, true).is_err());
        let negative = EarlyStopping {
            min_delta: -0.1,
            ..cfg
        };
        assert!(EarlyStopper::new(negative, true).is_err());
    }
}
