//! Training an ensemble: each member is a fresh model with its own seed, fitted (with every
//! setting of the spec) on its own bootstrap sample of the training split; validation and
//! test data are the same for all.

use std::io::Write;
use std::path::{Path, PathBuf};

mod bootstrap;
mod state;

use netc_runtime::Evaluation;
use netc_runtime::cluster;
use netc_runtime::config::RunConfig;
use netc_runtime::data::Splits;
use netc_runtime::ensemble::{Ensemble, EnsembleConfig, save_ensemble};
use netc_runtime::error::Error;
use netc_runtime::fit;
use netc_runtime::network::Network;
use netc_runtime::report::Report;
use netc_runtime::rng::{Rng, streams};

use crate::search::SearchConfig;
use crate::spread;
use bootstrap::bootstrap_indices;
use state::BaggingProgress;

/// One member's training run.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberReport {
    /// The seed of its initialization, dropout and sampling.
    pub seed: u64,
    /// Distinct training rows in its bootstrap sample (≈ 63% of them).
    pub distinct_rows: usize,
    pub report: Report,
}

/// The members' runs and the ensemble's scores on the validation and test splits.
#[derive(Clone, Debug, PartialEq)]
pub struct EnsembleReport {
    pub members: Vec<MemberReport>,
    pub validation: Option<Evaluation>,
    pub test: Option<Evaluation>,
}

/// Trains `config.models` members from `hyper` (after `search`, the spec's search if it has
/// one: the members then use the search's best hyperparameters). Member seeds and bootstrap samples
/// come from `cfg.seed`'s [`streams::ENSEMBLE`] stream: same seed, same ensemble.
/// `cfg.checkpoint_path` receives the whole ensemble ([`save_ensemble`]); `cfg.metrics_path`
/// one summary line per member and one for the ensemble, each member's epochs going to
/// `<metrics stem>.member-<i>.<extension>`.
pub fn train_ensemble<M: Network>(
    cfg: &RunConfig,
    hyper: M::Hyper,
    splits: &Splits<M::Float>,
    config: EnsembleConfig,
    search: Option<&SearchConfig>,
) -> Result<(Ensemble<M>, EnsembleReport), Error> {
    if cfg.init_weights.is_some() {
        return Err(Error::Usage(
            "--init-weights starts one model from given weights; the members of an ensemble \
             each start from their own seed"
                .into(),
        ));
    }
    let splits_hash = (
        splits.train.len(),
        if cfg.save.state_path.is_some() {
            netc_runtime::run_state::fingerprint(splits)
        } else {
            0
        },
    );
    let resumed = match &cfg.save.resume {
        Some(path) => {
            let progress = state::restore::<M>(path, cfg, &hyper, splits, config.models)?;
            if cfg.verbose {
                say!(
                    "resumed bagging after {} of {} members ({})",
                    progress.members.len(),
                    config.models,
                    path.display()
                );
            }
            Some(progress)
        }
        None => None,
    };
    let mut progress = match resumed {
        Some(progress) => progress,
        None => BaggingProgress {
            hyper: members_hyper::<M>(cfg, hyper.clone(), splits, config, search)?,
            rng: Rng::new(cfg.seed, streams::ENSEMBLE).state(),
            members: Vec::with_capacity(config.models),
            reports: Vec::with_capacity(config.models),
        },
    };
    let save = |progress: &BaggingProgress<M>| match &cfg.save.state_path {
        Some(path) => state::save(path, cfg, &hyper, splits_hash, progress),
        None => Ok(()),
    };
    let rows = splits.train.len();
    let mut rng = Rng::from_state(&progress.rng);
    let mut member_splits: Option<Splits<M::Float>> = None;
    // Under MPI the members go out in rounds of one per rank (`spread`): every rank draws
    // every member's seed and sample from the one generator, trains its own member quietly,
    // and receives the others'; rank 0 prints and writes every member's metrics.
    let spread_out = cluster::size() > 1;
    while progress.members.len() < config.models {
        let round = spread::round(progress.members.len(), config.models);
        // Each member's seed, bootstrap sample and its count of distinct rows.
        let draws: Vec<(u64, Vec<usize>, usize)> = round
            .clone()
            .map(|_| {
                let seed = rng.next_u64();
                let indices = bootstrap_indices(rows, &mut rng);
                let distinct_rows = distinct(&indices, rows);
                (seed, indices, distinct_rows)
            })
            .collect();
        let mut mine = None;
        for (j, (i, (seed, indices, distinct_rows))) in round.clone().zip(&draws).enumerate() {
            if cfg.verbose {
                say!(
                    "member {}/{}: seed {seed}, bootstrap sample of {rows} rows ({distinct_rows} distinct)",
                    i + 1,
                    config.models
                );
            }
            if j != cluster::rank() {
                continue;
            }
            let member_splits = match &mut member_splits {
                // The previous member's sample is overwritten in place: one copy of the
                // training set at a time, beside the original.
                Some(existing) => {
                    splits.train.select_into(indices, &mut existing.train);
                    existing
                }
                // Validation and test are copied once, not once per member.
                None => member_splits.insert(Splits {
                    train: splits.train.select(indices),
                    validation: splits.validation.clone(),
                    test: splits.test.clone(),
                }),
            };
            let member_cfg = RunConfig {
                seed: *seed,
                metrics_path: cfg.metrics_path.as_deref().map(|p| member_path(p, i + 1)),
                verbose: cfg.verbose && !spread_out,
                ..cfg.inner()
            };
            let mut member = M::new(progress.hyper.clone(), *seed);
            match fit(&mut member, &member_cfg, member_splits) {
                Ok(report) => mine = Some((member, report)),
                // A signal: the members before this round are what the state file keeps.
                Err(Error::Interrupted { signal, .. }) => {
                    save(&progress)?;
                    return Err(Error::Interrupted {
                        signal,
                        state: cfg.save.state_path.clone(),
                    });
                }
                Err(error) => return Err(member_failed(error, i, config, cfg, progress.members)),
            }
        }
        for (j, (i, (seed, _, distinct_rows))) in round.zip(draws).enumerate() {
            let trained_here = if j == cluster::rank() {
                mine.take()
            } else {
                None
            };
            let (member, report) = spread::share_trained(j, trained_here, || {
                Ok(M::new(progress.hyper.clone(), seed))
            })?;
            if spread_out && j != cluster::rank() {
                // Trained elsewhere: its metrics file is written here, as `fit` writes one.
                if let Some(path) = cfg.metrics_path.as_deref().map(|p| member_path(p, i + 1)) {
                    write_text(&path, &report.metrics_text())?;
                }
            }
            progress.members.push(member);
            progress.reports.push(MemberReport {
                seed,
                distinct_rows,
                report,
            });
        }
        progress.rng = rng.state();
        if cfg.save.every.is_some() {
            save(&progress)?;
        }
    }
    let BaggingProgress {
        members, reports, ..
    } = progress;

    let mut ensemble = Ensemble::new(members, config.vote)?;
    let validation = splits
        .validation
        .as_ref()
        .map(|v| ensemble.evaluate(v))
        .transpose()?;
    let test = splits
        .test
        .as_ref()
        .map(|t| ensemble.test_report(t))
        .transpose()?;
    if cfg.verbose {
        let how = format!("{} vote of {} models", config.vote.name(), config.models);
        if let Some(v) = &validation {
            say!(
                "ensemble ({how}): validation accuracy {:.2}% (loss {:.4})",
                100.0 * v.accuracy,
                v.loss
            );
        }
        if let Some((_, report)) = &test {
            say!("ensemble ({how}): {report}");
        }
    }
    if let Some(path) = &cfg.checkpoint_path {
        save_ensemble(&ensemble, path)?;
    }
    let report = EnsembleReport {
        members: reports,
        validation,
        test: test.map(|(evaluation, _)| evaluation),
    };
    if let Some(path) = &cfg.metrics_path {
        write_summary(path, &report, config)?;
    }
    Ok((ensemble, report))
}

/// The members' hyperparameters: the spec's, or the search's winner's when it has a search.
fn members_hyper<M: Network>(
    cfg: &RunConfig,
    hyper: M::Hyper,
    splits: &Splits<M::Float>,
    config: EnsembleConfig,
    search: Option<&SearchConfig>,
) -> Result<M::Hyper, Error> {
    let Some(search) = search else {
        return Ok(hyper);
    };
    let (winner, _) = crate::search::search::<M>(&cfg.inner(), &hyper, splits, search)?;
    if cfg.verbose {
        say!(
            "bagging {} models with the search's best hyperparameters",
            config.models
        );
    }
    Ok(winner.hyper().clone())
}

/// Member `member`'s training error. A divergence names the member, and the members trained
/// before it are saved (as an ensemble of that many) so their work is not lost.
fn member_failed<M: Network>(
    error: Error,
    member: usize,
    config: EnsembleConfig,
    cfg: &RunConfig,
    finished: Vec<M>,
) -> Error {
    let Error::Diverged {
        epoch,
        step,
        message,
    } = error
    else {
        return error;
    };
    let count = finished.len();
    // Beside the checkpoint, never over it (it may hold an earlier run's whole ensemble).
    let saved = match cfg
        .checkpoint_path
        .as_deref()
        .map(netc_runtime::last_good_path)
    {
        Some(path) if count > 0 => {
            match Ensemble::new(finished, config.vote).and_then(|e| save_ensemble(&e, &path)) {
                Ok(()) => format!(
                    "; {} trained before it {} saved to {} (an ensemble of {count})",
                    if count == 1 {
                        "the member".to_string()
                    } else {
                        format!("the {count} members")
                    },
                    if count == 1 { "was" } else { "were" },
                    path.display()
                ),
                Err(e) => format!("; saving the {count} members trained before it failed too: {e}"),
            }
        }
        _ => String::new(),
    };
    Error::Diverged {
        epoch,
        step,
        message: format!("member {}/{}: {message}{saved}", member + 1, config.models),
    }
}

fn distinct(indices: &[usize], rows: usize) -> usize {
    let mut seen = vec![false; rows];
    indices.iter().for_each(|&i| seen[i] = true);
    seen.iter().filter(|&&s| s).count()
}

/// `run.metrics.jsonl` → `run.metrics.member-3.jsonl`.
fn member_path(path: &Path, member: usize) -> PathBuf {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.member-{member}.{}", ext.to_string_lossy()),
        None => format!("{stem}.member-{member}"),
    };
    path.with_file_name(name)
}

/// One JSON line per member, then one for the ensemble.
fn write_summary(
    path: &Path,
    report: &EnsembleReport,
    config: EnsembleConfig,
) -> Result<(), Error> {
    let number = |v: Option<f32>| v.map_or("null".to_string(), |v| format!("{v}"));
    let mut text = String::new();
    for (i, member) in report.members.iter().enumerate() {
        text += &format!(
            "{{\"member\":{},\"seed\":{},\"distinct_rows\":{},\"steps\":{},\"test_loss\":{},\"test_accuracy\":{}}}\n",
            i + 1,
            member.seed,
            member.distinct_rows,
            member.report.steps,
            number(member.report.test_loss),
            number(member.report.test_accuracy)
        );
    }
    text += &format!(
        "{{\"ensemble\":\"bagging\",\"models\":{},\"vote\":\"{}\",\"validation_loss\":{},\"validation_accuracy\":{},\"test_loss\":{},\"test_accuracy\":{}}}\n",
        config.models,
        config.vote.name(),
        number(report.validation.map(|v| v.loss)),
        number(report.validation.map(|v| v.accuracy)),
        number(report.test.map(|t| t.loss)),
        number(report.test.map(|t| t.accuracy))
    );
    write_text(path, &text)
}

fn write_text(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::File::create(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copying_rows_in_place_equals_select() {
        let source = netc_runtime::test_model::separable_dataset(12, 4);
        let mut target = source.select(&[0; 12]);
        let indices = [3, 3, 0, 11, 5, 7, 7, 7, 1, 2, 10, 9];
        source.select_into(&indices, &mut target);
        assert_eq!(target, source.select(&indices));
    }

    #[test]
    fn member_metrics_paths() {
        assert_eq!(
            member_path(Path::new("out/run.metrics.jsonl"), 3),
            Path::new("out/run.metrics.member-3.jsonl")
        );
        assert_eq!(
            member_path(Path::new("metrics"), 1),
            Path::new("metrics.member-1")
        );
    }
}
