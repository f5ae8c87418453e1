//! The MPI side of [`super`]: Open MPI (or any MPI) through rsmpi, on `MPI_COMM_WORLD`. Only
//! the thread that joined calls MPI (the GEMM helper threads never do): `MPI_THREAD_FUNNELED`.

use mpi::Threading;
use mpi::datatype::{Partition, PartitionMut};
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator, CommunicatorCollectives, Root};

use crate::error::Error;

/// The initialized MPI environment; dropping it finalizes MPI.
pub(super) struct World {
    _universe: Universe,
}

impl World {
    pub(super) fn init() -> Result<World, Error> {
        let (universe, _level) = mpi::initialize_with_threading(Threading::Funneled)
            .ok_or_else(|| Error::Usage("MPI was already initialized in this process".into()))?;
        Ok(World {
            _universe: universe,
        })
    }
}

fn world() -> SimpleCommunicator {
    SimpleCommunicator::world()
}

pub(super) fn rank() -> usize {
    world().rank() as usize
}

pub(super) fn size() -> usize {
    world().size() as usize
}

pub(super) fn all_gather(mine: &[u8]) -> Vec<Vec<u8>> {
    let world = world();
    let n = world.size() as usize;
    let length = i32::try_from(mine.len()).expect("a part under 2 GiB");
    let mut lengths = vec![0i32; n];
    world.all_gather_into(&length, &mut lengths[..]);
    let offsets: Vec<i32> = lengths
        .iter()
        .scan(0i32, |at, &len| {
            let start = *at;
            *at += len;
            Some(start)
        })
        .collect();
    let total: usize = lengths.iter().map(|&l| l as usize).sum();
    let mut all = vec![0u8; total];
    {
        let mut partition = PartitionMut::new(&mut all[..], &lengths[..], &offsets[..]);
        world.all_gather_varcount_into(mine, &mut partition);
    }
    lengths
        .iter()
        .zip(&offsets)
        .map(|(&len, &at)| all[at as usize..(at + len) as usize].to_vec())
        .collect()
}

pub(super) fn broadcast(root: usize, mut bytes: Vec<u8>) -> Vec<u8> {
    let world = world();
    let root = world.process_at_rank(root as i32);
    let mut length = bytes.len() as u64;
    root.broadcast_into(&mut length);
    bytes.resize(length as usize, 0);
    if length > 0 {
        root.broadcast_into(&mut bytes[..]);
    }
    bytes
}

/// See [`super::OrderedSum`]: block `k` of the vector is summed on rank `k` (an all-to-all
/// brings it every rank's copy of the block), then every rank gets every summed block (an
/// all-gather). Each element is added up on one rank only, in rank order, so every rank ends
/// with the same bits; the traffic is a ring allreduce's, 2(N−1)/N of the vector per rank.
/// Sized once for the longest vector; a shorter one reuses the buffers.
pub(super) struct BlockSum {
    ranks: usize,
    rank: usize,
    /// Block `k`'s length and offset in the vector.
    lengths: Vec<i32>,
    offsets: Vec<i32>,
    /// Every rank's copy of this rank's block, rank after rank.
    parts: Vec<f64>,
    /// This rank's block's length (from every rank) and where each copy starts in `parts`.
    part_lengths: Vec<i32>,
    part_offsets: Vec<i32>,
    /// This rank's block, summed.
    summed: Vec<f64>,
}

impl BlockSum {
    pub(super) fn new(max_len: usize) -> BlockSum {
        let world = world();
        let (n, me) = (world.size() as usize, world.rank() as usize);
        let block = max_len.div_ceil(n);
        BlockSum {
            ranks: n,
            rank: me,
            lengths: vec![0; n],
            offsets: vec![0; n],
            parts: vec![0.0; block * n],
            part_lengths: vec![0; n],
            part_offsets: vec![0; n],
            summed: vec![0.0; block],
        }
    }

    /// Lays out a vector of `len` values in blocks; this rank's block's length.
    fn lay_out(&mut self, len: usize) -> usize {
        let n = self.ranks;
        let bound = |k: usize| i32::try_from(k * len / n).expect("a vector under 2^31 values");
        for k in 0..n {
            self.offsets[k] = bound(k);
            self.lengths[k] = bound(k + 1) - bound(k);
        }
        let mine = self.lengths[self.rank];
        for j in 0..n {
            self.part_lengths[j] = mine;
            self.part_offsets[j] = j as i32 * mine;
        }
        mine as usize
    }

    pub(super) fn sum(&mut self, values: &mut [f64]) {
        let world = world();
        let mine = self.lay_out(values.len());
        let parts = &mut self.parts[..mine * self.ranks];
        {
            let send = Partition::new(&values[..], &self.lengths[..], &self.offsets[..]);
            let mut receive = PartitionMut::new(
                &mut parts[..],
                &self.part_lengths[..],
                &self.part_offsets[..],
            );
            world.all_to_all_varcount_into(&send, &mut receive);
        }
        // Rank 0's copy, then each further rank's added in rank order: the fixed order of
        // additions, a whole part at a time (a loop the compiler vectorizes).
        let summed = &mut self.summed[..mine];
        summed.copy_from_slice(&parts[..mine]);
        for rank in 1..self.ranks {
            let part = &parts[rank * mine..(rank + 1) * mine];
            for (total, value) in summed.iter_mut().zip(part) {
                *total += *value;
            }
        }
        let mut all = PartitionMut::new(values, &self.lengths[..], &self.offsets[..]);
        world.all_gather_varcount_into(&summed[..], &mut all);
    }
}
