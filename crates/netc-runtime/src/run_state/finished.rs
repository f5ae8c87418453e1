//! A finished model and its report inside a state file: search winners so far and the trained
//! members of an ensemble, so a resumed search or bagging run never retrains them.

use crate::config::Metric;
use crate::error::Error;
use crate::network::{Counters, Network};
use crate::report::{EarlyStop, Report, TrainMetric};
use crate::run_state::codec::{StateReader, StateWriter, copy_into};
use crate::run_state::history;

/// `<prefix>model.*`, `<prefix>optimizer.*`, `<prefix>counters`, then the report.
pub fn write<M: Network>(out: &mut StateWriter, prefix: &str, model: &M, report: &Report) {
    out.floats(&format!("{prefix}model."), &model.tensors());
    out.floats(&format!("{prefix}optimizer."), &model.optimizer_state());
    let c = model.counters();
    out.u64s(
        &format!("{prefix}counters"),
        &[c.steps, c.epochs, c.dropout],
    );
    history::write(out, &format!("{prefix}run"), &report.epochs);
    let mut present = 0u64;
    let mut opt = |v: Option<f64>, bit: u64| {
        v.map_or(0.0, |v| {
            present |= bit;
            v
        })
    };
    let test_loss = opt(report.test_loss.map(f64::from), 1);
    let test_accuracy = opt(report.test_accuracy.map(f64::from), 2);
    let e = report.early_stop.as_ref();
    let _ = opt(e.map(|_| 0.0), 4);
    let stopped_after = opt(e.and_then(|e| e.stopped_after).map(|v| v as f64), 8);
    let best_epoch = opt(e.and_then(|e| e.best_epoch).map(|v| v as f64), 16);
    let best = opt(e.and_then(|e| e.best).map(f64::from), 32);
    let restored = opt(e.and_then(|e| e.restored_epoch).map(|v| v as f64), 64);
    out.f64s(
        &format!("{prefix}report"),
        vec![11],
        &[
            present as f64,
            test_loss,
            test_accuracy,
            report.steps as f64,
            e.map_or(0.0, |e| metric_index(e.monitor)),
            e.map_or(0.0, |e| e.patience as f64),
            e.map_or(0.0, |e| e.min_delta),
            stopped_after,
            best_epoch,
            best,
            restored,
        ],
    );
}

/// Reads what [`write`] wrote into `model` (checked before anything is copied) and returns
/// the report.
pub fn read<M: Network>(
    input: &StateReader<'_>,
    prefix: &str,
    model: &mut M,
) -> Result<Report, Error> {
    let tensors = input.float_copies(&format!("{prefix}model."), &model.tensors())?;
    let optimizer = input.float_copies(&format!("{prefix}optimizer."), &model.optimizer_state())?;
    let [steps, epochs, dropout] = input.u64_array(&format!("{prefix}counters"))?;
    let epochs_run = history::read(input, &format!("{prefix}run"), TrainMetric::of::<M>())?;
    let (r, _) = input.f64s(&format!("{prefix}report"))?;
    let r: [f64; 11] = r
        .try_into()
        .map_err(|_| input.error(format!("tensor `{prefix}report` must hold 11 values")))?;
    let counters = format!("`{prefix}counters`");
    let steps = super::count(input, &format!("{counters} steps"), steps)?;
    let epochs = super::count(input, &format!("{counters} epochs"), epochs)?;
    let report = format!("`{prefix}report`");
    let present = super::f64_count(input, &format!("{report} presence bits"), r[0])?;
    if present >= 128 {
        return Err(input.error(format!("{report} presence bits are {present}")));
    }
    super::f64_count(input, &format!("{report} steps"), r[3])?;
    for (i, field) in [
        (5, "patience"),
        (7, "stopped after"),
        (8, "best epoch"),
        (10, "restored epoch"),
    ] {
        super::f64_count(input, &format!("{report} {field}"), r[i])?;
    }
    copy_into(model.tensors_mut(), &tensors);
    copy_into(model.optimizer_state_mut(), &optimizer);
    model.set_counters(Counters {
        steps,
        epochs,
        dropout,
    });
    let has = |bit: u64| present & bit != 0;
    Ok(Report {
        epochs: epochs_run,
        test_loss: has(1).then_some(r[1] as f32),
        test_accuracy: has(2).then_some(r[2] as f32),
        steps: r[3] as u64,
        early_stop: has(4).then(|| EarlyStop {
            monitor: metric_of(r[4]),
            patience: r[5] as usize,
            min_delta: r[6],
            stopped_after: has(8).then_some(r[7] as usize),
            best_epoch: has(16).then_some(r[8] as usize),
            best: has(32).then_some(r[9] as f32),
            restored_epoch: has(64).then_some(r[10] as usize),
        }),
    })
}

const METRICS: [Metric; 4] = [
    Metric::ValLoss,
    Metric::ValAccuracy,
    Metric::TrainLoss,
    Metric::TrainAccuracy,
];

fn metric_index(metric: Metric) -> f64 {
    METRICS.iter().position(|m| *m == metric).unwrap_or(0) as f64
}

fn metric_of(index: f64) -> Metric {
    METRICS[(index as usize).min(METRICS.len() - 1)]
}
