//! Fallible allocation for the loaders: a data set too large for memory is an error naming
//! the file, never an abort (`memory allocation of … bytes failed`).

use std::path::Path;

use crate::error::Error;

/// An empty vector with room for `len` values of `T`, or an error naming `path`.
pub fn vec_with_capacity<T>(len: usize, path: &Path) -> Result<Vec<T>, Error> {
    let mut values = Vec::new();
    values.try_reserve_exact(len).map_err(|_| {
        let bytes = (len as u128) * std::mem::size_of::<T>() as u128;
        Error::Memory(format!(
            "{}: cannot allocate {bytes} bytes for {len} values: the data does not fit in memory",
            path.display()
        ))
    })?;
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_impossible_allocation_is_an_error_not_an_abort() {
        let path = Path::new("huge.idx");
        let error = vec_with_capacity::<f32>(usize::MAX / 2, path).unwrap_err();
        assert!(matches!(error, Error::Memory(_)), "{error:?}");
        assert!(
            error.to_string().starts_with("huge.idx: cannot allocate"),
            "{error}"
        );
        let small = vec_with_capacity::<f32>(10, path).unwrap();
        assert!(small.capacity() >= 10 && small.is_empty());
    }
}
