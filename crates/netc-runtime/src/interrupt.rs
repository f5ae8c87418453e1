//! SIGINT / SIGTERM as a request, not a death: the handler only sets a flag (signal-hook, the
//! well-kept crate for async-signal-safe flag handlers), and the training loop checks it after
//! every step, saves the run state and stops cleanly.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

/// The signal that asked the run to stop (0: none).
static SIGNAL: LazyLock<Arc<AtomicUsize>> = LazyLock::new(|| Arc::new(AtomicUsize::new(0)));

/// Installs the handlers (once per process; later calls do nothing). A second signal of the
/// same kind, while the first one's save is under way, ends the process at once.
pub fn install() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let seen = Arc::new(AtomicBool::new(false));
        // Registered first, so it sees `seen` before the second handler sets it.
        let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&seen));
        let _ = signal_hook::flag::register(signal, seen);
        let _ = signal_hook::flag::register_usize(signal, Arc::clone(&SIGNAL), signal as usize);
    }
}

/// The signal number, if one asked the run to stop.
pub fn requested() -> Option<i32> {
    match SIGNAL.load(Ordering::Relaxed) {
        0 => None,
        signal => Some(signal as i32),
    }
}

/// Marks a request as if `signal` had arrived (0 clears it): for tests.
pub fn set_requested(signal: i32) {
    SIGNAL.store(signal.max(0) as usize, Ordering::Relaxed);
}
