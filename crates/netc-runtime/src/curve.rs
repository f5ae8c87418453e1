//! Loss-curve monitoring ("babysitting the learning process"): at the end of a run, the
//! training and validation loss per epoch as one line of bars each (log scale), and what their shape says
//! about the learning rate, overfitting and the number of epochs. Plain rules on the per-epoch
//! means, stated with each note so a reader can check them against the curve.

use crate::report::EpochReport;

/// The widest curve printed: longer runs (full-batch solvers report every iteration) are
/// sampled at evenly spaced epochs, always keeping the first and the last.
const MAX_BARS: usize = 40;
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A rise of the epoch's training loss by more than this fraction counts as a rise.
const RISE: f32 = 0.01;
/// The rule "the learning rate may be too high": rises in at least this share of epochs.
const RISING_SHARE: f32 = 0.25;
/// "Barely moved": the last training loss above this fraction of the first.
const PLATEAU: f32 = 0.97;
/// "Overfitting": the last validation loss this much above its best…
const VAL_RISE: f32 = 0.10;
/// "Still improving": the last epoch cut the watched loss by more than this fraction.
const STILL_IMPROVING: f32 = 0.01;

/// One line of bars for `values` scaled from their minimum (▁) to their maximum (█); a
/// non-finite value is a space.
pub fn bars(values: &[f32]) -> String {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    values
        .iter()
        .map(|&v| {
            if !v.is_finite() {
                ' '
            } else if hi > lo {
                let level = ((v - lo) / (hi - lo) * (BARS.len() - 1) as f32).round() as usize;
                BARS[level.min(BARS.len() - 1)]
            } else {
                BARS[0]
            }
        })
        .collect()
}

/// At most `MAX_BARS` of `values`, evenly spaced, first and last included.
fn sampled(values: &[f32]) -> Vec<f32> {
    if values.len() <= MAX_BARS {
        return values.to_vec();
    }
    let last = values.len() - 1;
    (0..MAX_BARS)
        .map(|i| values[i * last / (MAX_BARS - 1)])
        .collect()
}

/// `train 0.4120 ▇▅▃▂▁▁ 0.0462` (and the validation curve), then one line per note.
pub fn summary(epochs: &[EpochReport]) -> Vec<String> {
    if epochs.len() < 2 {
        return Vec::new();
    }
    let train: Vec<f32> = epochs.iter().map(|e| e.loss).collect();
    let mut curve = format!("loss curve  train {}", one_curve(&train));
    let validation: Option<Vec<f32>> = epochs.iter().map(|e| e.val_loss).collect();
    if let Some(validation) = &validation {
        curve += &format!("   val {}", one_curve(validation));
    }
    let mut lines = vec![curve];
    lines.extend(
        notes(&train, validation.as_deref())
            .into_iter()
            .map(|n| format!("  note: {n}")),
    );
    lines
}

/// `first bars last`, the bars on a log scale when every value is positive (as loss curves
/// are read: a tenfold drop looks the same early and late).
fn one_curve(values: &[f32]) -> String {
    let (first, last) = (values[0], values[values.len() - 1]);
    let mut shown = sampled(values);
    if shown.iter().all(|&v| v > 0.0) {
        shown.iter_mut().for_each(|v| *v = v.ln());
    }
    format!("{first:.4} {} {last:.4}", bars(&shown))
}

/// What the shape of the curves says (empty for a healthy run).
pub fn notes(train: &[f32], validation: Option<&[f32]>) -> Vec<String> {
    let mut notes = Vec::new();
    let n = train.len();
    if n < 3 || train.iter().any(|v| !v.is_finite()) {
        return notes;
    }
    let rises = train
        .windows(2)
        .filter(|w| w[1] > w[0] * (1.0 + RISE))
        .count();
    if rises as f32 >= RISING_SHARE * (n - 1) as f32 {
        notes.push(format!(
            "the training loss rose in {rises} of {} epochs: the learning rate may be too high",
            n - 1
        ));
    } else if train[n - 1] > PLATEAU * train[0] {
        notes.push(format!(
            "the training loss barely moved ({:.4} → {:.4}): the learning rate may be too low, \
             or the model too small to fit",
            train[0],
            train[n - 1]
        ));
    }
    let watched = match validation {
        Some(validation) if validation.iter().all(|v| v.is_finite()) => {
            let (best, best_loss) =
                validation
                    .iter()
                    .copied()
                    .enumerate()
                    .fold(
                        (0, f32::INFINITY),
                        |b, (i, v)| if v < b.1 { (i, v) } else { b },
                    );
            let last = validation[n - 1];
            if best < n - 1 && last > best_loss * (1.0 + VAL_RISE) && train[n - 1] < train[best] {
                notes.push(format!(
                    "the validation loss rose {:.0}% from its best (epoch {}) while the training \
                     loss kept falling: overfitting — regularize more, augment, or stop early",
                    100.0 * (last / best_loss - 1.0),
                    best + 1
                ));
                return notes;
            }
            validation
        }
        _ => train,
    };
    if watched[n - 1] < watched[n - 2] * (1.0 - STILL_IMPROVING) {
        let fell = 100.0 * (1.0 - watched[n - 1] / watched[n - 2]);
        notes.push(if validation.is_some() {
            format!(
                "the validation loss still fell {fell:.1}% in the last epoch: more epochs may help"
            )
        } else {
            // A falling training loss says nothing about held-out data.
            format!(
                "the training loss still fell {fell:.1}% in the last epoch: not converged yet \
                 (a validation split would show whether more epochs help)"
            )
        });
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_from_minimum_to_maximum() {
        assert_eq!(bars(&[1.0, 0.5, 0.0]), "█▅▁");
        assert_eq!(bars(&[0.0, 1.0 / 7.0, 2.0 / 7.0, 1.0]), "▁▂▃█");
        assert_eq!(bars(&[2.0, 2.0]), "▁▁");
        assert_eq!(bars(&[1.0, f32::NAN, 0.0]), "█ ▁");
    }

    #[test]
    fn long_runs_are_sampled_keeping_both_ends() {
        let values: Vec<f32> = (0..500).map(|i| i as f32).collect();
        let picked = sampled(&values);
        assert_eq!(picked.len(), MAX_BARS);
        assert_eq!((picked[0], picked[MAX_BARS - 1]), (0.0, 499.0));
    }

    #[test]
    fn a_healthy_converged_run_has_no_note() {
        let train = [1.0, 0.5, 0.3, 0.25, 0.249];
        let val = [0.9, 0.5, 0.35, 0.33, 0.329];
        assert_eq!(notes(&train, Some(&val)), Vec::<String>::new());
    }

    #[test]
    fn each_shape_gets_its_note() {
        // Rises in 2 of 4 epochs (≥ 25%): too high a rate.
        let noisy = notes(&[1.0, 1.2, 0.9, 1.0, 0.8], None);
        assert!(noisy[0].contains("rose in 2 of 4 epochs"), "{noisy:?}");
        // 1.0 → 0.98: above 97% of the start.
        let flat = notes(&[1.0, 0.99, 0.985, 0.98], None);
        assert!(
            flat[0].contains("barely moved (1.0000 → 0.9800)"),
            "{flat:?}"
        );
        // Validation best at epoch 2 (0.4), last 0.5 = +25% while training fell.
        let train = [1.0, 0.6, 0.4, 0.3, 0.2];
        let val = [0.9, 0.4, 0.42, 0.45, 0.5];
        let over = notes(&train, Some(&val));
        assert_eq!(over.len(), 1, "{over:?}");
        assert!(
            over[0].contains("rose 25% from its best (epoch 2)"),
            "{over:?}"
        );
        // Still falling 10% in the last epoch.
        let more = notes(&[1.0, 0.6, 0.5, 0.45], None);
        assert!(
            more[0].contains("the training loss still fell 10.0% in the last epoch: not converged"),
            "{more:?}"
        );
    }

    #[test]
    fn summary_lines() {
        let epoch = |epoch: usize, loss: f32, val_loss: f32| EpochReport {
            epoch,
            loss,
            reg_loss: None,
            train_accuracy: 0.0,
            val_loss: Some(val_loss),
            val_accuracy: None,
            learning_rate: 0.1,
            samples_per_sec: 0.0,
            steps: epoch as u64,
            grad_norm: None,
            curvature: Vec::new(),
            early_stopping: None,
            metric: crate::report::TrainMetric::Accuracy,
        };
        let epochs = [epoch(1, 0.8, 0.7), epoch(2, 0.4, 0.42), epoch(3, 0.2, 0.41)];
        insta::assert_snapshot!(summary(&epochs).join("\n"), @"
        loss curve  train 0.8000 █▅▁ 0.2000   val 0.7000 █▁▁ 0.4100
          note: the validation loss still fell 2.4% in the last epoch: more epochs may help
        ");
        assert!(summary(&epochs[..1]).is_empty(), "one epoch is no curve");
    }
}
