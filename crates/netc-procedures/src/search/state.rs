//! Saving and restoring a random search at trial granularity: the trials finished (their
//! drawn values and scores), the draw generator, and the best fine-stage model so far. A
//! resumed search reruns only the trial that was under way; each trial is a fresh model from
//! the spec's seed, so its result is the one the uninterrupted search would have had.

use std::path::Path;

use netc_runtime::config::RunConfig;
use netc_runtime::data::Splits;
use netc_runtime::error::Error;
use netc_runtime::network::Network;
use netc_runtime::report::Report;
use netc_runtime::rng::RngState;
use netc_runtime::run_state::{self, finished};

use super::Trial;

const KIND: &str = "search";

/// How far a search got.
pub(crate) struct SearchProgress<M> {
    /// The generator after the last coarse draw.
    pub rng: RngState,
    /// Coarse trials finished, in order (fine scores filled in as the fine stage runs).
    pub trials: Vec<Trial>,
    /// Fine trials finished, in the order they ran.
    pub fine_done: usize,
    /// The best fine trial so far, its model and report.
    pub best: Option<(usize, M, Report)>,
}

pub(crate) fn save<M: Network>(
    path: &Path,
    cfg: &RunConfig,
    base: &M::Hyper,
    splits_hash: (usize, u64),
    progress: &SearchProgress<M>,
) -> Result<(), Error> {
    let mut out = run_state::write_run_header::<M>(KIND, cfg, base, splits_hash);
    out.rng("search.rng", &progress.rng);
    let width = progress.trials.first().map_or(0, |t| t.values.len()) + 2;
    let rows: Vec<f64> = progress
        .trials
        .iter()
        .flat_map(|t| {
            let mut row = t.values.clone();
            row.push(f64::from(t.coarse_score));
            row.push(t.fine_score.map_or(f64::NAN, f64::from));
            row
        })
        .collect();
    out.f64s("search.trials", vec![progress.trials.len(), width], &rows);
    out.u64s(
        "search.position",
        &[
            progress.fine_done as u64,
            progress.best.as_ref().map_or(0, |(t, _, _)| *t as u64 + 1),
        ],
    );
    if let Some((_, model, report)) = &progress.best {
        finished::write(&mut out, "winner.", model, report);
    }
    out.write_to(path)
}

/// The saved progress of a search started with `cfg` and `base` on `splits`; `params` values
/// per trial. `configure` builds a trial's hyperparameters from its values.
pub(crate) fn restore<M: Network>(
    path: &Path,
    cfg: &RunConfig,
    base: &M::Hyper,
    splits: &Splits<M::Float>,
    params: usize,
    configure: impl Fn(&[f64]) -> Result<M::Hyper, Error>,
) -> Result<SearchProgress<M>, Error> {
    let bytes = run_state::read_state_file(path)?;
    let input = run_state::open_run_state::<M>(&bytes, path, KIND, cfg, base, splits)?;
    let rng = input.rng("search.rng")?;
    let (rows, shape) = input.f64s("search.trials")?;
    let width = params + 2;
    if shape.len() != 2 || (shape[0] > 0 && shape[1] != width) {
        return Err(input.error(format!(
            "tensor `search.trials` has shape {shape:?}, expected [trials, {width}]"
        )));
    }
    let trials: Vec<Trial> = rows
        .chunks_exact(width.max(1))
        .map(|row| Trial {
            values: row[..params].to_vec(),
            coarse_score: row[params] as f32,
            fine_score: (!row[params + 1].is_nan()).then_some(row[params + 1] as f32),
        })
        .collect();
    let [fine_done, best] = input.u64_array("search.position")?;
    let best = match best.checked_sub(1) {
        None => None,
        Some(t) => {
            let t = t as usize;
            let values = &trials
                .get(t)
                .ok_or_else(|| input.error(format!("the best trial {t} was never run")))?
                .values;
            let mut model = M::new(configure(values)?, cfg.seed);
            let report = finished::read(&input, "winner.", &mut model)?;
            Some((t, model, report))
        }
    };
    Ok(SearchProgress {
        rng,
        trials,
        fine_done: fine_done as usize,
        best,
    })
}
