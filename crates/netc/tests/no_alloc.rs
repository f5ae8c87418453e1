//! `train_step` allocates nothing: a counting global allocator (its own test binary, since a
//! global allocator applies to the whole binary) around steps of generated models.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use netc::Network;

netc::net!(include "../../specs/tiny.net");
netc::net!(include "../../specs/mnist_mlp.net");
netc::net!(include "../../specs/mnist_ref.net");

struct CountingAllocator;

thread_local! {
    /// Only the measuring thread counts (the test harness allocates on other threads).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
    }
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Allocations made by `steps` calls of `train_step` (after building the inputs).
fn allocations_in_steps<M: Network>(model: &mut M, steps: usize) -> usize {
    let x: Vec<f32> = (0..M::BATCH * M::INPUT)
        .map(|i| (i % 7) as f32 * 0.1)
        .collect();
    let labels: Vec<u32> = (0..M::BATCH).map(|i| (i % M::OUTPUT) as u32).collect();
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    for _ in 0..steps {
        std::hint::black_box(model.train_step(&x, netc::Targets::Classes(&labels)));
    }
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn the_counter_sees_allocations() {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    std::hint::black_box(vec![1u8; 16]);
    COUNTING.with(|c| c.set(false));
    assert!(ALLOCATIONS.with(Cell::get) >= 1);
}

#[test]
fn train_step_never_allocates() {
    // Unrolled layers: nothing allocates, from the very first step.
    assert_eq!(
        allocations_in_steps(&mut tiny::new(1), 100),
        0,
        "tiny (unrolled layers)"
    );
    // GEMM layers: the runtime's per-thread packing space grows to its size during the first
    // step (its design); every later step allocates nothing.
    let mut mnist = mnist_mlp::new(1);
    allocations_in_steps(&mut mnist, 1);
    assert_eq!(
        allocations_in_steps(&mut mnist, 5),
        0,
        "mnist_mlp (GEMM layers), steady state"
    );
    // Adam, dropout masks and l2: state and masks are allocated in `new`.
    let mut reference = mnist_ref::new(1);
    allocations_in_steps(&mut reference, 1);
    assert_eq!(
        allocations_in_steps(&mut reference, 5),
        0,
        "mnist_ref (adam, dropout, l2), steady state"
    );
}
