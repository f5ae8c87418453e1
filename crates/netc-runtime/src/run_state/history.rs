//! The epochs reported so far, as two F64 tables of a state file: `run.history` (one row per
//! epoch) and `run.curvature` (one row per curvature check). f32 and u64 fields convert to
//! f64 exactly (counts below 2⁵³), so a resumed run reprints and rewrites them bit for bit.

use crate::error::Error;
use crate::monitor::{CurvatureCheck, GradNorm};
use crate::report::{EarlyStoppingStatus, EpochReport, TrainMetric};
use crate::run_state::codec::{StateReader, StateWriter};

const COLUMNS: usize = 18;
const CURVATURE_COLUMNS: usize = 4;

// Bits of the presence column: which optional fields a row holds.
const REG_LOSS: u64 = 1;
const VAL_LOSS: u64 = 2;
const VAL_ACCURACY: u64 = 4;
const GRAD_NORM: u64 = 8;
const EARLY_STOPPING: u64 = 16;
const ES_BEST_EPOCH: u64 = 32;
const ES_BEST: u64 = 64;

pub(crate) fn write(out: &mut StateWriter, name: &str, epochs: &[EpochReport]) {
    let mut rows = Vec::with_capacity(epochs.len() * COLUMNS);
    let mut curvature = Vec::new();
    for e in epochs {
        let mut present = 0;
        let mut opt = |value: Option<f64>, bit: u64| match value {
            Some(v) => {
                present |= bit;
                v
            }
            None => 0.0,
        };
        let reg_loss = opt(e.reg_loss.map(f64::from), REG_LOSS);
        let val_loss = opt(e.val_loss.map(f64::from), VAL_LOSS);
        let val_accuracy = opt(e.val_accuracy.map(f64::from), VAL_ACCURACY);
        let gn_mean = opt(e.grad_norm.map(|g| f64::from(g.mean)), GRAD_NORM);
        let gn_last = e.grad_norm.map_or(0.0, |g| f64::from(g.last));
        let es = e.early_stopping;
        let _ = opt(es.map(|_| 0.0), EARLY_STOPPING);
        let es_best_epoch = opt(
            es.and_then(|s| s.best_epoch).map(|b| b as f64),
            ES_BEST_EPOCH,
        );
        let es_best = opt(es.and_then(|s| s.best).map(f64::from), ES_BEST);
        rows.extend_from_slice(&[
            e.epoch as f64,
            f64::from(e.loss),
            reg_loss,
            f64::from(e.train_accuracy),
            val_loss,
            val_accuracy,
            f64::from(e.learning_rate),
            e.samples_per_sec,
            e.steps as f64,
            gn_mean,
            gn_last,
            es_best_epoch,
            es_best,
            es.map_or(0.0, |s| s.stale_epochs as f64),
            es.map_or(0.0, |s| s.patience as f64),
            es.map_or(0.0, |s| f64::from(u8::from(s.stopped))),
            present as f64,
            e.curvature.len() as f64,
        ]);
        for c in &e.curvature {
            curvature.extend_from_slice(&[c.step as f64, c.learning_rate, c.g_g, c.g_h_g]);
        }
    }
    out.f64s(
        &format!("{name}.history"),
        vec![epochs.len(), COLUMNS],
        &rows,
    );
    write_curvature(out, &format!("{name}.curvature"), &curvature);
}

/// Curvature checks as rows of (step, rate, gᵀg, gᵀHg), flat.
pub(crate) fn write_curvature(out: &mut StateWriter, name: &str, flat: &[f64]) {
    let rows = flat.len() / CURVATURE_COLUMNS;
    out.f64s(name, vec![rows, CURVATURE_COLUMNS], flat);
}

pub(crate) fn curvature_rows(checks: &[CurvatureCheck]) -> Vec<f64> {
    checks
        .iter()
        .flat_map(|c| [c.step as f64, c.learning_rate, c.g_g, c.g_h_g])
        .collect()
}

pub(crate) fn read_curvature(
    input: &StateReader<'_>,
    name: &str,
) -> Result<Vec<CurvatureCheck>, Error> {
    let (flat, _) = input.f64s(name)?;
    Ok(flat
        .chunks_exact(CURVATURE_COLUMNS)
        .map(|c| CurvatureCheck {
            step: c[0] as u64,
            learning_rate: c[1],
            g_g: c[2],
            g_h_g: c[3],
        })
        .collect())
}

pub(crate) fn read(
    input: &StateReader<'_>,
    name: &str,
    metric: TrainMetric,
) -> Result<Vec<EpochReport>, Error> {
    let (rows, shape) = input.f64s(&format!("{name}.history"))?;
    if shape.len() != 2 || shape[1] != COLUMNS {
        return Err(input.error(format!(
            "tensor `{name}.history` has shape {shape:?}, expected [epochs, {COLUMNS}]"
        )));
    }
    let mut curvature = read_curvature(input, &format!("{name}.curvature"))?.into_iter();
    let mut epochs = Vec::with_capacity(shape[0]);
    for (i, r) in rows.chunks_exact(COLUMNS).enumerate() {
        let field = |column: &str| format!("`{name}.history` row {i} {column}");
        if r[0] != (i + 1) as f64 {
            return Err(input.error(format!(
                "{} is {}: the epochs (iterations) of a run are 1, 2, … in order",
                field("epoch"),
                r[0]
            )));
        }
        super::f64_count(input, &field("steps"), r[8])?;
        super::f64_count(input, &field("curvature checks"), r[17])?;
        let present = super::f64_count(input, &field("presence bits"), r[16])?;
        if present >= 2 * ES_BEST {
            return Err(input.error(format!("{} are {present}", field("presence bits"))));
        }
        if present & EARLY_STOPPING != 0 {
            for (column, value) in [("stale epochs", r[13]), ("patience", r[14])] {
                super::f64_count(input, &field(column), value)?;
            }
            if present & ES_BEST_EPOCH != 0 {
                let best = super::f64_count(input, &field("best epoch"), r[11])?;
                if best == 0 || best > (i + 1) as u64 {
                    return Err(input.error(format!(
                        "{} is {best}, not an epoch up to this one",
                        field("best epoch")
                    )));
                }
            }
        }
        let has = |bit: u64| present & bit != 0;
        let f32_if = |bit: u64, v: f64| has(bit).then_some(v as f32);
        let checks = curvature.by_ref().take(r[17] as usize).collect();
        epochs.push(EpochReport {
            epoch: r[0] as usize,
            loss: r[1] as f32,
            reg_loss: f32_if(REG_LOSS, r[2]),
            train_accuracy: r[3] as f32,
            val_loss: f32_if(VAL_LOSS, r[4]),
            val_accuracy: f32_if(VAL_ACCURACY, r[5]),
            learning_rate: r[6] as f32,
            samples_per_sec: r[7],
            steps: r[8] as u64,
            grad_norm: has(GRAD_NORM).then(|| GradNorm {
                mean: r[9] as f32,
                last: r[10] as f32,
            }),
            curvature: checks,
            early_stopping: has(EARLY_STOPPING).then(|| EarlyStoppingStatus {
                best_epoch: has(ES_BEST_EPOCH).then_some(r[11] as usize),
                best: f32_if(ES_BEST, r[12]),
                stale_epochs: r[13] as usize,
                patience: r[14] as usize,
                stopped: r[15] != 0.0,
            }),
            metric,
        });
    }
    Ok(epochs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(epoch: usize, full: bool) -> EpochReport {
        EpochReport {
            epoch,
            loss: 0.1 + epoch as f32 / 3.0,
            reg_loss: full.then_some(1e-3),
            train_accuracy: 0.9,
            val_loss: full.then_some(0.2),
            val_accuracy: full.then_some(0.7),
            learning_rate: 1e-3 / 7.0,
            samples_per_sec: 12345.678,
            steps: 937 * epoch as u64,
            grad_norm: full.then_some(GradNorm {
                mean: 0.3,
                last: 0.4,
            }),
            curvature: if full {
                vec![CurvatureCheck {
                    step: 5,
                    learning_rate: 0.01,
                    g_g: 2.5,
                    g_h_g: -1.0 / 3.0,
                }]
            } else {
                Vec::new()
            },
            early_stopping: full.then_some(EarlyStoppingStatus {
                best_epoch: Some(1),
                best: Some(0.25),
                stale_epochs: 2,
                patience: 5,
                stopped: true,
            }),
            metric: TrainMetric::Accuracy,
        }
    }

    #[test]
    fn epochs_round_trip_exactly() {
        let epochs = vec![report(1, true), report(2, false), report(3, true)];
        let mut out = StateWriter::default();
        write(&mut out, "run", &epochs);
        let path = std::path::Path::new("state.safetensors");
        let bytes = out.encode(path).unwrap();
        let input = StateReader::new(&bytes, path).unwrap();
        let back = read(&input, "run", TrainMetric::Accuracy).unwrap();
        assert_eq!(back, epochs);
        assert_eq!(
            back.iter().map(EpochReport::to_json).collect::<Vec<_>>(),
            epochs.iter().map(EpochReport::to_json).collect::<Vec<_>>()
        );
    }
}
