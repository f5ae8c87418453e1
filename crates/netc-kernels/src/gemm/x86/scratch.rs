//! Per-thread packing space for the broadcast kernels: grown to the largest request, then
//! reused, so a training loop's steady state allocates nothing.

use std::cell::RefCell;

/// Floats per 64-byte cache line: packed panels start on a line boundary.
const LINE_FLOATS: usize = 16;

thread_local! {
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` on `len` floats of this thread's scratch space, 64-byte aligned. The contents are
/// whatever the previous call left.
pub(super) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with(|cell| {
        // Kernels never call back into user code, so the borrow cannot be re-entered.
        let mut buf = cell.borrow_mut();
        if buf.len() < len + LINE_FLOATS {
            buf.resize(len + LINE_FLOATS, 0.0);
        }
        let start = buf
            .as_ptr()
            .align_offset(LINE_FLOATS * 4)
            .min(LINE_FLOATS - 1);
        f(&mut buf[start..start + len])
    })
}
