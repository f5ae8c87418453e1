//! How many threads the matrix products may use, and the persistent helpers that run them.
//!
//! The default is one thread (the caller alone: no helper exists, results are exactly those of
//! a single-threaded build). [`set_threads`] or the `NETC_THREADS` environment variable raise
//! it. Helpers are spawned once, lazily, on the first product that asks for them; between
//! products each one spins briefly (products follow each other within microseconds inside a
//! training step), then parks. Handing over a part is two atomic stores and, if the helper was
//! parked, one unpark: the hot loop never allocates.

use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// The most threads [`set_threads`] accepts (larger requests are clamped).
pub const MAX_THREADS: usize = 16;

/// The environment variable read (once) when [`set_threads`] was not called.
pub const THREADS_VAR: &str = "NETC_THREADS";

/// How long an idle helper spins for the next part before it parks: longer than the
/// element-wise work between two products of a step, far shorter than a step.
const SPIN: Duration = Duration::from_micros(200);

/// 0: not yet chosen (read `NETC_THREADS` on first use).
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many threads each large matrix product may use (1 = the calling thread only; the
/// default). Clamped to `1..=MAX_THREADS`. Results do not depend on it: products are split by
/// rows of the result, each computed exactly as on one thread.
pub fn set_threads(threads: usize) {
    THREADS.store(threads.clamp(1, MAX_THREADS), Ordering::Relaxed);
}

/// The current thread count: [`set_threads`]'s value, else `NETC_THREADS` (a positive
/// integer; anything else means 1), else 1.
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            let chosen = from_env(std::env::var(THREADS_VAR).ok().as_deref());
            // A concurrent `set_threads` wins over the environment.
            let _ = THREADS.compare_exchange(0, chosen, Ordering::Relaxed, Ordering::Relaxed);
            THREADS.load(Ordering::Relaxed)
        }
        chosen => chosen,
    }
}

/// The thread count a `NETC_THREADS` value asks for.
fn from_env(value: Option<&str>) -> usize {
    value
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, MAX_THREADS)
}

/// Runs `job(0)`, …, `job(parts - 1)`, part 0 on the calling thread and the others on helpers
/// at the same time; returns when all are done. If another thread is using the helpers (two
/// models training at once), every part runs here instead, one after another.
///
/// # Panics
/// If `parts > MAX_THREADS`, or a part panicked (on whichever thread it ran).
pub(crate) fn run_parts(parts: usize, job: &(dyn Fn(usize) + Sync)) {
    assert!(parts <= MAX_THREADS, "{parts} parts > {MAX_THREADS}");
    let Some(_claim) = (parts > 1).then(Claim::take).flatten() else {
        (0..parts).for_each(job);
        return;
    };
    // SAFETY: the helpers' references to `job` end before this function returns: it waits
    // for every posted part below (also when part 0 panics, in `Wait::drop`).
    let erased: JobRef = unsafe { std::mem::transmute::<&(dyn Fn(usize) + Sync), JobRef>(job) };
    let helpers = &HELPERS[1..parts];
    let wait = Wait(helpers);
    for (index, helper) in helpers.iter().enumerate() {
        helper.post(index + 1, erased);
    }
    job(0);
    drop(wait);
    if helpers
        .iter()
        .any(|h| h.panicked.swap(false, Ordering::Relaxed))
    {
        panic!("a matrix product part panicked on a helper thread");
    }
}

type JobRef = &'static (dyn Fn(usize) + Sync);

/// Waits for the helpers' parts on drop, so that a panic in part 0 cannot free the job while a
/// helper still runs it.
struct Wait<'a>(&'a [Helper]);

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        for helper in self.0 {
            helper.wait();
        }
    }
}

/// Exclusive use of the helpers for one product.
struct Claim;

static CLAIMED: AtomicBool = AtomicBool::new(false);

impl Claim {
    fn take() -> Option<Claim> {
        CLAIMED
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
            // Lazily: a `Claim` made and dropped on failure would release someone else's.
            .then(|| Claim)
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        CLAIMED.store(false, Ordering::Release);
    }
}

/// One helper thread's mailbox. Index 0 is unused (part 0 runs on the caller).
struct Helper {
    /// Sequence number of the last part posted / finished; they differ while one runs.
    posted: AtomicU64,
    finished: AtomicU64,
    /// The posted job and part, written only while `posted == finished` (no part running).
    work: UnsafeCell<Option<(JobRef, usize)>>,
    /// Set by the helper just before it parks.
    sleeping: AtomicBool,
    panicked: AtomicBool,
    thread: OnceLock<Thread>,
}

// SAFETY: `work` is written by the claiming caller only while the helper is idle, and read by
// the helper only after it saw the new `posted` (release/acquire orders the two).
unsafe impl Sync for Helper {}

static HELPERS: [Helper; MAX_THREADS] = [const { Helper::new() }; MAX_THREADS];

impl Helper {
    const fn new() -> Helper {
        Helper {
            posted: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            work: UnsafeCell::new(None),
            sleeping: AtomicBool::new(false),
            panicked: AtomicBool::new(false),
            thread: OnceLock::new(),
        }
    }

    /// Hands `job(part)` to this helper (spawning it the first time).
    fn post(&'static self, part: usize, job: JobRef) {
        let thread = self.thread.get_or_init(|| {
            thread::Builder::new()
                .name(format!("netc-gemm-{part}"))
                .spawn(move || self.serve())
                .unwrap_or_else(|e| panic!("cannot spawn a matrix product helper: {e}"))
                .thread()
                .clone()
        });
        // SAFETY: the previous part finished (the caller waited for it) and we hold the
        // claim, so nobody else reads or writes `work` now.
        unsafe { *self.work.get() = Some((job, part)) };
        // A part 0 that panicked earlier may have left a helper's flag unread.
        self.panicked.store(false, Ordering::Relaxed);
        let sequence = self.finished.load(Ordering::Relaxed) + 1;
        self.posted.store(sequence, Ordering::SeqCst);
        // Pairs with `serve`: it sets `sleeping` and then re-checks `posted`.
        if self.sleeping.load(Ordering::SeqCst) {
            thread.unpark();
        }
    }

    /// Spins (then yields) until the posted part is finished.
    fn wait(&self) {
        let target = self.posted.load(Ordering::Relaxed);
        let mut spins = 0u32;
        while self.finished.load(Ordering::Acquire) != target {
            if spins < 1 << 16 {
                std::hint::spin_loop();
                spins += 1;
            } else {
                // The helper lost its core (a busy machine): let it have ours.
                thread::yield_now();
            }
        }
    }

    /// The helper thread's loop: wait for a part, run it, report it finished.
    fn serve(&self) {
        let mut done = 0u64;
        loop {
            let sequence = self.next_posted(done);
            // SAFETY: `posted` moved past `done` (acquire): the caller wrote `work` before it.
            let work = unsafe { *self.work.get() };
            if let Some((job, part)) = work
                && catch_unwind(AssertUnwindSafe(|| job(part))).is_err()
            {
                self.panicked.store(true, Ordering::Relaxed);
            }
            done = sequence;
            self.finished.store(done, Ordering::Release);
        }
    }

    /// The next posted sequence number after `done`: spin for `SPIN`, then park.
    fn next_posted(&self, done: u64) -> u64 {
        let started = Instant::now();
        let mut spins = 0u32;
        loop {
            let posted = self.posted.load(Ordering::Acquire);
            if posted != done {
                return posted;
            }
            spins = spins.wrapping_add(1);
            if spins % 64 != 0 || started.elapsed() < SPIN {
                std::hint::spin_loop();
                continue;
            }
            self.sleeping.store(true, Ordering::SeqCst);
            if self.posted.load(Ordering::SeqCst) == done {
                thread::park();
            }
            self.sleeping.store(false, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn environment_values() {
        assert_eq!(from_env(None), 1);
        assert_eq!(from_env(Some("2")), 2);
        assert_eq!(from_env(Some(" 3 ")), 3);
        assert_eq!(from_env(Some("0")), 1);
        assert_eq!(from_env(Some("many")), 1);
        assert_eq!(from_env(Some("1000")), MAX_THREADS);
    }

    #[test]
    fn every_part_runs_once_per_call() {
        let counts: [AtomicU32; 4] = Default::default();
        let on_caller = AtomicU32::new(0);
        let caller = thread::current().id();
        for _ in 0..1000 {
            run_parts(4, &|part| {
                counts[part].fetch_add(1, Ordering::Relaxed);
                if thread::current().id() == caller {
                    on_caller.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        for count in &counts {
            assert_eq!(count.load(Ordering::Relaxed), 1000);
        }
        // Part 0 always runs on the caller; the others do only when the helpers were claimed
        // by a concurrent test.
        assert!(on_caller.load(Ordering::Relaxed) >= 1000);
    }

    #[test]
    fn parts_after_a_pause_wake_parked_helpers() {
        let sum = AtomicU32::new(0);
        for _ in 0..3 {
            run_parts(2, &|part| {
                sum.fetch_add(part as u32 + 1, Ordering::Relaxed);
            });
            thread::sleep(SPIN * 5);
        }
        assert_eq!(sum.load(Ordering::Relaxed), 9);
    }

    #[test]
    fn a_panicking_part_is_reported_to_the_caller() {
        let outcome = catch_unwind(|| {
            run_parts(2, &|part| {
                if part == 1 {
                    panic!("part 1 fails");
                }
            })
        });
        assert!(outcome.is_err());
        // The helper survives and serves the next call.
        let ran = AtomicU32::new(0);
        run_parts(2, &|_| {
            ran.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(ran.load(Ordering::Relaxed), 2);
    }
}
