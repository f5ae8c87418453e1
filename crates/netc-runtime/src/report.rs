//! What a training run reports, and how it is written for people (one line per epoch) and for
//! tools (one JSON object per line).

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
}

/// A whole run of [`crate::fit`].
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub epochs: Vec<EpochReport>,
    pub test_loss: Option<f32>,
    pub test_accuracy: Option<f32>,
    pub steps: u64,
}

impl EpochReport {
    /// `epoch  3/10  loss 0.1234  train 96.12%  [reg 0.0421]  val 97.05% (loss 0.0987)  lr 5.00e-2  123,456 samples/s`
    /// (`reg`: the regularization loss, apart from the data loss, when the model has one)
    pub fn to_line(&self, total_epochs: usize) -> String {
        let width = total_epochs.to_string().len();
        let mut line = format!(
            "epoch {:>width$}/{total_epochs}  loss {}  train {:.2}%",
            self.epoch,
            format_loss(self.loss),
            100.0 * self.train_accuracy
        );
        if let Some(reg_loss) = self.reg_loss {
            line += &format!("  reg {}", format_loss(reg_loss));
        }
        if let (Some(accuracy), Some(loss)) = (self.val_accuracy, self.val_loss) {
            line += &format!(
                "  val {:.2}% (loss {})",
                100.0 * accuracy,
                format_loss(loss)
            );
        }
        line += &format!(
            "  lr {:.2e}  {} samples/s",
            self.learning_rate,
            group_thousands(self.samples_per_sec.round() as u64)
        );
        line
    }

    /// One JSON object (no trailing newline); missing or non-finite values are `null`.
    pub fn to_json(&self) -> String {
        format!(
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
        )
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
    fn thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
    }
}
