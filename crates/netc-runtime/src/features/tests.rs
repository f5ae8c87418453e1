use ndarray::{Array2, array};

use super::*;

/// Every byte value once, in 2 rows of 128.
fn every_byte() -> Array2<u8> {
    Array2::from_shape_fn((2, 128), |(r, c)| (r * 128 + c) as u8)
}

/// What the loader computed before bytes were kept: each byte to f32, then the matrix
/// multiplied by `scale` in f32 (skipped for a scale of 1).
fn converted_then_scaled(bytes: &Array2<u8>, scale: f32) -> Array2<f32> {
    let mut values = bytes.mapv(f32::from);
    if scale != 1.0 {
        values *= scale;
    }
    values
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn bytes_read_bit_for_bit_as_the_converted_and_scaled_matrix() {
    for scale in [1.0, 1.0 / 255.0, 0.1, 3.7e-3, -2.5] {
        let mut features = Features::from_bytes(every_byte());
        if scale != 1.0 {
            features.scale_by(scale);
        }
        assert!(features.is_bytes());
        let expected = converted_then_scaled(&every_byte(), scale);
        let expected = expected.as_slice().unwrap();
        assert_eq!(bits(&features.to_vec()), bits(expected), "scale {scale}");
        let view = features.view();
        let mut row = vec![0.0; 128];
        view.copy_row(1, &mut row);
        assert_eq!(bits(&row), bits(&expected[128..]), "scale {scale}");
        let mut buffer = Vec::new();
        let chunk = view.chunk(0, 2, &mut buffer);
        assert_eq!(bits(chunk), bits(expected), "scale {scale}");
    }
}

#[test]
fn bytes_take_a_quarter_of_the_memory() {
    let bytes = Features::from_bytes(every_byte());
    let floats = Features::from(every_byte().mapv(f32::from));
    assert_eq!((bytes.stored_bytes(), floats.stored_bytes()), (256, 1024));
    assert_eq!(bytes, floats.to_floats());
    assert!(!floats.is_bytes() && floats.floats().is_some() && bytes.floats().is_none());
}

#[test]
fn bytes_scaled_twice_become_floats_scaled_twice() {
    let mut features = Features::from_bytes(every_byte());
    features.scale_by(0.1);
    features.scale_by(3.0);
    let mut expected = converted_then_scaled(&every_byte(), 0.1);
    expected *= 3.0;
    assert!(!features.is_bytes());
    assert_eq!(bits(&features.to_vec()), bits(expected.as_slice().unwrap()));
}

#[test]
fn the_first_non_finite_value_is_found_after_scaling() {
    let mut bytes = Features::from_bytes(array![[0, 1], [2, 255]]);
    assert_eq!(bytes.first_non_finite(), None);
    // 255 · 1e37 overflows f32, 2 · 1e37 does not.
    bytes.scale_by(1e37);
    assert_eq!(bytes.first_non_finite(), Some((3, f32::INFINITY)));
    let floats = Features::from(array![[0.0, 1.0], [f32::NAN, 2.0]]);
    let (at, value) = floats.first_non_finite().unwrap();
    assert_eq!((at, value.is_nan()), (2, true));
}

#[test]
fn selecting_and_compacting_rows_keeps_bytes_as_bytes() {
    let mut bytes = Features::from_bytes(array![[1, 2], [3, 4], [5, 6]]);
    bytes.scale_by(0.5);
    let picked = bytes.select(&[2, 0]);
    assert!(picked.is_bytes());
    assert_eq!(picked, array![[2.5, 3.0], [0.5, 1.0]]);
    let mut target = bytes.select(&[0, 0]);
    bytes.select_into(&[1, 2], &mut target);
    assert!(target.is_bytes());
    assert_eq!(target, array![[1.5, 2.0], [2.5, 3.0]]);
    let kept = bytes.keep_rows(&[0, 2]);
    assert!(kept.is_bytes());
    assert_eq!(kept, array![[0.5, 1.0], [2.5, 3.0]]);
}

#[test]
fn select_into_a_buffer_of_another_kind_or_shape_replaces_it() {
    let bytes = Features::from_bytes(array![[1, 2], [3, 4]]);
    let mut target = Features::from(Array2::<f32>::zeros((5, 2)));
    bytes.select_into(&[1], &mut target);
    assert!(target.is_bytes());
    assert_eq!(target, array![[3.0, 4.0]]);
}

#[test]
fn floats_of_any_layout_are_read_row_by_row() {
    // A column-major matrix: its rows are not contiguous until the constructor copies it.
    let column_major = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]].reversed_axes();
    let features = Features::from(column_major.clone());
    assert_eq!(features.to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    assert_eq!(features, column_major);
    // Rows of f32 storage are borrowed, not copied.
    let mut buffer = Vec::new();
    let chunk = features.view().chunk(1, 2, &mut buffer);
    assert_eq!(chunk, &[2.0, 5.0, 3.0, 6.0]);
    assert!(buffer.is_empty());
}

#[test]
fn every_row_is_visited_in_order() {
    let features = Features::from_bytes(array![[1, 2], [3, 4], [5, 6]]);
    let mut seen = Vec::new();
    features
        .view()
        .for_each_row(|row, values| seen.push((row, values.to_vec())));
    assert_eq!(
        seen,
        vec![
            (0, vec![1.0, 2.0]),
            (1, vec![3.0, 4.0]),
            (2, vec![5.0, 6.0])
        ]
    );
    assert_eq!((features.view().rows(), features.view().width()), (3, 2));
}
