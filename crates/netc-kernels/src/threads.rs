//! How many threads the matrix products may use, and the persistent helpers that run them.
//!
//! The default is one thread (the caller alone: no helper exists, results are exactly those of
//! a single-threaded build). [`set_threads`] or the `NETC_THREADS` environment variable raise
//! it. Helpers are spawned once, lazily, on the first product that asks for them; between
//! products each one spins briefly (products follow each other within microseconds inside a
//! training step), then parks. Handing over a part is two atomic stores, a fence and, if the
//! helper was parked, one unpark: the hot loop never allocates.
//!
//! The hand-off (the state word, claiming, `Finish`'s wait, the `Job` pointer, the
//! sleeping/unpark handshake) is one struct, `Pool`, built on a `sync` shim: under
//! `RUSTFLAGS="--cfg loom"` its atomics and threads are loom's, and `tests/loom_threads.rs`
//! model-checks it (every part runs once, no helper uses a `Job` after its caller returned, a
//! late helper gets nothing from a finished product, two callers at once, no lost wake-up).
//! Measured against `std::thread::scope` (a spawn per product: some 50 µs a hand-off) and
//! rayon-core's pool (as fast on a step, but a caller outside the pool blocks instead of
//! running its parts, and `scope` allocates per part), this stays.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[cfg(not(loom))]
use crate::subnormals::Mode;
use sync::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Thread, fence, spin_loop, thread};

/// What the hand-off protocol is built of: loom's model-checked atomics and threads under
/// `--cfg loom` (`tests/loom_threads.rs` explores the interleavings), std's otherwise.
mod sync {
    #[cfg(loom)]
    pub(super) use loom::{
        hint::spin_loop,
        sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, fence},
        thread::{self, Thread},
    };
    #[cfg(not(loom))]
    pub(super) use std::{
        hint::spin_loop,
        sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, fence},
        thread::{self, Thread},
    };
}

/// The most threads [`set_threads`] accepts (larger requests are clamped).
pub const MAX_THREADS: usize = netc_limits::THREADS.max as usize;

/// The environment variable read (once) when [`set_threads`] was not called.
pub const THREADS_VAR: &str = "NETC_THREADS";

/// How long an idle helper spins for the next part before it parks: longer than the
/// element-wise work between two products of a step, far shorter than a step.
#[cfg_attr(loom, allow(dead_code))]
const SPIN: Duration = Duration::from_micros(200);

/// Busy-wait iterations (some tens of nanoseconds each) before a waiting thread starts
/// yielding its core instead.
const SPIN_BEFORE_YIELD: u32 = 256;

/// 0: not yet chosen (read `NETC_THREADS` on first use).
static THREADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

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
///
/// Every part runs in the caller's [`Mode`] of subnormals, so a thread that flushes them gets
/// the same bits from any thread count (a helper starts in the default mode).
#[cfg(not(loom))]
pub(crate) fn run_parts(parts: usize, job: &(dyn Fn(usize) + Sync)) {
    static POOL: Pool<MAX_THREADS> = Pool::new();
    let mode = Mode::current();
    POOL.run_parts(parts, &|part| {
        // SAFETY: the caller's thread computes in `mode`; so does its product's every part.
        unsafe { mode.adopt() };
        job(part)
    });
}

/// Under `--cfg loom` the process-wide pool cannot exist (loom's atomics live inside one
/// model run): every part runs on the caller. The loom tests use their own [`Pool`]s.
#[cfg(loom)]
pub(crate) fn run_parts(parts: usize, job: &(dyn Fn(usize) + Sync)) {
    assert!(parts <= MAX_THREADS, "{parts} parts > {MAX_THREADS}");
    (0..parts).for_each(job);
}

/// What [`par_chunks`] runs on chunk `i`: its parts of the slices and its result slot.
pub type ChunkBody<'a, T, R, const K: usize> = dyn Fn(usize, [&mut [T]; K], &mut R) + Sync + 'a;

/// Runs `body(i, slices, &mut out[i])` for every chunk `i < out.len()`, the chunks spread over
/// up to [`threads`] threads. Chunk `i` is elements `i·chunk .. (i+1)·chunk` (the last one
/// shorter) of each of the `slices`, which all have one length. What a chunk computes cannot
/// depend on the thread that runs it, so a pass whose sums are kept per chunk (in `out`) and
/// added in chunk order gives the same bits for any thread count: the optimizer update of a
/// large tensor.
///
/// # Panics
/// If the slices differ in length, `chunk` is 0 while there are elements, or `out` has fewer
/// chunks than the elements need.
pub fn par_chunks<T: Send, R: Send, const K: usize>(
    chunk: usize,
    slices: [&mut [T]; K],
    out: &mut [R],
    body: &ChunkBody<'_, T, R, K>,
) {
    let len = slices.first().map_or(0, |s| s.len());
    assert!(
        slices.iter().all(|s| s.len() == len),
        "par_chunks: slices of one length"
    );
    let chunks = out.len();
    assert!(
        len == 0 || (chunk > 0 && chunk * chunks >= len),
        "par_chunks: {chunks} chunks of {chunk} do not cover {len} elements"
    );
    // Raw parts, shared with the helpers: each chunk's ranges are claimed by one part only.
    struct Shared<T, R, const K: usize> {
        slices: [*mut T; K],
        out: *mut R,
    }
    // SAFETY: the pointers are only turned into disjoint `&mut` (see below), of `Send` types.
    unsafe impl<T: Send, R: Send, const K: usize> Sync for Shared<T, R, K> {}
    let shared = Shared {
        slices: slices.map(|s| s.as_mut_ptr()),
        out: out.as_mut_ptr(),
    };
    // One reference to the whole struct (a closure would capture its raw fields one by one).
    let shared = &shared;
    let parts = threads().min(chunks).max(1);
    let run_chunk = |i: usize| {
        let start = (i * chunk).min(len);
        let end = ((i + 1) * chunk).min(len);
        // SAFETY: chunk `i` runs exactly once (below), and its ranges `start..end` of each
        // slice and element `i` of `out` overlap no other chunk's; the borrows of `slices`
        // and `out` outlive this call, which returns only after every chunk has run.
        let parts = shared
            .slices
            .map(|p| unsafe { std::slice::from_raw_parts_mut(p.add(start), end - start) });
        let out = unsafe { &mut *shared.out.add(i) };
        body(i, parts, out)
    };
    if parts == 1 {
        (0..chunks).for_each(run_chunk);
        return;
    }
    // Part `p` runs a contiguous run of chunks.
    run_parts(parts, &|part| {
        let from = part * chunks / parts;
        let to = (part + 1) * chunks / parts;
        (from..to).for_each(run_chunk)
    });
}

#[cfg(loom)]
pub use protocol::Pool;
#[cfg(not(loom))]
use protocol::Pool;

/// The hand-off protocol, in one struct so that the loom tests can run it on instances of
/// their own; the process has one, `run_parts`'s `POOL`.
mod protocol {
    use super::*;

    /// Up to `N - 1` helper threads (spawned lazily) and the state through which a caller
    /// hands them the parts of one product at a time.
    pub struct Pool<const N: usize> {
        /// `(epoch, parts, next unclaimed part)` in one word, so that claiming a part of a
        /// finished product (whose `Job` is gone) fails: the epoch has moved on or no part is
        /// left.
        state: AtomicU64,
        /// The current epoch's `Job` (type-erased; only dereferenced after claiming one of its
        /// parts).
        job: AtomicPtr<()>,
        /// Whether a caller has the helpers (see `Claim`).
        claimed: AtomicBool,
        /// Index 0 is unused (the caller is the first worker).
        helpers: [Helper; N],
        /// Set by `stop`: the loom models must end with every thread finished.
        #[cfg(loom)]
        stop: AtomicBool,
    }

    /// The product being split: on the caller's stack for the duration of `run_parts`.
    struct Job<'a> {
        run: &'a (dyn Fn(usize) + Sync),
        /// Parts finished by helpers (release: their writes to C are visible to the caller).
        done_by_helpers: AtomicUsize,
        panicked: AtomicBool,
        /// Under loom: written false by `Finish` once `run_parts` may return. A helper reads
        /// it at each use of the `Job`, so loom reports any use that does not happen before
        /// the caller's return (a data race on this cell) or comes after it (`false`).
        #[cfg(loom)]
        live: loom::cell::UnsafeCell<bool>,
    }

    impl Job<'_> {
        /// Asserts (under loom only) that the caller is still waiting for this `Job`.
        fn check_live(&self) {
            #[cfg(loom)]
            // SAFETY: loom's cell checks the access; a plain read of a bool.
            self.live
                .with(|live| assert!(unsafe { *live }, "a helper used a finished Job"));
        }
    }

    /// One helper thread.
    struct Helper {
        /// Set by the helper just before it parks.
        sleeping: AtomicBool,
        thread: OnceLock<Thread>,
    }

    #[cfg(not(loom))]
    impl<const N: usize> Pool<N> {
        pub(crate) const fn new() -> Self {
            Pool {
                state: AtomicU64::new(0),
                job: AtomicPtr::new(std::ptr::null_mut()),
                claimed: AtomicBool::new(false),
                helpers: [const { Helper::new() }; N],
            }
        }
    }

    #[cfg(not(loom))]
    impl Helper {
        const fn new() -> Helper {
            Helper {
                sleeping: AtomicBool::new(false),
                thread: OnceLock::new(),
            }
        }
    }

    #[cfg(loom)]
    impl<const N: usize> Pool<N> {
        /// A pool with no helper yet (each is spawned by the first product that needs it).
        pub fn new() -> Self {
            Pool {
                state: AtomicU64::new(0),
                job: AtomicPtr::new(std::ptr::null_mut()),
                claimed: AtomicBool::new(false),
                helpers: std::array::from_fn(|_| Helper {
                    sleeping: AtomicBool::new(false),
                    thread: OnceLock::new(),
                }),
                stop: AtomicBool::new(false),
            }
        }

        /// Makes every spawned helper return from its loop (through the same wake-up as a
        /// new product), so that a model ends with all its threads finished.
        pub fn stop(&'static self) {
            self.stop.store(true, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            for helper in &self.helpers[1..] {
                if let Some(thread) = helper.thread.get()
                    && helper.sleeping.load(Ordering::Relaxed)
                {
                    thread.unpark();
                }
            }
        }
    }

    #[cfg(loom)]
    impl<const N: usize> Default for Pool<N> {
        fn default() -> Self {
            Self::new()
        }
    }

    impl<const N: usize> Pool<N> {
        /// [`super::run_parts`] on this pool's helpers.
        ///
        /// # Panics
        /// If `parts > N`, or a part panicked (on whichever thread it ran).
        pub fn run_parts(&'static self, parts: usize, job: &(dyn Fn(usize) + Sync)) {
            assert!(parts <= N, "{parts} parts > {N}");
            let Some(_claim) = (parts > 1).then(|| Claim::take(&self.claimed)).flatten() else {
                (0..parts).for_each(job);
                return;
            };
            let posted = Job {
                run: job,
                done_by_helpers: AtomicUsize::new(0),
                panicked: AtomicBool::new(false),
                #[cfg(loom)]
                live: loom::cell::UnsafeCell::new(true),
            };
            let epoch = state::epoch(self.state.load(Ordering::Relaxed)).wrapping_add(1);
            // Published before the state that lets helpers claim parts of it (release/acquire).
            self.job.store(
                std::ptr::from_ref(&posted).cast_mut().cast(),
                Ordering::Release,
            );
            self.state
                .store(state::pack(epoch, parts, 0), Ordering::Release);
            // The wake-up handshake (with the fence in `next_epoch`): either a helper sees this
            // epoch before it parks, or `wake` sees it sleeping and unparks it. Fences, not
            // SeqCst accesses: loom checks only the former.
            fence(Ordering::SeqCst);
            for index in 1..parts {
                self.wake(index, epoch);
            }
            let mut ours = Finish {
                pool: self,
                job: &posted,
                epoch,
                parts,
                claimed_here: 0,
            };
            while let Some(part) = self.claim(epoch) {
                ours.claimed_here += 1;
                job(part);
            }
            drop(ours);
            if posted.panicked.load(Ordering::Relaxed) {
                panic!("a matrix product part panicked on a helper thread");
            }
        }

        /// Claims the next part of `epoch`'s product, if one is left.
        fn claim(&self, epoch: u64) -> Option<usize> {
            let mut current = self.state.load(Ordering::Acquire);
            loop {
                let (parts, next) = state::parts(current);
                if state::epoch(current) != epoch || next >= parts {
                    return None;
                }
                match self.state.compare_exchange_weak(
                    current,
                    current + 1,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return Some(next),
                    Err(now) => current = now,
                }
            }
        }

        /// Makes sure helper `index` exists and is not parked (`epoch` is already published).
        fn wake(&'static self, index: usize, epoch: u64) {
            let helper = &self.helpers[index];
            let thread = helper.thread.get_or_init(|| {
                // A new helper starts as if it had seen the epoch before: it takes part in the
                // product that spawned it, however late it starts.
                let seen = epoch.wrapping_sub(1);
                thread::Builder::new()
                    .name("netc-gemm".into())
                    .spawn(move || self.serve(index, seen))
                    .unwrap_or_else(|e| panic!("cannot spawn a matrix product helper: {e}"))
                    .thread()
                    .clone()
            });
            // After `run_parts`'s fence; pairs with `next_epoch`'s: it sets `sleeping`, then
            // re-reads the state.
            if helper.sleeping.load(Ordering::Relaxed) {
                thread.unpark();
            }
        }

        /// The helper thread's loop: wait for a product after `seen`, claim and run its parts.
        fn serve(&self, index: usize, mut seen: u64) {
            while let Some(epoch) = self.next_epoch(index, seen) {
                seen = epoch;
                while let Some(part) = {
                    // Read before claiming: a successful claim proves this is still the
                    // epoch's job.
                    let job = self.job.load(Ordering::Acquire);
                    self.claim(seen).map(|part| (part, job))
                } {
                    let (part, job) = part;
                    // SAFETY: we claimed a part of epoch `seen`, so its `run_parts` is still
                    // waiting (in `Finish`) for us to count it done, and `job` (stored before
                    // the epoch was published, replaced only after it finished) points at its
                    // `Job`.
                    let job = unsafe { &*job.cast::<Job<'_>>() };
                    job.check_live();
                    if catch_unwind(AssertUnwindSafe(|| (job.run)(part))).is_err() {
                        job.panicked.store(true, Ordering::Relaxed);
                    }
                    job.check_live();
                    job.done_by_helpers.fetch_add(1, Ordering::Release);
                }
            }
        }

        /// The first epoch after `seen` (poll for a while, then park); `None` once stopped
        /// (loom only).
        fn next_epoch(&self, index: usize, seen: u64) -> Option<u64> {
            let helper = &self.helpers[index];
            let mut idle = Idle::new();
            loop {
                let epoch = state::epoch(self.state.load(Ordering::Acquire));
                if epoch != seen {
                    return Some(epoch);
                }
                if self.stopped() {
                    return None;
                }
                if idle.keep_polling() {
                    continue;
                }
                helper.sleeping.store(true, Ordering::Relaxed);
                // Pairs with `run_parts`'s fence (see there).
                fence(Ordering::SeqCst);
                if state::epoch(self.state.load(Ordering::Acquire)) == seen && !self.stopped() {
                    thread::park();
                }
                // A stale `true` seen by a caller only costs a spurious unpark.
                helper.sleeping.store(false, Ordering::Relaxed);
            }
        }

        #[cfg(not(loom))]
        fn stopped(&self) -> bool {
            false
        }

        #[cfg(loom)]
        fn stopped(&self) -> bool {
            self.stop.load(Ordering::Relaxed)
        }
    }

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

    /// On drop (also while unwinding from a part that panicked): closes the product to further
    /// claims and waits for the parts helpers claimed, so the `Job` outlives every use.
    struct Finish<'a, const N: usize> {
        pool: &'a Pool<N>,
        job: &'a Job<'a>,
        epoch: u64,
        parts: usize,
        claimed_here: usize,
    }

    impl<const N: usize> Drop for Finish<'_, N> {
        fn drop(&mut self) {
            let closed = state::pack(self.epoch, self.parts, self.parts);
            let before = self.pool.state.swap(closed, Ordering::AcqRel);
            let claimed = state::parts(before).1;
            let by_helpers = claimed - self.claimed_here;
            let mut spins = 0u32;
            while self.job.done_by_helpers.load(Ordering::Acquire) != by_helpers {
                if spins < SPIN_BEFORE_YIELD {
                    spin_loop();
                    spins += 1;
                } else {
                    // The helper lost its core mid-part (a busy machine): let it have ours.
                    thread::yield_now();
                }
            }
            #[cfg(loom)]
            // SAFETY: loom's cell checks the access (it must not race with a helper's).
            self.job.live.with_mut(|live| unsafe { *live = false });
        }
    }

    /// Exclusive use of the helpers for one product.
    struct Claim<'a>(&'a AtomicBool);

    impl<'a> Claim<'a> {
        fn take(claimed: &'a AtomicBool) -> Option<Claim<'a>> {
            claimed
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
                // Lazily: a `Claim` made and dropped on failure would release someone else's.
                .then(|| Claim(claimed))
        }
    }

    impl Drop for Claim<'_> {
        fn drop(&mut self) {
            self.0.store(false, Ordering::Release);
        }
    }

    /// How an idle helper waits before it parks: spins, then yields until `SPIN` has passed.
    /// Under loom it parks at once: the park/unpark handshake is what there is to check, and
    /// loom has no clock.
    struct Idle {
        #[cfg(not(loom))]
        started: std::time::Instant,
        #[cfg(not(loom))]
        spins: u32,
    }

    impl Idle {
        fn new() -> Idle {
            Idle {
                #[cfg(not(loom))]
                started: std::time::Instant::now(),
                #[cfg(not(loom))]
                spins: 0,
            }
        }

        /// Whether to poll the state again rather than park.
        #[cfg(not(loom))]
        fn keep_polling(&mut self) -> bool {
            self.spins = self.spins.wrapping_add(1);
            if self.spins < SPIN_BEFORE_YIELD {
                spin_loop();
                return true;
            }
            if self.started.elapsed() < SPIN {
                // Polling by yielding: on a busy machine the caller (or another process) may
                // be waiting for this core.
                thread::yield_now();
                return true;
            }
            false
        }

        #[cfg(loom)]
        fn keep_polling(&mut self) -> bool {
            false
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicU32;

    /// Tests that change the process-wide thread count run one at a time.
    static THREAD_COUNT: Mutex<()> = Mutex::new(());
    use std::time::Instant;

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

    /// A helper inherits the mode of the thread that spawned it (Linux copies the float
    /// environment into a new thread), which need not be the mode of a later caller: a part it
    /// runs for a caller that flushes subnormals must flush them too, or the bits would depend
    /// on the thread count.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn a_helper_computes_in_the_callers_subnormal_mode() {
        // The helper exists, spawned by a thread in the default mode (this test's thread is
        // fresh from the harness).
        helpers_take_part();
        thread::spawn(|| {
            // SAFETY: this test thread's float results may be flushed.
            unsafe { crate::subnormals::flush_on_this_thread() };
            let caller = thread::current().id();
            let (elsewhere, kept) = (AtomicU32::new(0), AtomicU32::new(0));
            let started = Instant::now();
            while elsewhere.load(Ordering::Relaxed) == 0
                && started.elapsed() < Duration::from_secs(60)
            {
                run_parts(2, &|_| {
                    let begun = Instant::now();
                    while begun.elapsed() < Duration::from_millis(2) {
                        std::hint::spin_loop();
                    }
                    let tiny = std::hint::black_box(f32::MIN_POSITIVE) * std::hint::black_box(0.5);
                    if thread::current().id() != caller {
                        elsewhere.fetch_add(1, Ordering::Relaxed);
                        kept.fetch_add(u32::from(tiny != 0.0), Ordering::Relaxed);
                    }
                });
            }
            assert!(
                elsewhere.load(Ordering::Relaxed) > 0,
                "no helper ran a part in 60 s"
            );
            assert_eq!(kept.load(Ordering::Relaxed), 0, "a helper kept a subnormal");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn par_chunks_covers_every_element_once_with_the_same_sums_for_any_thread_count() {
        let sums_with = |threads: usize| {
            let (mut a, mut b): (Vec<f32>, Vec<f32>) =
                (vec![1.0; 1003], (0..1003).map(|i| i as f32).collect());
            let mut out = [0.0f32; 5];
            let _serial = THREAD_COUNT.lock().unwrap();
            let before = super::threads();
            set_threads(threads);
            par_chunks(201, [&mut a, &mut b], &mut out, &|i, [a, b], sum| {
                assert_eq!(a.len(), if i == 4 { 199 } else { 201 });
                for (x, y) in a.iter_mut().zip(b.iter()) {
                    *x += 1.0;
                    *sum += *y * 0.1;
                }
            });
            set_threads(before);
            assert!(a.iter().all(|&x| x == 2.0), "each element once");
            out
        };
        let one = sums_with(1);
        assert_eq!(one.map(f32::to_bits), sums_with(2).map(f32::to_bits));
        assert_eq!(one.map(f32::to_bits), sums_with(3).map(f32::to_bits));
        assert!(one[4] > one[0]);
    }

    #[test]
    #[should_panic(expected = "do not cover")]
    fn par_chunks_refuses_chunks_that_miss_elements() {
        par_chunks(2, [&mut [0u8; 5][..]], &mut [(); 2], &|_, _, _| {});
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
