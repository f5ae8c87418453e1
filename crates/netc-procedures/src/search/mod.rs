//! `search`: random search in log space, coarse to fine (the lecture's recipe). Every trial
//! draws its hyperparameters, trains a fresh model for the coarse epochs and is scored on the
//! validation split (the training accuracy when there is none — never the test split); the
//! best `fine_top` trials are retrained from scratch for the fine epochs and the best of those
//! is the result. Hyperparameters are set by name through [`Hyperparams::set`], so the search
//! never needs a rebuild.

mod state;

use netc_runtime::cluster;
use netc_runtime::config::RunConfig;
use netc_runtime::data::Splits;
use netc_runtime::error::Error;
use netc_runtime::network::{Hyperparams, Network, SearchTarget};
use netc_runtime::report::Report;
use netc_runtime::rng::Rng;
use netc_runtime::{fit, save_checkpoint};
use state::SearchProgress;

use crate::spread;

/// Random stream of the search's draws (after the ones in `rng::streams`).
const SEARCH_STREAM: u64 = 6;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Distribution {
    /// exp(U(ln lo, ln hi)).
    LogUniform {
        lo: f64,
        hi: f64,
    },
    Uniform {
        lo: f64,
        hi: f64,
    },
}

impl Distribution {
    fn sample(self, rng: &mut Rng) -> f64 {
        let u = f64::from(rng.uniform());
        match self {
            Distribution::LogUniform { lo, hi } => (lo.ln() + u * (hi.ln() - lo.ln())).exp(),
            Distribution::Uniform { lo, hi } => lo + u * (hi - lo),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Param {
    pub target: SearchTarget,
    pub distribution: Distribution,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SearchConfig {
    pub trials: usize,
    pub params: &'static [Param],
    pub coarse_epochs: usize,
    pub fine_top: usize,
    pub fine_epochs: usize,
}

/// One trial: its drawn values (in `params` order) and its scores.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    pub values: Vec<f64>,
    pub coarse_score: f32,
    pub fine_score: Option<f32>,
}

/// The outcome: every trial, the index of the winner, its model's report.
pub struct SearchReport {
    pub trials: Vec<Trial>,
    pub best: usize,
    pub report: Report,
}

/// Runs the search from the spec's hyperparameters `base`; returns the best fine-stage model.
/// `cfg.checkpoint_path` / `cfg.metrics_path` receive the winner's weights and its fine run.
pub fn search<M: Network>(
    cfg: &RunConfig,
    base: &M::Hyper,
    splits: &Splits<M::Float>,
    search: &SearchConfig,
) -> Result<(M, SearchReport), Error> {
    let configure = |values: &[f64]| -> Result<M::Hyper, Error> {
        let mut hyper = base.clone();
        for (value, param) in values.iter().zip(search.params) {
            hyper.set_searched(param.target, *value)?;
        }
        Ok(hyper)
    };
    let quiet = |epochs: usize| RunConfig {
        epochs,
        verbose: false,
        ..cfg.inner()
    };
    let score = |report: &Report| -> f32 {
        let last = report.epochs.last();
        last.and_then(|e| e.val_accuracy)
            .or(last.map(|e| e.train_accuracy))
            .unwrap_or(f32::NEG_INFINITY)
    };
    let scored_on = if splits.validation.is_some() {
        "validation"
    } else {
        "training"
    };

    // Durable searches: after every trial the progress is saved (with `save_every`), and on
    // a signal; `--resume` continues after the last finished trial.
    let data = (splits.train.len(), 0u64);
    let splits_hash = if cfg.save.state_path.is_some() {
        (data.0, netc_runtime::run_state::fingerprint(splits))
    } else {
        data
    };
    let mut progress = match &cfg.save.resume {
        Some(path) => {
            let progress =
                state::restore::<M>(path, cfg, base, splits, search.params.len(), configure)?;
            if cfg.verbose {
                say!(
                    "resumed the search after {} coarse and {} fine trials ({})",
                    progress.trials.len(),
                    progress.fine_done,
                    path.display()
                );
            }
            progress
        }
        None => SearchProgress {
            rng: Rng::new(cfg.seed, SEARCH_STREAM).state(),
            trials: Vec::new(),
            fine_done: 0,
            best: None,
        },
    };
    let save = |progress: &SearchProgress<M>| match &cfg.save.state_path {
        Some(path) => state::save(path, cfg, base, splits_hash, progress),
        None => Ok(()),
    };
    let periodic = cfg.save.every.is_some();
    // A trial stopped by a signal: the progress before it is what the state file keeps.
    let stopped = |error: Error, progress: &SearchProgress<M>| match error {
        Error::Interrupted { signal, .. } => match save(progress) {
            Ok(()) => Error::Interrupted {
                signal,
                state: cfg.save.state_path.clone(),
            },
            Err(error) => error,
        },
        error => error,
    };
    // Under MPI the trials go out in rounds of one per rank (`spread`); every rank draws every
    // trial's values from the one generator, so the draws are those of a single process.
    let mut rng = Rng::from_state(&progress.rng);
    while progress.trials.len() < search.trials {
        let round = spread::round(progress.trials.len(), search.trials);
        let draws: Vec<Vec<f64>> = round
            .clone()
            .map(|_| {
                search
                    .params
                    .iter()
                    .map(|p| p.distribution.sample(&mut rng))
                    .collect()
            })
            .collect();
        let mine = match draws.get(cluster::rank()) {
            Some(values) => {
                let mut model = M::new(configure(values)?, cfg.seed);
                let report = fit(&mut model, &quiet(search.coarse_epochs), splits)
                    .map_err(|e| stopped(e, &progress))?;
                f64::from(score(&report))
            }
            None => f64::NAN,
        };
        let scores = cluster::all_gather_f64(mine);
        for ((t, values), coarse) in round.zip(draws).zip(scores) {
            let trial = Trial {
                values,
                coarse_score: coarse as f32,
                fine_score: None,
            };
            if cfg.verbose {
                say!(
                    "coarse {:>3}/{}  {}  {} accuracy {:.2}%",
                    t + 1,
                    search.trials,
                    describe(search, &trial.values),
                    scored_on,
                    100.0 * trial.coarse_score
                );
            }
            progress.trials.push(trial);
        }
        progress.rng = rng.state();
        if periodic {
            save(&progress)?;
        }
    }

    let mut order: Vec<usize> = (0..progress.trials.len()).collect();
    order.sort_by(|&a, &b| {
        let trials = &progress.trials;
        trials[b].coarse_score.total_cmp(&trials[a].coarse_score)
    });
    order.truncate(search.fine_top.max(1));
    while progress.fine_done < order.len() {
        let round = spread::round(progress.fine_done, order.len());
        let retrain = |t: usize| -> Result<(M, Report), Error> {
            let mut model = M::new(configure(&progress.trials[t].values)?, cfg.seed);
            let report = fit(&mut model, &quiet(search.fine_epochs), splits)
                .map_err(|e| stopped(e, &progress))?;
            Ok((model, report))
        };
        let mut mine = match order[round.clone()].get(cluster::rank()) {
            Some(&t) => Some(retrain(t)?),
            None => None,
        };
        let scores =
            cluster::all_gather_f64(mine.as_ref().map_or(f64::NAN, |(_, r)| f64::from(score(r))));
        // The best so far in the order a single process runs them: the first of equal scores.
        let mut best = progress.best.as_ref().map(|(t, _, _)| *t);
        let mut best_part = None;
        for (j, (&t, fine)) in order[round.clone()].iter().zip(scores).enumerate() {
            let fine = fine as f32;
            progress.trials[t].fine_score = Some(fine);
            if cfg.verbose {
                say!(
                    "fine   trial {:>3}  {}  {} accuracy {:.2}%",
                    t + 1,
                    describe(search, &progress.trials[t].values),
                    scored_on,
                    100.0 * fine
                );
            }
            if best
                .is_none_or(|b| fine > progress.trials[b].fine_score.unwrap_or(f32::NEG_INFINITY))
            {
                best = Some(t);
                best_part = Some(j);
            }
        }
        if let Some(j) = best_part {
            let t = order[round.start + j];
            let mine = if cluster::rank() == j {
                mine.take()
            } else {
                None
            };
            let values = progress.trials[t].values.clone();
            let (model, report) =
                spread::share_trained(j, mine, || Ok(M::new(configure(&values)?, cfg.seed)))?;
            progress.best = Some((t, model, report));
        }
        progress.fine_done = round.end;
        if periodic {
            save(&progress)?;
        }
    }
    let SearchProgress { trials, best, .. } = progress;
    let Some((winner, model, report)) = best else {
        return Err(Error::Usage("search needs at least one trial".into()));
    };
    if cfg.verbose {
        say!(
            "best: trial {}  {}  ({} accuracy {:.2}%{})",
            winner + 1,
            describe(search, &trials[winner].values),
            scored_on,
            100.0 * trials[winner].fine_score.unwrap_or(f32::NAN),
            report
                .test_accuracy
                .map_or(String::new(), |a| format!("; test {:.2}%", 100.0 * a))
        );
    }
    if let Some(path) = &cfg.checkpoint_path {
        save_checkpoint(&model, path)?;
    }
    if let Some(path) = &cfg.metrics_path {
        // The winner's fine run, as `fit` writes a run's metrics.
        std::fs::write(path, report.metrics_text()).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
    }
    Ok((
        model,
        SearchReport {
            trials,
            best: winner,
            report,
        },
    ))
}

fn describe(search: &SearchConfig, values: &[f64]) -> String {
    search
        .params
        .iter()
        .zip(values)
        .map(|(p, v)| format!("{} {:.3e}", p.target.name(), v))
        .collect::<Vec<_>>()
        .join("  ")
}

/// Trains the spec's way: a search when it has one, else one `fit` from `hyper`.
pub fn train_model<M: Network>(
    cfg: &RunConfig,
    hyper: M::Hyper,
    splits: &Splits<M::Float>,
    search_config: Option<&SearchConfig>,
) -> Result<(M, Report), Error> {
    match search_config {
        Some(config) => {
            let (model, outcome) = search::<M>(cfg, &hyper, splits, config)?;
            Ok((model, outcome.report))
        }
        None => {
            let mut model = M::new(hyper, cfg.seed);
            let report = fit(&mut model, cfg, splits)?;
            Ok((model, report))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_uniform_draws_cover_the_decades_evenly() {
        let d = Distribution::LogUniform { lo: 1e-5, hi: 1e-1 };
        let mut rng = Rng::new(1, SEARCH_STREAM);
        let mut per_decade = [0usize; 4];
        for _ in 0..40_000 {
            let v = d.sample(&mut rng);
            assert!((1e-5..=1e-1).contains(&v));
            per_decade[((v.log10() + 5.0).floor() as usize).min(3)] += 1;
        }
        for count in per_decade {
            assert!((9_400..10_600).contains(&count), "{per_decade:?}");
        }
    }
}
