//! Model checks of the helper-thread hand-off (`src/threads.rs`) with loom: every interleaving
//! of the callers and helpers below, within a bound on preemptions, and every outcome the
//! C++ memory model allows for the atomics' orderings.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom \
//!     cargo test -p netc-kernels --release --test loom_threads
//! ```
//!
//! What the models check, besides their assertions: a part's writes are plain (loom's
//! `UnsafeCell`, as a part's rows of C are), so a part run twice at once, or read by the caller
//! without its writes happening before, is a data race loom reports; the protocol's `Job`
//! carries a cell that the caller clears before `run_parts` returns and that a helper reads at
//! each use, so a use of the caller's stack after the return (what the `AtomicPtr` could
//! allow) fails; a lost wake-up leaves a thread parked for ever, which loom reports as a
//! deadlock. Under `--cfg loom` helpers park as soon as no product is waiting (no spinning).
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, Ordering};
use netc_kernels::threads::Pool;

/// Runs `body` under loom, at `LOOM_MAX_PREEMPTIONS` (default 2) preemptions.
fn model(body: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(body);
}

/// A pool for one model run (its helpers' threads need it `'static`; a few bytes a run).
fn pool<const N: usize>() -> &'static Pool<N> {
    Box::leak(Box::new(Pool::new()))
}

/// One plain counter per part: how many times it ran.
struct Counts<const P: usize>([UnsafeCell<usize>; P]);

// SAFETY: each part touches only its own cell; loom checks that claim.
unsafe impl<const P: usize> Sync for Counts<P> {}

impl<const P: usize> Counts<P> {
    fn new() -> Self {
        Counts(std::array::from_fn(|_| UnsafeCell::new(0)))
    }

    /// What part `p` does: a plain read-modify-write of its own cell.
    fn run(&self, p: usize) {
        // SAFETY: loom checks the access.
        self.0[p].with_mut(|n| unsafe { *n += 1 });
    }

    /// Every part ran exactly once (read by the caller after `run_parts` returned).
    fn assert_once(&self, what: &str) {
        for (p, cell) in self.0.iter().enumerate() {
            // SAFETY: loom checks the access.
            let n = cell.with(|n| unsafe { *n });
            assert_eq!(n, 1, "{what}: part {p} ran {n} times");
        }
    }
}

#[test]
fn every_part_runs_exactly_once() {
    model(|| {
        let pool = pool::<2>();
        let counts = Counts::<2>::new();
        pool.run_parts(2, &|p| counts.run(p));
        counts.assert_once("one product");
        pool.stop();
    });
}

#[test]
fn three_parts_on_two_helpers() {
    model(|| {
        let pool = pool::<3>();
        let counts = Counts::<3>::new();
        pool.run_parts(3, &|p| counts.run(p));
        counts.assert_once("three parts");
        pool.stop();
    });
}

/// Runs a product with its `Job` somewhere else on the stack than a direct call's, so that a
/// stale pointer to the previous product's `Job` is not, by luck, a pointer to this one.
#[inline(never)]
fn run_deeper(pool: &'static Pool<2>, job: &(dyn Fn(usize) + Sync)) {
    let pad = std::hint::black_box([0u8; 512]);
    pool.run_parts(2, job);
    std::hint::black_box(&pad);
}

/// A helper woken for the first product may be descheduled anywhere (between reading the
/// `Job` pointer and claiming, say) until the caller has finished it and posted the second:
/// its claim for the finished epoch must get nothing, and it must not touch the first `Job`.
#[test]
fn a_late_helper_gets_nothing_from_a_finished_product() {
    model(|| {
        let pool = pool::<2>();
        let first = Counts::<2>::new();
        pool.run_parts(2, &|p| first.run(p));
        first.assert_once("first product");
        let second = Counts::<2>::new();
        run_deeper(pool, &|p| second.run(p));
        second.assert_once("second product");
        first.assert_once("first product, after the second");
        pool.stop();
    });
}

/// Two threads use one pool at once: one gets the helpers (`Claim`), the other runs its parts
/// itself; both see each of their parts run once.
#[test]
fn two_callers_at_once() {
    model(|| {
        let pool = pool::<2>();
        let other = loom::thread::spawn(move || {
            let counts = Counts::<2>::new();
            pool.run_parts(2, &|p| counts.run(p));
            counts.assert_once("second caller");
        });
        let counts = Counts::<2>::new();
        pool.run_parts(2, &|p| counts.run(p));
        counts.assert_once("first caller");
        other.join().unwrap();
        pool.stop();
    });
}

/// After a first product (which spawns the helper) the helper parks; the second product's
/// part 0 waits for part 1, so it finishes only if the parked helper is woken and runs one of
/// them. A lost wake-up is a deadlock.
#[test]
fn a_parked_helper_is_woken() {
    model(|| {
        let pool = pool::<2>();
        pool.run_parts(2, &|_| {});
        let second_done = AtomicBool::new(false);
        pool.run_parts(2, &|p| {
            if p == 0 {
                while !second_done.load(Ordering::Acquire) {
                    loom::thread::yield_now();
                }
            } else {
                second_done.store(true, Ordering::Release);
            }
        });
        pool.stop();
    });
}
