//! The IDX format (MNIST's): a 4-byte magic `0 0 type ndims`, `ndims` big-endian u32 sizes, then
//! the values big-endian. Files may be gzipped; that is detected by the gzip magic bytes
//! `1f 8b`, never by the file name.

use std::io::Read;
use std::path::Path;

use ndarray::Array2;

use crate::data::Dataset;
use crate::data::alloc::vec_with_capacity;
use crate::error::Error;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Loads images (n × d1 × d2 …, flattened to n × features) and their labels (n).
/// Pixels are converted to f32 as they are (0..=255 for MNIST); scaling is the caller's.
pub fn load_idx(images: &Path, labels: &Path) -> Result<Dataset, Error> {
    let x = load_idx_features(images)?;
    let label_array = read_idx(labels)?;
    if label_array.dims.len() != 1 {
        return Err(Error::data(
            labels,
            format!(
                "a label file has 1 dimension, this one has {} ({:?}): is it an image file?",
                label_array.dims.len(),
                label_array.dims
            ),
        ));
    }
    if label_array.dims[0] != x.nrows() {
        return Err(Error::data(
            labels,
            format!(
                "{} labels, but {} has {} images",
                label_array.dims[0],
                images.display(),
                x.nrows()
            ),
        ));
    }
    let mut class_labels = vec_with_capacity(label_array.values.len(), labels)?;
    for (i, &value) in label_array.values.iter().enumerate() {
        if value < 0.0 || value.fract() != 0.0 || value > u32::MAX as f32 {
            return Err(Error::data(
                labels,
                format!("label {i} is {value}: labels must be class indices (0, 1, 2, …)"),
            ));
        }
        class_labels.push(value as u32);
    }
    Dataset::new(x, class_labels)
}

/// Loads an IDX file of samples only (for `predict`): n × features, the first dimension is n.
pub fn load_idx_features(path: &Path) -> Result<Array2<f32>, Error> {
    let array = read_idx(path)?;
    let rows = array.dims[0];
    let features: usize = array.dims[1..].iter().product();
    Array2::from_shape_vec((rows, features), array.values).map_err(|e| {
        Error::data(
            path,
            format!("cannot shape values as {rows} × {features}: {e}"),
        )
    })
}

/// A decoded IDX file: sizes and values as f32 (exact for u8/i8/i16 and f32 data).
struct IdxArray {
    dims: Vec<usize>,
    values: Vec<f32>,
}

fn read_idx(path: &Path) -> Result<IdxArray, Error> {
    let raw = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bytes = if raw.starts_with(&GZIP_MAGIC) {
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut decoded)
            .map_err(|e| Error::data(path, format!("corrupt gzip data: {e}")))?;
        decoded
    } else {
        raw
    };
    parse_idx(&bytes).map_err(|message| Error::data(path, message))
}

fn parse_idx(bytes: &[u8]) -> Result<IdxArray, String> {
    let header = bytes
        .get(..4)
        .ok_or("too short for an IDX file (no 4-byte magic number)")?;
    if header[0] != 0 || header[1] != 0 {
        return Err(format!(
            "not an IDX file: magic number {:02x} {:02x} {:02x} {:02x}, expected 00 00 <type> <dimensions>",
            header[0], header[1], header[2], header[3]
        ));
    }
    let element = ElementType::from_code(header[2])?;
    let ndims = usize::from(header[3]);
    if ndims == 0 {
        return Err("IDX file with 0 dimensions".to_string());
    }
    let dims_end = 4 + 4 * ndims;
    let dim_bytes = bytes
        .get(4..dims_end)
        .ok_or_else(|| format!("truncated: the header promises {ndims} dimension sizes"))?;
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(element.size(), |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("dimensions {dims:?} are too large"))?;
    let payload = &bytes[dims_end..];
    if payload.len() < expected {
        return Err(format!(
            "truncated: dimensions {dims:?} need {expected} bytes of data, the file has {}",
            payload.len()
        ));
    }
    if payload.len() > expected {
        return Err(format!(
            "{} unexpected bytes after the {expected} bytes of data for dimensions {dims:?}",
            payload.len() - expected
        ));
    }
    let count = expected / element.size();
    let mut values = Vec::new();
    values.try_reserve_exact(count).map_err(|_| {
        format!(
            "cannot allocate {count} values (dimensions {dims:?}): the data does not fit in memory"
        )
    })?;
    values.extend(
        payload
            .chunks_exact(element.size())
            .map(|c| element.decode(c)),
    );
    Ok(IdxArray { dims, values })
}

#[derive(Clone, Copy)]
enum ElementType {
    U8,
    I8,
    I16,
    I32,
    F32,
    F64,
}

impl ElementType {
    fn from_code(code: u8) -> Result<ElementType, String> {
        Ok(match code {
            0x08 => ElementType::U8,
            0x09 => ElementType::I8,
            0x0B => ElementType::I16,
            0x0C => ElementType::I32,
            0x0D => ElementType::F32,
            0x0E => ElementType::F64,
            other => return Err(format!("unknown IDX element type 0x{other:02x}")),
        })
    }

    fn size(self) -> usize {
        match self {
            ElementType::U8 | ElementType::I8 => 1,
            ElementType::I16 => 2,
            ElementType::I32 | ElementType::F32 => 4,
            ElementType::F64 => 8,
        }
    }

    fn decode(self, b: &[u8]) -> f32 {
        match self {
            ElementType::U8 => f32::from(b[0]),
            ElementType::I8 => f32::from(b[0] as i8),
            ElementType::I16 => f32::from(i16::from_be_bytes([b[0], b[1]])),
            ElementType::I32 => i32::from_be_bytes([b[0], b[1], b[2], b[3]]) as f32,
            ElementType::F32 => f32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            ElementType::F64 => {
                f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A u8 IDX file: magic, sizes, values.
    fn idx_bytes(dims: &[u32], values: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
        for d in dims {
            bytes.extend(d.to_be_bytes());
        }
        bytes.extend(values);
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("netc-runtime-idx-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn loads_raw_and_gzipped_files_alike() {
        let dir = temp_dir("raw-gz");
        let images = idx_bytes(
            &[3, 2, 2],
            &[0, 1, 2, 3, 10, 11, 12, 13, 255, 254, 253, 252],
        );
        let labels = idx_bytes(&[3], &[2, 0, 1]);
        let raw = load_idx(&write(&dir, "i", &images), &write(&dir, "l", &labels)).unwrap();
        // Gzipped, with names that do not say so: detection is by magic bytes.
        let gz = load_idx(
            &write(&dir, "i2", &gzip(&images)),
            &write(&dir, "l2", &gzip(&labels)),
        )
        .unwrap();
        assert_eq!(raw, gz);
        assert_eq!((raw.len(), raw.features()), (3, 4));
        assert_eq!(raw.labels, vec![2, 0, 1]);
        assert_eq!(raw.x.row(2).to_vec(), vec![255.0, 254.0, 253.0, 252.0]);
    }

    #[test]
    fn wrong_magic_truncation_and_count_mismatch_are_data_errors() {
        let dir = temp_dir("errors");
        let labels = write(&dir, "labels", &idx_bytes(&[2], &[0, 1]));
        let cases = [
            (b"PK\x03\x04rest".to_vec(), "not an IDX file"),
            (idx_bytes(&[2, 2], &[1, 2, 3]), "truncated"),
            (idx_bytes(&[3, 1], &[1, 2, 3]), "2 labels, but"),
            (vec![0, 0], "too short"),
            (
                gzip(&idx_bytes(&[2, 2], &[1, 2, 3]))[..20].to_vec(),
                "corrupt gzip",
            ),
        ];
        for (bytes, expected) in cases {
            let images = write(&dir, "images", &bytes);
            match load_idx(&images, &labels) {
                Err(Error::Data { message, .. }) => {
                    assert!(message.contains(expected), "{message:?} lacks {expected:?}")
                }
                other => panic!("expected a data error containing {expected:?}, got {other:?}"),
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut rng = crate::rng::Rng::new(0, 0);
        for case in 0..2000 {
            let len = rng.below(40);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
            // Half the cases get a plausible header, so the size checks are reached.
            if case % 2 == 0 && len >= 4 {
                bytes[..4].copy_from_slice(&[
                    0,
                    0,
                    [0x08, 0x0B, 0x0D, 0x0E][case / 2 % 4],
                    1 + (case % 3) as u8,
                ]);
            }
            let _ = parse_idx(&bytes);
        }
        let huge = idx_bytes(&[u32::MAX, u32::MAX, u32::MAX], &[]);
        assert!(parse_idx(&huge).err().unwrap().contains("too large"));
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let missing = Path::new("no/such/images.idx");
        let error = load_idx(missing, missing).unwrap_err();
        assert!(matches!(error, Error::Io { .. }));
        assert!(
            error.to_string().starts_with("no/such/images.idx: "),
            "{error}"
        );
    }

    #[test]
    fn loads_the_real_mnist_test_set() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist"));
        let data = load_idx(
            &dir.join("t10k-images-idx3-ubyte.gz"),
            &dir.join("t10k-labels-idx1-ubyte.gz"),
        )
        .unwrap();
        assert_eq!((data.len(), data.features()), (10_000, 784));
        assert!(data.labels.iter().all(|&l| l < 10));
        assert!((0..10).all(|class| data.labels.contains(&class)));
        let max = data.x.iter().copied().fold(f32::MIN, f32::max);
        let min = data.x.iter().copied().fold(f32::MAX, f32::min);
        assert_eq!((min, max), (0.0, 255.0));
    }
}
