//! `train_step` allocates nothing: a counting global allocator (its own test binary, since a
//! global allocator applies to the whole binary) around steps of generated models.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use netc::Network;

netc::net!(include "../../specs/tiny.net");
netc::net!(include "../../specs/mnist_mlp.net");

struct CountingAllocator;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Only the measuring thread counts (the test harness allocates on other threads).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
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
    ALLOCATIONS.store(0, Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    for _ in 0..steps {
        std::hint::black_box(model.train_step(&x, &labels));
    }
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.load(Ordering::Relaxed)
}

#[test]
fn train_step_never_allocates() {
    // From the very first step: every buffer, including the GEMM's, exists before it.
    assert_eq!(
        allocations_in_steps(&mut tiny::new(1), 100),
        0,
        "tiny (unrolled layers)"
    );
    assert_eq!(
        allocations_in_steps(&mut mnist_mlp::new(1), 3),
        0,
        "mnist_mlp (GEMM layers)"
    );
}
