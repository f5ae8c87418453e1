//! Reducing a matrix to some of its rows without a second buffer: how the validation split
//! keeps the training rows (peak memory stays near one copy of the training set).

use ndarray::Array2;

/// The rows `kept` (ascending) of a standard-layout matrix, compacted in its own buffer.
pub(crate) fn keep_matrix_rows<T: Copy>(matrix: Array2<T>, kept: &[usize]) -> Array2<T> {
    debug_assert!(matrix.is_standard_layout(), "rows are contiguous");
    let width = matrix.ncols();
    let (mut values, _) = matrix.into_raw_vec_and_offset();
    // Row `kept[j]` moves to row `j` ≤ `kept[j]`: copying in ascending order never
    // overwrites a row that is still to be moved.
    for (j, &i) in kept.iter().enumerate() {
        if i != j {
            values.copy_within(i * width..(i + 1) * width, j * width);
        }
    }
    values.truncate(kept.len() * width);
    // Gives the held-out rows' pages back (a large buffer shrinks in place, by remapping).
    values.shrink_to_fit();
    Array2::from_shape_vec((kept.len(), width), values)
        .expect("a buffer of kept rows × width has exactly that shape")
}
