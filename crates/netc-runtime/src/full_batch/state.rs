//! Saving and restoring a full-batch (L-BFGS / Newton) run of [`crate::full_batch`] at
//! iteration granularity (see the table in `run_state`).

use std::path::Path;

use crate::config::RunConfig;
use crate::data::Splits;
use crate::error::Error;
use crate::network::{Counters, Network};
use crate::report::{EpochReport, TrainMetric};
use crate::run_state;
use crate::run_state::codec::{StateReader, StateWriter, copy_into};
use crate::run_state::history;
use crate::solve::{CorrectionPairs, SolverState, SolverView};

const KIND: &str = "full_batch";

/// Writes the run after an accepted iteration: the model (holding the accepted point), the
/// solver's exact point θ in f64 (an f32 model rounds it), its state, and the reports so far.
pub(crate) fn save<M: Network>(
    path: &Path,
    model: &M,
    cfg: &RunConfig,
    data: (usize, u64),
    solver: &SolverView<'_>,
    epochs: &[EpochReport],
) -> Result<(), Error> {
    let mut out = run_state::write_run_header::<M>(KIND, cfg, model.hyper(), data);
    out.floats("model.", &model.tensors());
    let counters = model.counters();
    out.u64s(
        "run.counters",
        &[counters.steps, counters.epochs, counters.dropout],
    );
    let state = solver.to_state();
    let theta = solver.theta();
    out.f64s("solver.theta", vec![theta.len()], theta);
    out.u64s(
        "solver.progress",
        &[state.iterations as u64, state.evaluations as u64],
    );
    out.f64s("solver.value", vec![1], &[state.value]);
    out.f64s("solver.grad", vec![state.grad.len()], &state.grad);
    write_pairs(&mut out, &state.pairs, theta.len());
    history::write(&mut out, "run", epochs);
    out.write_to(path)
}

/// The pairs as two F64 [m, n] tensors, oldest first.
fn write_pairs(out: &mut StateWriter, pairs: &[(Vec<f64>, Vec<f64>)], n: usize) {
    let s: Vec<f64> = pairs.iter().flat_map(|(s, _)| s.iter().copied()).collect();
    let y: Vec<f64> = pairs.iter().flat_map(|(_, y)| y.iter().copied()).collect();
    out.f64s("solver.pairs_s", vec![pairs.len(), n], &s);
    out.f64s("solver.pairs_y", vec![pairs.len(), n], &y);
}

/// What a resumed full-batch run continues from.
pub(crate) struct Resumed {
    pub theta: Vec<f64>,
    pub solver: SolverState,
    pub epochs: Vec<EpochReport>,
}

/// Checks the whole file (identity, layout, settings, hyperparameters, data, every tensor),
/// then puts the model's tensors and counters back and returns the solver's point and state.
/// The solvers check the state against the problem once more (lengths, pair curvature).
pub(crate) fn restore<M: Network>(
    path: &Path,
    model: &mut M,
    cfg: &RunConfig,
    splits: &Splits,
) -> Result<Resumed, Error> {
    let bytes = run_state::read_state_file(path)?;
    let input = run_state::open_run_state::<M>(&bytes, path, KIND, cfg, model.hyper(), splits)?;
    let weights = input.float_copies("model.", &model.tensors())?;
    let [steps, epochs, dropout] = input.u64_array("run.counters")?;
    let (theta, _) = input.f64s("solver.theta")?;
    if theta.len() != M::PARAMS {
        return Err(input.error(format!(
            "tensor `solver.theta` holds {} values, the model has {} parameters",
            theta.len(),
            M::PARAMS
        )));
    }
    let [iterations, evaluations] = input.u64_array("solver.progress")?;
    let (value, _) = input.f64s("solver.value")?;
    let value = *value
        .first()
        .ok_or_else(|| input.error("tensor `solver.value` is empty"))?;
    let (grad, _) = input.f64s("solver.grad")?;
    let pairs = read_pairs(&input, M::PARAMS)?;
    let reports = history::read(&input, "run", TrainMetric::of::<M>())?;
    if reports.len() as u64 != iterations {
        return Err(input.error(format!(
            "the state holds {} iteration reports for {iterations} iterations",
            reports.len()
        )));
    }

    copy_into(model.tensors_mut(), &weights);
    model.set_counters(Counters {
        steps,
        epochs,
        dropout,
    });
    model.write_params(&theta);
    Ok(Resumed {
        theta,
        solver: SolverState {
            iterations: iterations as usize,
            evaluations: evaluations as usize,
            value,
            grad,
            pairs,
        },
        epochs: reports,
    })
}

fn read_pairs(input: &StateReader<'_>, n: usize) -> Result<CorrectionPairs, Error> {
    let (s, s_shape) = input.f64s("solver.pairs_s")?;
    let (y, y_shape) = input.f64s("solver.pairs_y")?;
    let m = s_shape.first().copied().unwrap_or(0);
    if s_shape != [m, n] || y_shape != s_shape {
        return Err(input.error(format!(
            "the L-BFGS pairs must be two F64 [m, {n}] tensors, not {s_shape:?} and {y_shape:?}"
        )));
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    Ok(s.chunks(n)
        .zip(y.chunks(n))
        .map(|(s, y)| (s.to_vec(), y.to_vec()))
        .collect())
}
