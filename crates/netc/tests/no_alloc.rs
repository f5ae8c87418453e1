//! `train_step` allocates nothing: a counting global allocator (its own test binary, since a
//! global allocator applies to the whole binary) around steps of generated models.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use netc::{Network, Real};

netc::net!(include "../../specs/tiny.net");
netc::net!(include "../../specs/mnist_mlp.net");
netc::net!(include "../../specs/mnist_ref.net");

struct CountingAllocator;

thread_local! {
    /// Only the measuring thread counts (the test harness allocates on other threads).
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// Counting on every thread at once (the GEMM helper threads too); only while `SERIAL` is
/// held, so no other test's allocations are counted.
static EVERY_THREAD: AtomicBool = AtomicBool::new(false);
static EVERY_THREAD_ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
/// Held by every test: the threaded case counts process-wide.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn count() {
    if EVERY_THREAD.load(Ordering::Relaxed) {
        EVERY_THREAD_ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
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

/// One fixed-size batch of inputs and class labels (allocated here, before any counting).
fn batch<M: Network>() -> netc::__private::Batch<M> {
    let x: Vec<M::Float> = (0..M::BATCH * M::INPUT)
        .map(|i| M::Float::from_byte((i % 7) as u8) / M::Float::from_byte(10))
        .collect();
    let labels: Vec<u32> = (0..M::BATCH).map(|i| (i % M::OUTPUT) as u32).collect();
    netc::__private::batch_of::<M>(&x, netc::Targets::Classes(&labels))
}

/// Allocations made by `steps` calls of `train_step` (after building the inputs).
fn allocations_in_steps<M: Network>(model: &mut M, steps: usize) -> usize {
    let (x, labels) = batch::<M>();
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    for _ in 0..steps {
        std::hint::black_box(model.train_step(&x, &labels));
    }
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

/// Allocations on any thread during `steps` calls of `train_step` (after building the inputs).
fn every_thread_allocations_in_steps<M: Network>(model: &mut M, steps: usize) -> usize {
    let (x, labels) = batch::<M>();
    EVERY_THREAD_ALLOCATIONS.store(0, Ordering::Relaxed);
    EVERY_THREAD.store(true, Ordering::Relaxed);
    for _ in 0..steps {
        std::hint::black_box(model.train_step(&x, &labels));
    }
    EVERY_THREAD.store(false, Ordering::Relaxed);
    EVERY_THREAD_ALLOCATIONS.load(Ordering::Relaxed)
}

#[test]
fn the_counter_sees_allocations() {
    let _serial = serial();
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    std::hint::black_box(vec![1u8; 16]);
    COUNTING.with(|c| c.set(false));
    assert!(ALLOCATIONS.with(Cell::get) >= 1);
}

#[test]
fn train_step_never_allocates() {
    let _serial = serial();
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

#[test]
fn train_step_with_two_gemm_threads_never_allocates() {
    let _serial = serial();
    netc::__private::set_threads(2);
    let mut reference = mnist_ref::new(1);
    // Warm-up: the helper thread is spawned and each thread's packing space grows to size.
    // Parts are claimed, not assigned, so whether the helper has yet run every product shape
    // (and grown its space for it) depends on the scheduler: measure windows of 20 steps until
    // one allocates nothing. A per-step allocation would show in every window (≥ 20 each).
    allocations_in_steps(&mut reference, 100);
    let windows: Vec<usize> = (0..50)
        .map(|_| every_thread_allocations_in_steps(&mut reference, 20))
        .scan(false, |done, allocations| {
            (!*done).then(|| {
                *done = allocations == 0;
                allocations
            })
        })
        .collect();
    netc::__private::set_threads(1);
    let grown: usize = windows.iter().sum();
    assert!(
        windows.last() == Some(&0) && grown <= 16,
        "mnist_ref on 2 GEMM threads, any thread: allocations per window of 20 steps \
         {windows:?} (no steady state without allocations)"
    );
}
