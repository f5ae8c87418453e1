//! Entry checks shared by every variant: a too-short slice is a programming error.

/// Panics unless A holds m·k, B holds k·n and C holds m·n elements (the orientation does not
/// change the element counts).
pub(super) fn lengths<T>(m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &[T]) {
    let need = |rows: usize, cols: usize, what: &str| {
        rows.checked_mul(cols)
            .unwrap_or_else(|| panic!("gemm: {what} size {rows}×{cols} overflows usize"))
    };
    let (a_len, b_len, c_len) = (need(m, k, "A"), need(k, n, "B"), need(m, n, "C"));
    assert!(
        a.len() >= a_len,
        "gemm: A has {} elements, needs {a_len} ({m}×{k})",
        a.len()
    );
    assert!(
        b.len() >= b_len,
        "gemm: B has {} elements, needs {b_len} ({k}×{n})",
        b.len()
    );
    assert!(
        c.len() >= c_len,
        "gemm: C has {} elements, needs {c_len} ({m}×{n})",
        c.len()
    );
}
