//! Saving and restoring bagging at member granularity: the members trained so far (weights,
//! optimizer state, reports), their seeds and bootstrap sizes, the generator of the next
//! member's seed and sample, and the hyperparameters the members use (after a search, so a
//! resumed ensemble does not search again).

use std::path::Path;

use netc_runtime::config::RunConfig;
use netc_runtime::data::Splits;
use netc_runtime::error::Error;
use netc_runtime::network::Network;
use netc_runtime::rng::RngState;
use netc_runtime::run_state::{self, finished};

use super::MemberReport;

const KIND: &str = "ensemble";

/// How far bagging got.
pub(crate) struct BaggingProgress<M: Network> {
    /// The hyperparameters of every member.
    pub hyper: M::Hyper,
    /// The generator after the last finished member's draws.
    pub rng: RngState,
    pub members: Vec<M>,
    pub reports: Vec<MemberReport>,
}

pub(crate) fn save<M: Network>(
    path: &Path,
    cfg: &RunConfig,
    base: &M::Hyper,
    splits_hash: (usize, u64),
    progress: &BaggingProgress<M>,
) -> Result<(), Error> {
    let mut out = run_state::write_run_header::<M>(KIND, cfg, base, splits_hash);
    run_state::write_hyper::<M>(&mut out, "members_hyper.", &progress.hyper);
    out.rng("ensemble.rng", &progress.rng);
    let seeds: Vec<u64> = progress
        .reports
        .iter()
        .flat_map(|r| [r.seed, r.distinct_rows as u64])
        .collect();
    out.u64s("ensemble.members", &seeds);
    for (i, (member, report)) in progress.members.iter().zip(&progress.reports).enumerate() {
        finished::write(&mut out, &format!("member.{i}."), member, &report.report);
    }
    out.write_to(path)
}

pub(crate) fn restore<M: Network>(
    path: &Path,
    cfg: &RunConfig,
    base: &M::Hyper,
    splits: &Splits<M::Float>,
    models: usize,
) -> Result<BaggingProgress<M>, Error> {
    let bytes = run_state::read_state_file(path)?;
    let input = run_state::open_run_state::<M>(&bytes, path, KIND, cfg, base, splits)?;
    let hyper = run_state::read_hyper(&input, "members_hyper.", base)?;
    let rng = input.rng("ensemble.rng")?;
    let seeds = input.u64s("ensemble.members")?;
    if seeds.len() % 2 != 0 || seeds.len() / 2 > models {
        return Err(input.error(format!(
            "tensor `ensemble.members` holds {} values: not up to {models} (seed, rows) pairs",
            seeds.len()
        )));
    }
    let mut members = Vec::new();
    let mut reports = Vec::new();
    for (i, pair) in seeds.chunks_exact(2).enumerate() {
        let mut member = M::new(hyper.clone(), pair[0]);
        let report = finished::read(&input, &format!("member.{i}."), &mut member)?;
        members.push(member);
        reports.push(MemberReport {
            seed: pair[0],
            distinct_rows: pair[1] as usize,
            report,
        });
    }
    Ok(BaggingProgress {
        hyper,
        rng,
        members,
        reports,
    })
}
