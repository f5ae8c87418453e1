//! The processes of one run: a single process, or the ranks of an MPI job (`mpirun -n N`,
//! feature `mpi`). Procedures whose parts are independent (search trials, bagging members)
//! spread them over the ranks and exchange the results with the few collectives here; rank 0
//! prints and writes every file.
//!
//! Without the feature, or before [`join`], a run is one process: rank 0 of 1, and every
//! collective returns what this process brought. Callers never branch on the feature.
//!
//! Errors: MPI's default handler (`MPI_ERRORS_ARE_FATAL`) stays in force, so a failed
//! collective aborts the job; a rank that exits early (an error, a signal) makes `mpirun`
//! stop the others within about a second rather than leave them waiting.

#[cfg(feature = "mpi")]
mod mpi_world;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;

/// Whether [`join`] started MPI in this process.
static JOINED: AtomicBool = AtomicBool::new(false);

/// This process's part in an MPI job until it is dropped (then `MPI_Finalize`). Keep it alive
/// for the whole `main`.
pub struct Membership {
    #[cfg(feature = "mpi")]
    _world: Option<mpi_world::World>,
}

impl Drop for Membership {
    fn drop(&mut self) {
        JOINED.store(false, Ordering::SeqCst);
    }
}

/// Joins the MPI job this process was started in (a lone process is a job of one). Without
/// the feature `mpi`, nothing to join: one process.
pub fn join() -> Result<Membership, Error> {
    #[cfg(feature = "mpi")]
    {
        let world = mpi_world::World::init()?;
        JOINED.store(true, Ordering::SeqCst);
        Ok(Membership {
            _world: Some(world),
        })
    }
    #[cfg(not(feature = "mpi"))]
    Ok(Membership {})
}

#[cfg(feature = "mpi")]
fn joined() -> bool {
    JOINED.load(Ordering::SeqCst)
}

/// This process's rank: 0 ≤ rank < [`size`].
pub fn rank() -> usize {
    #[cfg(feature = "mpi")]
    if joined() {
        return mpi_world::rank();
    }
    0
}

/// How many processes the run has.
pub fn size() -> usize {
    #[cfg(feature = "mpi")]
    if joined() {
        return mpi_world::size();
    }
    1
}

/// Whether this process prints and writes the run's files.
pub fn is_root() -> bool {
    rank() == 0
}

/// Every rank's `mine`, in rank order (a collective: every rank calls it).
pub fn all_gather(mine: &[u8]) -> Vec<Vec<u8>> {
    #[cfg(feature = "mpi")]
    if joined() {
        return mpi_world::all_gather(mine);
    }
    vec![mine.to_vec()]
}

/// `root`'s `bytes` on every rank (a collective; what the other ranks pass is ignored).
pub fn broadcast(root: usize, bytes: Vec<u8>) -> Vec<u8> {
    #[cfg(feature = "mpi")]
    if joined() {
        return mpi_world::broadcast(root, bytes);
    }
    debug_assert_eq!(root, 0, "a single process is rank 0");
    bytes
}

/// The rank that runs part `index` of work split over the ranks: parts go round-robin.
pub fn owner(index: usize) -> usize {
    index % size()
}

/// Every rank's one `f64` (exact: an `f32` score widens without loss), in rank order.
pub fn all_gather_f64(mine: f64) -> Vec<f64> {
    all_gather(&mine.to_le_bytes())
        .iter()
        .map(|b| f64::from_le_bytes(b[..8].try_into().expect("8 bytes from every rank")))
        .collect()
}

/// Whether `mine` holds on any rank (a collective).
pub fn any(mine: bool) -> bool {
    all_gather(&[u8::from(mine)])
        .iter()
        .any(|flag| flag.first() == Some(&1))
}

/// How a rank reports a stop that another rank's signal asked for (SIGTERM's number).
pub const SIGTERM: i32 = 15;

/// The signal that asked the run to stop (`interrupt::requested`) on any rank: every rank
/// gets the same answer (a collective), so all of them stop at the same point of the run.
pub fn stop_requested_on_any_rank() -> Option<i32> {
    let mine = crate::interrupt::requested();
    any(mine.is_some()).then(|| mine.unwrap_or(SIGTERM))
}

/// Element-wise sums of one vector over the ranks, in rank order: ((v₀ + v₁) + v₂) + … — a
/// fixed order, so every rank gets the same bits, and so does every run with the same number
/// of ranks (MPI's own `MPI_Allreduce` may associate the terms differently from rank to rank
/// or run to run). The buffers are allocated once, for vectors of up to one length: a step's
/// sums allocate nothing.
pub struct OrderedSum {
    max_len: usize,
    #[cfg(feature = "mpi")]
    blocks: Option<mpi_world::BlockSum>,
}

impl OrderedSum {
    /// For vectors of up to `max_len` values.
    pub fn new(max_len: usize) -> OrderedSum {
        OrderedSum {
            max_len,
            #[cfg(feature = "mpi")]
            blocks: (joined() && size() > 1).then(|| mpi_world::BlockSum::new(max_len)),
        }
    }

    /// Replaces this rank's `values` with their sum over every rank (a collective: every rank
    /// calls it with a vector of the same length). One process keeps its values.
    pub fn sum(&mut self, values: &mut [f64]) {
        assert!(
            values.len() <= self.max_len,
            "OrderedSum::sum: a vector longer than it was made for"
        );
        #[cfg(feature = "mpi")]
        if let Some(blocks) = &mut self.blocks {
            blocks.sum(values);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_process_is_rank_0_of_1_and_keeps_its_own_values() {
        let _membership = join().unwrap();
        assert_eq!((rank(), size(), is_root()), (0, 1, true));
        assert_eq!(all_gather(b"abc"), vec![b"abc".to_vec()]);
        assert_eq!(broadcast(0, vec![7, 8]), vec![7, 8]);
        assert_eq!(all_gather_f64(0.1f32 as f64), vec![0.1f32 as f64]);
        assert_eq!((owner(0), owner(5)), (0, 0));
        assert!(any(true) && !any(false));
        let mut values = [0.1, -2.5, 3.0];
        OrderedSum::new(3).sum(&mut values);
        assert_eq!(values, [0.1, -2.5, 3.0]);
    }
}
