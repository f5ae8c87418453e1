//! The MPI side of [`super`]: Open MPI (or any MPI) through rsmpi, on `MPI_COMM_WORLD`. Only
//! the thread that joined calls MPI (the GEMM helper threads never do): `MPI_THREAD_FUNNELED`.

use mpi::Threading;
use mpi::datatype::PartitionMut;
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
