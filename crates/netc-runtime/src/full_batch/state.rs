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
use crate::scalar::Scalar;
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
    splits: &Splits<M::Float>,
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
    // θ goes into the model (in its precision) and is where the solver continues: every
    // value must be finite there, not only in f64 (1e300 is an f32 model's ∞).
    if let Some(bad) = theta
        .iter()
        .position(|&v| !M::Float::from_f64(v).to_f64().is_finite())
    {
        return Err(input.error(format!(
            "tensor `solver.theta` holds {:?} at index {bad}, not a finite {} parameter",
            theta[bad],
            if <M::Float as Scalar>::BYTES == 8 {
                "f64"
            } else {
                "f32"
            }
        )));
    }
    let [iterations, evaluations] = input.u64_array("solver.progress")?;
    let evaluations = run_state::count(&input, "`solver.progress` evaluations", evaluations)?;
    if iterations > cfg.epochs as u64 {
        return Err(input.error(format!(
            "`solver.progress` says {iterations} iterations are done, this run has {}",
            cfg.epochs
        )));
    }
    let [steps, epochs] = [("steps", steps), ("epochs", epochs)]
        .map(|(field, value)| run_state::count(&input, &format!("`run.counters` {field}"), value));
    let (steps, epochs) = (steps?, epochs?);
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
    for (name, values) in [("solver.pairs_s", &s), ("solver.pairs_y", &y)] {
        if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
            return Err(input.error(format!(
                "tensor `{name}` holds a non-finite value at index {bad}"
            )));
        }
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    Ok(s.chunks(n)
        .zip(y.chunks(n))
        .map(|(s, y)| (s.to_vec(), y.to_vec()))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::config::{Interval, Sampling, SaveConfig};
    use crate::full_batch::FullBatchSolver;
    use crate::run_state::testing::patched;
    use crate::test_model::{LogReg, LogRegHyper, separable_dataset, temp_path};

    use super::*;

    fn config(save: SaveConfig) -> RunConfig {
        RunConfig {
            epochs: 3,
            sampling: Sampling::Sequential,
            seed: 4,
            save,
            full_batch: Some(FullBatchSolver::Lbfgs {
                history: 3,
                tolerance: 1e-12,
            }),
            ..RunConfig::default()
        }
    }

    fn splits() -> Splits {
        Splits {
            train: separable_dataset(40, 1),
            validation: None,
            test: None,
        }
    }

    /// An f32 L-BFGS run's state after its second iteration.
    fn second_iteration_state(name: &str) -> PathBuf {
        let path = temp_path(name);
        let save = SaveConfig {
            state_path: Some(path.clone()),
            every: Some(Interval::Steps(2)),
            resume: None,
        };
        let mut model = LogReg::new(LogRegHyper::default(), 5);
        crate::fit(&mut model, &config(save), &splits()).unwrap();
        path
    }

    fn refused(state: &Path, tensor: &str, index: usize, value: &[u8], says: &str) {
        // One file per source state: the tests patching run in parallel.
        let name = format!("patched-{}", state.file_name().unwrap().to_string_lossy());
        let path = patched(state, &name, tensor, index, value);
        let save = SaveConfig {
            resume: Some(path),
            ..SaveConfig::default()
        };
        let mut model = LogReg::new(LogRegHyper::default(), 5);
        match crate::fit(&mut model, &config(save), &splits()) {
            Err(Error::Checkpoint { message, .. }) => {
                assert!(message.contains(says), "{tensor}[{index}]: {message}")
            }
            other => panic!("{tensor}[{index}]: expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn the_unchanged_state_resumes() {
        let state = second_iteration_state("full-batch-resumes.state");
        let save = SaveConfig {
            resume: Some(state),
            ..SaveConfig::default()
        };
        let mut model = LogReg::new(LogRegHyper::default(), 5);
        let report = crate::fit(&mut model, &config(save), &splits()).unwrap();
        assert_eq!(report.epochs.len(), 3);
    }

    /// Fuzzing (`state`): θ is F64 in the file; 1e300 is finite there and ∞ in an f32 model.
    #[test]
    fn a_theta_beyond_the_models_precision_is_refused() {
        let state = second_iteration_state("full-batch-theta.state");
        refused(
            &state,
            "solver.theta",
            4,
            &1e300f64.to_le_bytes(),
            "tensor `solver.theta` holds 1e300 at index 4, not a finite f32 parameter",
        );
        refused(
            &state,
            "solver.theta",
            0,
            &f64::NAN.to_le_bytes(),
            "`solver.theta` holds NaN at index 0",
        );
        refused(
            &state,
            "solver.pairs_y",
            1,
            &f64::INFINITY.to_le_bytes(),
            "tensor `solver.pairs_y` holds a non-finite value at index 1",
        );
    }

    /// Fuzzing (`state`): counts at u64::MAX overflowed the solver's evaluation count.
    #[test]
    fn counts_past_the_run_are_refused() {
        let state = second_iteration_state("full-batch-counts.state");
        let max = u64::MAX.to_le_bytes();
        refused(
            &state,
            "solver.progress",
            1,
            &max,
            "`solver.progress` evaluations",
        );
        refused(&state, "run.counters", 0, &max, "`run.counters` steps");
        refused(
            &state,
            "solver.progress",
            0,
            &4u64.to_le_bytes(),
            "4 iterations are done, this run has 3",
        );
    }
}
