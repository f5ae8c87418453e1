//! What a training run reports, and how it is written for people (one line per epoch) and for
//! tools (one JSON object per line).

use crate::config::Metric;
use crate::monitor::{CurvatureCheck, GradNorm};
use crate::network::{Network, OutputKind, TargetKind};

/// One epoch of [`crate::fit`]. Accuracies are fractions in 0..=1.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochReport {
    /// 1-based.
    pub epoch: usize,
    /// Mean training loss over the epoch's steps (the data loss).
    pub loss: f32,
    /// Mean regularization loss over the epoch's steps; `None` when the model reported none.
    pub reg_loss: Option<f32>,
    pub train_accuracy: f32,
    pub val_loss: Option<f32>,
    pub val_accuracy: Option<f32>,
    /// The learning rate at the start of the epoch.
    pub learning_rate: f32,
    /// Training throughput (excluding evaluation).
    pub samples_per_sec: f64,
    /// Optimizer steps taken so far (cumulative).
    pub steps: u64,
    /// ‖g‖ over the epoch's steps; `None` unless `monitor grad_norm`.
    pub grad_norm: Option<GradNorm>,
    /// The curvature checks made during the epoch (empty unless `monitor curvature`).
    pub curvature: Vec<CurvatureCheck>,
    /// Early stopping's state after this epoch; `None` without early stopping.
    pub early_stopping: Option<EarlyStoppingStatus>,
    /// How the line and the JSON score the samples ([`TrainMetric::of`] the model).
    pub metric: TrainMetric,
}

/// How an epoch line scores the training (and validation) samples: a property of the model,
/// the same for every epoch of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainMetric {
    /// The fraction of samples right: `train 96.12%`.
    Accuracy,
    /// An mse model on value targets, which have no accuracy: the root mean squared error over
    /// the samples and the model's `outputs` units, `train rmse 0.1234`.
    Rmse { outputs: usize },
}

impl TrainMetric {
    /// [`TrainMetric::Rmse`] for an mse model (linear outputs) that trains on value targets;
    /// accuracy otherwise (an mse unit on a class label is right when its output rounds to it).
    pub fn of<M: Network>() -> TrainMetric {
        if M::OUTPUT_KIND == OutputKind::Linear && M::TARGET_KIND == TargetKind::Values {
            TrainMetric::Rmse { outputs: M::OUTPUT }
        } else {
            TrainMetric::Accuracy
        }
    }
}

/// The RMSE of an mse model whose mean data loss per sample is `loss` = mean Σ_j ½(y_j − t_j)²
/// over its `outputs` units: √(2·loss / outputs). Exact for the reported losses: a step's
/// and an evaluation's data loss are this sum, the regularization loss is kept apart.
pub fn rmse_from_loss(loss: f32, outputs: usize) -> f32 {
    (2.0 * f64::from(loss) / outputs.max(1) as f64).sqrt() as f32
}

/// Early stopping after one epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStoppingStatus {
    /// The best epoch so far and its value of the monitored metric (`None` while no epoch had
    /// a finite value).
    pub best_epoch: Option<usize>,
    pub best: Option<f32>,
    /// Epochs in a row without improvement, up to and including this one.
    pub stale_epochs: usize,
    pub patience: usize,
    /// Training stops after this epoch.
    pub stopped: bool,
}

/// How early stopping ended a run of [`crate::fit`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStop {
    pub monitor: Metric,
    pub patience: usize,
    pub min_delta: f64,
    /// The epoch after which training stopped; `None` when it ran all its epochs (or reached
    /// `max_steps`).
    pub stopped_after: Option<usize>,
    pub best_epoch: Option<usize>,
    pub best: Option<f32>,
    /// The epoch whose tensors the model was given back at the end (`restore_best`, when the
    /// best epoch was not the last one).
    pub restored_epoch: Option<usize>,
}

/// A whole run of [`crate::fit`].
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub epochs: Vec<EpochReport>,
    pub test_loss: Option<f32>,
    pub test_accuracy: Option<f32>,
    pub steps: u64,
    /// `None` without early stopping.
    pub early_stop: Option<EarlyStop>,
}

impl Report {
    /// The metrics file [`crate::fit`] writes for this run: one JSON line per epoch, then the
    /// early-stopping line when the run had early stopping. For runs whose file is written
    /// after the fact (a search's winner, a bagging member trained on another rank).
    pub fn metrics_text(&self) -> String {
        let mut text: String = self.epochs.iter().map(|e| e.to_json() + "\n").collect();
        if let Some(early_stop) = &self.early_stop {
            text += &early_stop.to_json();
            text.push('\n');
        }
        text
    }
}

impl EpochReport {
    /// `epoch  3/10  loss 0.1234  train 96.12%  [reg 0.0421]  val 97.05% (loss 0.0987)  lr 5.00e-2  123,456 samples/s`
    /// (`reg`: the regularization loss, apart from the data loss, when the model has one;
    /// with `monitor grad_norm`, `‖g‖ 1.23e-1` (the epoch's mean) before `lr`; with early
    /// stopping, `best` or `no improvement 2/5` at the end)
    /// For [`TrainMetric::Rmse`]: `train rmse 0.1234` and `val rmse 0.1301 (loss 0.0085)`,
    /// from the data losses.
    pub fn to_line(&self, total_epochs: usize) -> String {
        let width = total_epochs.to_string().len();
        let score = |accuracy: f32, loss: f32| match self.metric {
            TrainMetric::Accuracy => format!("{:.2}%", 100.0 * accuracy),
            TrainMetric::Rmse { outputs } => {
                format!("rmse {}", format_loss(rmse_from_loss(loss, outputs)))
            }
        };
        let mut line = format!(
            "epoch {:>width$}/{total_epochs}  loss {}  train {}",
            self.epoch,
            format_loss(self.loss),
            score(self.train_accuracy, self.loss)
        );
        if let Some(reg_loss) = self.reg_loss {
            line += &format!("  reg {}", format_loss(reg_loss));
        }
        if let (Some(accuracy), Some(loss)) = (self.val_accuracy, self.val_loss) {
            line += &format!(
                "  val {} (loss {})",
                score(accuracy, loss),
                format_loss(loss)
            );
        }
        if let Some(grad_norm) = self.grad_norm {
            line += &format!("  ‖g‖ {:.2e}", grad_norm.mean);
        }
        line += &format!(
            "  lr {:.2e}  {} samples/s",
            self.learning_rate,
            group_thousands(self.samples_per_sec.round() as u64)
        );
        if let Some(status) = self.early_stopping {
            if status.best_epoch == Some(self.epoch) {
                line += "  best";
            } else {
                line += &format!(
                    "  no improvement {}/{}",
                    status.stale_epochs, status.patience
                );
            }
        }
        line
    }

    /// One JSON object (no trailing newline); missing or non-finite values are `null`. For
    /// [`TrainMetric::Rmse`], `"train_rmse"` and `"val_rmse"` (`null` without validation)
    /// follow `"steps"`.
    pub fn to_json(&self) -> String {
        let mut json = format!(
            "{{\"epoch\":{},\"loss\":{},\"reg_loss\":{},\"train_accuracy\":{},\"val_loss\":{},\"val_accuracy\":{},\"learning_rate\":{},\"samples_per_sec\":{},\"steps\":{}}}",
            self.epoch,
            json_number(Some(self.loss)),
            json_number(self.reg_loss),
            json_number(Some(self.train_accuracy)),
            json_number(self.val_loss),
            json_number(self.val_accuracy),
            json_number(Some(self.learning_rate)),
            json_number(Some(self.samples_per_sec)),
            self.steps
        );
        // The rmse, monitoring and early stopping add fields only when they apply.
        let mut extra = String::new();
        if let TrainMetric::Rmse { outputs } = self.metric {
            extra += &format!(
                ",\"train_rmse\":{},\"val_rmse\":{}",
                json_number(Some(rmse_from_loss(self.loss, outputs))),
                json_number(self.val_loss.map(|loss| rmse_from_loss(loss, outputs)))
            );
        }
        if let Some(g) = self.grad_norm {
            extra += &format!(
                ",\"grad_norm\":{{\"mean\":{},\"last\":{}}}",
                json_number(Some(g.mean)),
                json_number(Some(g.last))
            );
        }
        if !self.curvature.is_empty() {
            let checks: Vec<String> = self
                .curvature
                .iter()
                .map(|c| {
                    format!(
                        "{{\"step\":{},\"gTg\":{},\"gTHg\":{},\"lr\":{}}}",
                        c.step,
                        json_number(Some(c.g_g)),
                        json_number(Some(c.g_h_g)),
                        json_number(Some(c.learning_rate))
                    )
                })
                .collect();
            extra += &format!(",\"curvature\":[{}]", checks.join(","));
        }
        if let Some(status) = self.early_stopping {
            extra += &format!(
                ",\"early_stopping\":{{\"best_epoch\":{},\"best\":{},\"stale_epochs\":{},\"patience\":{},\"stopped\":{}}}",
                json_option(status.best_epoch),
                json_number(status.best),
                status.stale_epochs,
                status.patience,
                status.stopped
            );
        }
        if !extra.is_empty() {
            json.pop();
            json += &extra;
            json.push('}');
        }
        json
    }
}

impl EarlyStop {
    /// What early stopping did, for people; `None` when it neither stopped nor restored.
    /// `early stop after epoch 7: val_accuracy did not improve by > 0 for 5 epochs; restored
    /// epoch 2 (val_accuracy 97.05%)`.
    pub fn to_line(&self) -> Option<String> {
        let name = self.monitor.name();
        let best = match (self.best_epoch, self.best) {
            (Some(epoch), Some(value)) => Some((epoch, self.format_value(value))),
            _ => None,
        };
        let outcome = match (self.restored_epoch, &best) {
            (Some(epoch), Some((_, value))) => format!("restored epoch {epoch} ({name} {value})"),
            (_, Some((epoch, value))) => format!("best was epoch {epoch} ({name} {value})"),
            (_, None) => format!("no epoch had a finite {name}"),
        };
        match self.stopped_after {
            Some(epoch) => Some(format!(
                "early stop after epoch {epoch}: {name} did not improve by > {} for {} epoch{}; {outcome}",
                self.min_delta,
                self.patience,
                if self.patience == 1 { "" } else { "s" }
            )),
            None => self.restored_epoch.map(|_| outcome),
        }
    }

    /// The metrics file's last line: `{"early_stop":{"monitor":"val_loss",…}}`.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"early_stop\":{{\"monitor\":\"{}\",\"patience\":{},\"min_delta\":{},\"stopped_after\":{},\"best_epoch\":{},\"best\":{},\"restored_epoch\":{}}}}}",
            self.monitor.name(),
            self.patience,
            json_number(Some(self.min_delta)),
            json_option(self.stopped_after),
            json_option(self.best_epoch),
            json_number(self.best),
            json_option(self.restored_epoch)
        )
    }

    fn format_value(&self, value: f32) -> String {
        if self.monitor.lower_is_better() {
            format_loss(value)
        } else {
            format!("{:.2}%", 100.0 * value)
        }
    }
}

/// `test accuracy 97.83% (loss 0.0712)`
pub fn test_line(accuracy: f32, loss: f32) -> String {
    format!(
        "test accuracy {:.2}% (loss {})",
        100.0 * accuracy,
        format_loss(loss)
    )
}

/// Four decimals (`0.0712`), or scientific notation (`1.235e29`) once that would print a
/// wall of digits, as an exploding loss does.
pub fn format_loss(loss: f32) -> String {
    if loss.abs() < 1e5 {
        format!("{loss:.4}")
    } else {
        format!("{loss:.3e}")
    }
}

/// 1234567 → `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// A JSON integer, or `null`.
fn json_option(value: Option<usize>) -> String {
    value.map_or_else(|| "null".to_string(), |v| v.to_string())
}

/// A JSON number, or `null` for a missing or non-finite value. Debug formatting of floats is
/// the shortest text that reads back to the same value, and is valid JSON when finite.
fn json_number<F: Into<f64> + std::fmt::Debug + Copy>(value: Option<F>) -> String {
    match value {
        Some(v) if v.into().is_finite() => format!("{v:?}"),
        _ => "null".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(validation: bool) -> EpochReport {
        EpochReport {
            epoch: 3,
            loss: 0.12344,
            reg_loss: None,
            train_accuracy: 0.9612,
            val_loss: validation.then_some(0.0987),
            val_accuracy: validation.then_some(0.9705),
            learning_rate: 0.05,
            samples_per_sec: 123_456.4,
            steps: 1500,
            grad_norm: None,
            curvature: Vec::new(),
            early_stopping: None,
            metric: TrainMetric::Accuracy,
        }
    }

    #[test]
    fn epoch_line_format() {
        assert_eq!(
            report(true).to_line(10),
            "epoch  3/10  loss 0.1234  train 96.12%  val 97.05% (loss 0.0987)  lr 5.00e-2  123,456 samples/s"
        );
        assert_eq!(
            report(false).to_line(5),
            "epoch 3/5  loss 0.1234  train 96.12%  lr 5.00e-2  123,456 samples/s"
        );
        assert_eq!(
            test_line(0.9783, 0.0712),
            "test accuracy 97.83% (loss 0.0712)"
        );
    }

    #[test]
    fn json_line_has_every_field_and_nulls() {
        assert_eq!(
            report(false).to_json(),
            "{\"epoch\":3,\"loss\":0.12344,\"reg_loss\":null,\"train_accuracy\":0.9612,\"val_loss\":null,\"val_accuracy\":null,\"learning_rate\":0.05,\"samples_per_sec\":123456.4,\"steps\":1500}"
        );
        let mut nan = report(true);
        nan.loss = f32::NAN;
        assert!(nan.to_json().contains("\"loss\":null"));
        assert!(nan.to_json().contains("\"val_accuracy\":0.9705,"));
        let mut regularized = report(false);
        regularized.reg_loss = Some(0.0421);
        assert!(regularized.to_json().contains("\"reg_loss\":0.0421,"));
        assert_eq!(
            regularized.to_line(5),
            "epoch 3/5  loss 0.1234  train 96.12%  reg 0.0421  lr 5.00e-2  123,456 samples/s"
        );
    }

    #[test]
    fn regression_lines_report_the_rmse_instead_of_an_accuracy() {
        // Two outputs, mean ½Σ(y − t)² = 0.0144 → rmse √(2·0.0144/2) = 0.12.
        let mut regression = report(false);
        regression.loss = 0.0144;
        regression.train_accuracy = 0.0;
        regression.metric = TrainMetric::Rmse { outputs: 2 };
        assert_eq!(
            regression.to_line(5),
            "epoch 3/5  loss 0.0144  train rmse 0.1200  lr 5.00e-2  123,456 samples/s"
        );
        let json = regression.to_json();
        assert!(
            json.ends_with(",\"steps\":1500,\"train_rmse\":0.12,\"val_rmse\":null}"),
            "{json}"
        );
        assert!(
            json.starts_with(
                "{\"epoch\":3,\"loss\":0.0144,\"reg_loss\":null,\"train_accuracy\":0.0,"
            )
        );
        // With validation (½·0.18² = 0.0162 per output) and a regularization loss.
        regression.val_loss = Some(0.0324);
        regression.val_accuracy = Some(0.0);
        regression.reg_loss = Some(0.0421);
        assert_eq!(
            regression.to_line(5),
            "epoch 3/5  loss 0.0144  train rmse 0.1200  reg 0.0421  val rmse 0.1800 (loss 0.0324)  lr 5.00e-2  123,456 samples/s"
        );
        assert!(regression.to_json().contains(",\"val_rmse\":0.18"));
    }

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
    }
}
