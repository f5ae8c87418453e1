//! The training step must not allocate: after a first call (which may grow the per-thread
//! packing buffer), repeated GEMM calls of the same or smaller sizes allocate nothing, in f32
//! and in f64.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use netc_kernels::gemm::{self, Element, Isa};

/// The system allocator, counting allocations made on any thread.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The MLP's 8 GEMMs at batch 64 (784-256-128-10), in step order.
fn step<T: Element>(isa: Isa, bufs: &mut Buffers<T>) {
    let Buffers {
        x,
        h1,
        h2,
        y,
        w1,
        w2,
        w3,
        d_y,
        d_h2,
        d_h1,
        d_w1,
        d_w2,
        d_w3,
    } = bufs;
    gemm::nt_on(isa, 64, 256, 784, x, w1, h1, false);
    gemm::nt_on(isa, 64, 128, 256, h1, w2, h2, false);
    gemm::nt_on(isa, 64, 10, 128, h2, w3, y, false);
    gemm::tn_on(isa, 10, 128, 64, d_y, h2, d_w3, false);
    gemm::nn_on(isa, 64, 128, 10, d_y, w3, d_h2, false);
    gemm::tn_on(isa, 128, 256, 64, d_h2, h1, d_w2, true);
    gemm::nn_on(isa, 64, 256, 128, d_h2, w2, d_h1, false);
    gemm::tn_on(isa, 256, 784, 64, d_h1, x, d_w1, false);
}

struct Buffers<T> {
    x: Vec<T>,
    h1: Vec<T>,
    h2: Vec<T>,
    y: Vec<T>,
    w1: Vec<T>,
    w2: Vec<T>,
    w3: Vec<T>,
    d_y: Vec<T>,
    d_h2: Vec<T>,
    d_h1: Vec<T>,
    d_w1: Vec<T>,
    d_w2: Vec<T>,
    d_w3: Vec<T>,
}

impl<T: Element + From<f32>> Buffers<T> {
    fn new() -> Self {
        let v = |len: usize| vec![T::from(0.01); len];
        Self {
            x: v(64 * 784),
            h1: v(64 * 256),
            h2: v(64 * 128),
            y: v(64 * 10),
            w1: v(256 * 784),
            w2: v(128 * 256),
            w3: v(10 * 128),
            d_y: v(64 * 10),
            d_h2: v(64 * 128),
            d_h1: v(64 * 256),
            d_w1: v(256 * 784),
            d_w2: v(128 * 256),
            d_w3: v(10 * 128),
        }
    }
}

// One test only: the counter is process-wide, and a second test thread would allocate.
#[test]
fn repeated_steps_allocate_nothing_on_any_path() {
    steady_state_allocates_nothing::<f32>();
    steady_state_allocates_nothing::<f64>();
    // The counter works: a fresh vector is one allocation.
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let probe = std::hint::black_box(vec![0u8; 64]);
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed) - before, 1);
    drop(probe);
}

fn steady_state_allocates_nothing<T: Element + From<f32>>() {
    let mut bufs = Buffers::<T>::new();
    for isa in Isa::ALL.into_iter().filter(|isa| isa.is_supported()) {
        step(isa, &mut bufs);
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        for _ in 0..3 {
            step(isa, &mut bufs);
        }
        let during = ALLOCATIONS.load(Ordering::Relaxed) - before;
        let name = std::any::type_name::<T>();
        assert_eq!(
            during, 0,
            "{name} {isa:?}: {during} allocations in 3 steady-state steps"
        );
    }
}
