//! Splitting a product by rows of C over the threads [`crate::threads`] allows.
//!
//! Each part computes whole rows of C exactly as one thread would (the depth is never split,
//! so every element sums the same terms in the same order): results are bit-identical for any
//! thread count.

use std::ops::Range;

use crate::threads;

/// Products with fewer multiply-adds run on the calling thread: handing a part to a helper
/// costs about a microsecond, which is what such a product takes in all.
pub(super) const PARALLEL_MIN_MACS: usize = 1 << 17;

/// Parts start on multiples of this many rows (whole 8×8 transpose blocks in `nt`).
const ROW_ALIGN: usize = 8;

/// Runs `part(rows, c_rows)` for row ranges covering `0..m`, on up to [`threads::threads`]
/// threads at once; `c_rows` is C's slice for `rows` (row stride `n`).
///
/// C must hold m·n elements (checked by the caller).
pub(super) fn by_rows<T: Send>(
    m: usize,
    n: usize,
    k: usize,
    c: &mut [T],
    part: &(dyn Fn(Range<usize>, &mut [T]) + Sync),
) {
    let parts = parts_for(m, n, k, threads::threads());
    if parts == 1 {
        part(0..m, c);
        return;
    }
    let c = SharedRows {
        at: c.as_mut_ptr(),
        len: c.len(),
    };
    threads::run_parts(parts, &|p| {
        let rows = rows_of(m, parts, p);
        // SAFETY: the parts' row ranges are disjoint, so are their slices of C.
        let c_rows = unsafe { c.rows(rows.clone(), n) };
        part(rows, c_rows);
    });
}

/// How many parts: one for small products, else one per thread with at least `ROW_ALIGN`
/// rows each.
fn parts_for(m: usize, n: usize, k: usize, threads: usize) -> usize {
    let macs = m.saturating_mul(n).saturating_mul(k);
    if threads <= 1 || macs < PARALLEL_MIN_MACS {
        return 1;
    }
    threads.min(m / ROW_ALIGN).max(1)
}

/// Rows of part `p` of `parts`: near-equal ranges, inner bounds on multiples of `ROW_ALIGN`.
fn rows_of(m: usize, parts: usize, p: usize) -> Range<usize> {
    let bound = |q: usize| {
        if q == parts {
            m
        } else {
            ((m * q / parts + ROW_ALIGN / 2) / ROW_ALIGN * ROW_ALIGN).min(m)
        }
    };
    bound(p)..bound(p + 1)
}

/// C's elements, shared by the parts (each takes its own rows).
struct SharedRows<T> {
    at: *mut T,
    len: usize,
}

// SAFETY: parts only ever form disjoint slices (see `rows`), each on one thread.
unsafe impl<T: Send> Sync for SharedRows<T> {}

impl<T> SharedRows<T> {
    /// C's rows `rows` (row stride `n`).
    ///
    /// # Safety
    /// No other live slice overlaps these rows.
    #[allow(clippy::mut_from_ref)]
    unsafe fn rows(&self, rows: Range<usize>, n: usize) -> &mut [T] {
        let (start, end) = (rows.start * n, rows.end * n);
        assert!(start <= end && end <= self.len, "rows {rows:?} outside C");
        // SAFETY: in bounds (asserted); exclusive by the caller's promise.
        unsafe { std::slice::from_raw_parts_mut(self.at.add(start), end - start) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_products_and_one_thread_stay_whole() {
        assert_eq!(parts_for(64, 10, 128, 2), 1);
        assert_eq!(parts_for(64, 256, 784, 1), 1);
        assert_eq!(parts_for(64, 256, 784, 2), 2);
        // Too few rows to give each thread ROW_ALIGN of them.
        assert_eq!(parts_for(8, 100_000, 100, 2), 1);
        assert_eq!(parts_for(24, 100_000, 100, 4), 3);
    }

    #[test]
    fn parts_cover_the_rows_in_order() {
        for m in [8, 9, 16, 17, 64, 100, 256, 1000] {
            for parts in 1..=(m / ROW_ALIGN).min(7) {
                let ranges: Vec<_> = (0..parts).map(|p| rows_of(m, parts, p)).collect();
                assert_eq!(ranges[0].start, 0);
                assert_eq!(ranges[parts - 1].end, m);
                for pair in ranges.windows(2) {
                    assert_eq!(pair[0].end, pair[1].start);
                    assert_eq!(pair[0].end % ROW_ALIGN, 0, "m={m} parts={parts}");
                }
                assert!(ranges.iter().all(|r| !r.is_empty()), "m={m} {ranges:?}");
            }
        }
        assert_eq!(rows_of(64, 2, 0), 0..32);
        assert_eq!(rows_of(64, 2, 1), 32..64);
    }
}
