//! Per-thread packing space for the broadcast kernels: grown to the largest request, then
//! reused, so a training loop's steady state allocates nothing. Each element type has its own
//! buffer (a model computes in one of them, so a process rarely holds both).

use std::cell::RefCell;

/// Bytes per cache line: packed panels start on a line boundary.
const LINE_BYTES: usize = 64;

thread_local! {
    static F32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static F64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// An element type with a per-thread scratch buffer.
pub(super) trait Scratch: Copy + Default + 'static {
    /// Runs `f` on this thread's buffer of `Self`.
    fn with_buffer<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R;
}

impl Scratch for f32 {
    fn with_buffer<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R {
        // Kernels never call back into user code, so the borrow cannot be re-entered.
        F32.with(|cell| f(&mut cell.borrow_mut()))
    }
}

impl Scratch for f64 {
    fn with_buffer<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R {
        // As for f32.
        F64.with(|cell| f(&mut cell.borrow_mut()))
    }
}

/// Runs `f` on `len` elements of this thread's scratch space, 64-byte aligned. The contents
/// are whatever the previous call left.
pub(super) fn with_scratch<T: Scratch, R>(len: usize, f: impl FnOnce(&mut [T]) -> R) -> R {
    let per_line = LINE_BYTES / size_of::<T>();
    T::with_buffer(|buf| {
        if buf.len() < len + per_line {
            buf.resize(len + per_line, T::default());
        }
        let start = buf.as_ptr().align_offset(LINE_BYTES).min(per_line - 1);
        f(&mut buf[start..start + len])
    })
}
