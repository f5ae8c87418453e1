//! How many threads the matrix products may use, and the persistent helpers that run them.
//!
//! The default is one thread (the caller alone: no helper exists, results are exactly those of
//! a single-threaded build). [`set_threads`] or the `NETC_THREADS` environment variable raise
//! it. Helpers are spawned once, lazily, on the first product that asks for them; between
//! products each one spins briefly (products follow each other within microseconds inside a
//! training step), then parks. Handing over a part is two atomic stores and, if the helper was
//! parked, one unpark: the hot loop never allocates.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// The most threads [`set_threads`] accepts (larger requests are clamped).
pub const MAX_THREADS: usize = netc_limits::THREADS.max as usize;

/// The environment variable read (once) when [`set_threads`] was not called.
pub const THREADS_VAR: &str = "NETC_THREADS";

/// How long an idle helper spins for the next part before it parks: longer than the
/// element-wise work between two products of a step, far shorter than a step.
const SPIN: Duration = Duration::from_micros(200);

/// Busy-wait iterations (some tens of nanoseconds each) before a waiting thread starts
/// yielding its core instead.
const SPIN_BEFORE_YIELD: u32 = 256;

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

/// Runs `job(0)`, …, `job(parts - 1)` on the calling thread and up to `parts - 1` helpers at
/// the same time; returns when all are done. Parts are claimed, not assigned: the caller keeps
/// claiming after its first one, so a helper that is slow to wake (parked, or its core taken
/// by another process) costs nothing but its share of the speed-up. If another thread is
/// using the helpers (two models training at once), every part runs here, one after another.
///
/// # Panics
/// If `parts > MAX_THREADS`, or a part panicked (on whichever thread it ran).
pub(crate) fn run_parts(parts: usize, job: &(dyn Fn(usize) + Sync)) {
    assert!(parts <= MAX_THREADS, "{parts} parts > {MAX_THREADS}");
    let Some(_claim) = (parts > 1).then(Claim::take).flatten() else {
        (0..parts).for_each(job);
        return;
    };
    let posted = Job {
        run: job,
        done_by_helpers: AtomicUsize::new(0),
        panicked: AtomicBool::new(false),
    };
    let epoch = state::epoch(STATE.load(Ordering::Relaxed)).wrapping_add(1);
    // Published before the state that lets helpers claim parts of it (release/acquire).
    JOB.store(
        std::ptr::from_ref(&posted).cast_mut().cast(),
        Ordering::Release,
    );
    STATE.store(state::pack(epoch, parts, 0), Ordering::SeqCst);
    for helper in &HELPERS[1..parts] {
        helper.wake();
    }
    let mut ours = Finish {
        job: &posted,
        epoch,
        parts,
        claimed_here: 0,
    };
    while let Some(part) = claim(epoch) {
        ours.claimed_here += 1;
        job(part);
    }
    drop(ours);
    if posted.panicked.load(Ordering::Relaxed) {
        panic!("a matrix product part panicked on a helper thread");
    }
}

/// The product being split: on the caller's stack for the duration of `run_parts`.
struct Job<'a> {
    run: &'a (dyn Fn(usize) + Sync),
    /// Parts finished by helpers (release: their writes to C are visible to the caller).
    done_by_helpers: AtomicUsize,
    panicked: AtomicBool,
}

/// `(epoch, parts, next unclaimed part)` in one word, so that claiming a part of a finished
/// product (whose `Job` is gone) fails: the epoch has moved on or no part is left.
static STATE: AtomicU64 = AtomicU64::new(0);
/// The current epoch's `Job` (type-erased; only dereferenced after claiming one of its parts).
static JOB: AtomicPtr<()> = AtomicPtr::new(std::ptr::null_mut());

mod state {
    const PART_BITS: u32 = 8;
    const MASK: u64 = (1 << PART_BITS) - 1;

    pub(super) fn pack(epoch: u64, parts: usize, next: usize) -> u64 {
        (epoch << (2 * PART_BITS)) | ((parts as u64) << PART_BITS) | next as u64
    }

    pub(super) fn epoch(state: u64) -> u64 {
        state >> (2 * PART_BITS)
    }

    /// (parts, next unclaimed part)
    pub(super) fn parts(state: u64) -> (usize, usize) {
        (
            ((state >> PART_BITS) & MASK) as usize,
            (state & MASK) as usize,
        )
    }
}

/// Claims the next part of `epoch`'s product, if one is left.
fn claim(epoch: u64) -> Option<usize> {
    let mut current = STATE.load(Ordering::Acquire);
    loop {
        let (parts, next) = state::parts(current);
        if state::epoch(current) != epoch || next >= parts {
            return None;
        }
        match STATE.compare_exchange_weak(current, current + 1, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return Some(next),
            Err(now) => current = now,
        }
    }
}

/// On drop (also while unwinding from a part that panicked): closes the product to further
/// claims and waits for the parts helpers claimed, so the `Job` outlives every use.
struct Finish<'a> {
    job: &'a Job<'a>,
    epoch: u64,
    parts: usize,
    claimed_here: usize,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        let closed = state::pack(self.epoch, self.parts, self.parts);
        let before = STATE.swap(closed, Ordering::AcqRel);
        let claimed = state::parts(before).1;
        let by_helpers = claimed - self.claimed_here;
        let mut spins = 0u32;
        while self.job.done_by_helpers.load(Ordering::Acquire) != by_helpers {
            if spins < SPIN_BEFORE_YIELD {
                std::hint::spin_loop();
                spins += 1;
            } else {
                // The helper lost its core mid-part (a busy machine): let it have ours.
                thread::yield_now();
            }
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

/// One helper thread. Index 0 is unused (the caller is the first worker).
struct Helper {
    /// Set by the helper just before it parks.
    sleeping: AtomicBool,
    thread: OnceLock<Thread>,
}

static HELPERS: [Helper; MAX_THREADS] = [const { Helper::new() }; MAX_THREADS];

impl Helper {
    const fn new() -> Helper {
        Helper {
            sleeping: AtomicBool::new(false),
            thread: OnceLock::new(),
        }
    }

    /// Makes sure this helper exists and is not parked (the new epoch is already published).
    fn wake(&'static self) {
        let thread = self.thread.get_or_init(|| {
            thread::Builder::new()
                .name("netc-gemm".into())
                .spawn(move || self.serve())
                .unwrap_or_else(|e| panic!("cannot spawn a matrix product helper: {e}"))
                .thread()
                .clone()
        });
        // Pairs with `next_epoch`: it sets `sleeping`, then re-reads the state.
        if self.sleeping.load(Ordering::SeqCst) {
            thread.unpark();
        }
    }

    /// The helper thread's loop: wait for a new product, claim and run its parts.
    fn serve(&self) {
        let mut seen = state::epoch(STATE.load(Ordering::Acquire));
        loop {
            seen = self.next_epoch(seen);
            while let Some(part) = {
                // Read before claiming: a successful claim proves this is still the epoch's job.
                let job = JOB.load(Ordering::Acquire);
                claim(seen).map(|part| (part, job))
            } {
                let (part, job) = part;
                // SAFETY: we claimed a part of epoch `seen`, so its `run_parts` is still waiting
                // (in `Finish`) for us to count it done, and `JOB` (stored before the epoch was
                // published, replaced only after it finished) points at its `Job`.
                let job = unsafe { &*job.cast::<Job<'_>>() };
                if catch_unwind(AssertUnwindSafe(|| (job.run)(part))).is_err() {
                    job.panicked.store(true, Ordering::Relaxed);
                }
                job.done_by_helpers.fetch_add(1, Ordering::Release);
            }
        }
    }

    /// The first epoch after `seen` (spin for `SPIN`, then park).
    fn next_epoch(&self, seen: u64) -> u64 {
        let started = Instant::now();
        let mut spins = 0u32;
        loop {
            let epoch = state::epoch(STATE.load(Ordering::Acquire));
            if epoch != seen {
                return epoch;
            }
            spins = spins.wrapping_add(1);
            if spins < SPIN_BEFORE_YIELD {
                std::hint::spin_loop();
                continue;
            }
            if started.elapsed() < SPIN {
                // Polling by yielding: on a busy machine the caller (or another process) may
                // be waiting for this core.
                thread::yield_now();
                continue;
            }
            self.sleeping.store(true, Ordering::SeqCst);
            if state::epoch(STATE.load(Ordering::SeqCst)) == seen {
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
        for _ in 0..2000 {
            run_parts(4, &|part| {
                counts[part].fetch_add(1, Ordering::Relaxed);
            });
        }
        for count in &counts {
            assert_eq!(count.load(Ordering::Relaxed), 2000);
        }
    }

    /// Whether a helper gets a part depends on the scheduler (a loaded machine may not run it
    /// before the caller has claimed every part), so this retries until one does, for up to
    /// a minute: it fails only if helpers never take part at all.
    #[test]
    fn helpers_take_part() {
        let caller = thread::current().id();
        let elsewhere = AtomicU32::new(0);
        let started = Instant::now();
        while elsewhere.load(Ordering::Relaxed) == 0 && started.elapsed() < Duration::from_secs(60)
        {
            run_parts(2, &|_| {
                // Long enough for a woken helper to claim the second part.
                let begun = Instant::now();
                while begun.elapsed() < Duration::from_millis(2) {
                    std::hint::spin_loop();
                }
                if thread::current().id() != caller {
                    elsewhere.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        assert!(
            elsewhere.load(Ordering::Relaxed) > 0,
            "no helper ran a part in 60 s"
        );
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
