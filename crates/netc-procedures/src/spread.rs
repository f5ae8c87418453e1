//! Spreading a procedure's independent parts (search trials, bagging members) over the ranks
//! of an MPI job ([`netc_runtime::cluster`]): the parts go out in rounds of one per rank, and
//! after each round every rank learns every part's result, so every rank takes the same
//! decisions and holds the same state as a single process that ran the parts one by one.

use std::path::Path;

use netc_runtime::cluster;
use netc_runtime::error::Error;
use netc_runtime::network::Network;
use netc_runtime::report::Report;
use netc_runtime::run_state::codec::{StateReader, StateWriter};
use netc_runtime::run_state::finished;

/// The parts `first..first + k` of `total` that run in the next round: one per rank.
pub(crate) fn round(first: usize, total: usize) -> std::ops::Range<usize> {
    first..total.min(first + cluster::size())
}

/// The trained model of part `j` of a round, on every rank: the rank that trained it (rank
/// `j`) passes `mine`, the others get a copy (bit for bit: tensors, optimizer state, counters
/// and report) in a model made by `fresh`. One process keeps its own model.
pub(crate) fn share_trained<M: Network>(
    j: usize,
    mine: Option<(M, Report)>,
    fresh: impl FnOnce() -> Result<M, Error>,
) -> Result<(M, Report), Error> {
    if cluster::size() == 1 {
        return mine.ok_or_else(|| Error::Usage("a part of a round was not trained".into()));
    }
    let origin = format!("<model trained on rank {j}>");
    let origin = Path::new(&origin);
    let sent = match &mine {
        Some((model, report)) if cluster::rank() == j => {
            let mut out = StateWriter::default();
            finished::write(&mut out, "", model, report);
            out.encode(origin)?
        }
        _ => Vec::new(),
    };
    let bytes = cluster::broadcast(j, sent);
    if cluster::rank() == j
        && let Some(trained) = mine
    {
        return Ok(trained);
    }
    let input = StateReader::new(&bytes, origin)?;
    let mut model = fresh()?;
    let report = finished::read(&input, "", &mut model)?;
    Ok((model, report))
}
