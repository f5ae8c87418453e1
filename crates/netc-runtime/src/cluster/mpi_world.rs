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
pub(super) struct BlockSum {
    /// Block `k`'s length and offset in the vector.
    lengths: Vec<i32>,
    offsets: Vec<i32>,
    /// Every rank's copy of this rank's block, rank after rank.
    parts: Vec<f64>,
    /// Where each rank's copy starts in `parts` (all of this rank's block's length).
    part_lengths: Vec<i32>,
    part_offsets: Vec<i32>,
    /// This rank's block, summed.
    summed: Vec<f64>,
}

impl BlockSum {
    pub(super) fn new(len: usize) -> BlockSum {
        let world = world();
        let (n, me) = (world.size() as usize, world.rank() as usize);
        let bound = |k: usize| i32::try_from(k * len / n).expect("a vector under 2^31 values");
        let offsets: Vec<i32> = (0..n).map(bound).collect();
        let lengths: Vec<i32> = (0..n).map(|k| bound(k + 1) - bound(k)).collect();
        let mine = lengths[me];
        BlockSum {
            parts: vec![0.0; mine as usize * n],
            part_lengths: vec![mine; n],
            part_offsets: (0..n as i32).map(|j| j * mine).collect(),
            summed: vec![0.0; mine as usize],
            lengths,
            offsets,
        }
    }

    pub(super) fn sum(&mut self, values: &mut [f64]) {
        let world = world();
        {
            let send = Partition::new(&values[..], &self.lengths[..], &self.offsets[..]);
            let mut receive = PartitionMut::new(
                &mut self.parts[..],
                &self.part_lengths[..],
                &self.part_offsets[..],
            );
            world.all_to_all_varcount_into(&send, &mut receive);
        }
        let mine = self.summed.len();
        for (i, total) in self.summed.iter_mut().enumerate() {
            let mut acc = self.parts[i];
            for part in self.parts[mine..].chunks_exact(mine) {
                acc += part[i];
            }
            *total = acc;
        }
        let mut all = PartitionMut::new(values, &self.lengths[..], &self.offsets[..]);
        world.all_gather_varcount_into(&self.summed[..], &mut all);
    }
}
