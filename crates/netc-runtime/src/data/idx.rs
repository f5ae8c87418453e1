//! The IDX format (MNIST's): a 4-byte magic `0 0 type ndims`, `ndims` big-endian u32 sizes, then
//! the values big-endian. Files may be gzipped; that is detected by the gzip magic bytes
//! `1f 8b`, never by the file name.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use ndarray::Array2;

use crate::data::alloc::vec_with_capacity;
use crate::data::dataset::class_index;
use crate::data::{Dataset, Features, Origin};
use crate::error::Error;
use crate::real::Real;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Loads images (n × d1 × d2 …, flattened to n × features) and their labels (n).
/// A u8 file's pixels stay bytes (0..=255 for MNIST, a quarter of the memory of f32); other
/// element types become values of the model's precision `V` (an f64 file's values are exact
/// in an f64 model). Scaling is the caller's ([`Features::scale_by`]).
pub fn load_idx<V: Real>(images: &Path, labels: &Path) -> Result<Dataset<V>, Error> {
    let x = read_features::<V>(images)?;
    let label_array = read_idx::<f64>(labels)?;
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
    let class_labels = match &label_array.values {
        IdxValues::Bytes(bytes) => {
            let mut class_labels = vec_with_capacity(bytes.len(), labels)?;
            class_labels.extend(bytes.iter().map(|&b| u32::from(b)));
            class_labels
        }
        IdxValues::Floats(values) => class_labels(values, labels)?,
    };
    let rows = class_labels.len();
    Ok(Dataset::new(x, class_labels)?.with_origin(Origin::idx(images, labels, rows)))
}

/// Labels stored as numbers of another type: each must be a class index.
fn class_labels(values: &[f64], labels: &Path) -> Result<Vec<u32>, Error> {
    let mut class_labels = vec_with_capacity(values.len(), labels)?;
    for (i, &value) in values.iter().enumerate() {
        let label = class_index(value).ok_or_else(|| {
            Error::data(
                labels,
                format!("record {i}: label {value} is not a class index (0, 1, 2, …)"),
            )
        })?;
        class_labels.push(label);
    }
    Ok(class_labels)
}

/// Loads an IDX file of samples only (for `predict`): n × features, the first dimension is n.
pub fn load_idx_features<V: Real>(path: &Path) -> Result<Array2<V>, Error> {
    Ok(read_features::<V>(path)?.to_floats())
}

/// An IDX file's samples as [`Features`]: bytes for a u8 file, else values.
fn read_features<V: Real>(path: &Path) -> Result<Features<V>, Error> {
    let array = read_idx::<V>(path)?;
    let rows = array.dims[0];
    let features: usize = array.dims[1..].iter().product();
    let shape_error = |e: ndarray::ShapeError| {
        Error::data(
            path,
            format!("cannot shape values as {rows} × {features}: {e}"),
        )
    };
    Ok(match array.values {
        IdxValues::Bytes(bytes) => Features::from_bytes(
            Array2::from_shape_vec((rows, features), bytes).map_err(shape_error)?,
        ),
        IdxValues::Floats(values) => {
            Features::from(Array2::from_shape_vec((rows, features), values).map_err(shape_error)?)
        }
    })
}

/// A decoded IDX file: sizes and values.
struct IdxArray<V> {
    dims: Vec<usize>,
    values: IdxValues<V>,
}

/// The values of a u8 file as read; of any other type as `V` (exact for i8/i16 and f32 data,
/// and in f64 for every type).
enum IdxValues<V> {
    Bytes(Vec<u8>),
    Floats(Vec<V>),
}

/// Reads an IDX file, raw or gzipped (any number of gzip members, as `cat a.gz b.gz` makes).
/// Never reads more than the header promises: a raw file's size is checked against the
/// header before its data is read, and decompression stops one byte past the promised size,
/// so a gzip bomb or trailing data is an error, not an exhausted memory.
fn read_idx<V: Real>(path: &Path) -> Result<IdxArray<V>, Error> {
    let (file, size) = crate::input_file::open(path)?;
    let mut reader = BufReader::new(file);
    let starts_gzipped = reader
        .fill_buf()
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .starts_with(&GZIP_MAGIC);
    let result = if starts_gzipped {
        decode_idx(flate2::bufread::MultiGzDecoder::new(reader), None, |e| {
            format!("corrupt gzip data: {e}")
        })
    } else {
        decode_idx(reader, Some(size), |e| format!("cannot read the file: {e}"))
    };
    result.map_err(|message| Error::data(path, message))
}

/// Parses an IDX file held in memory (raw).
#[cfg(test)]
fn parse_idx(bytes: &[u8]) -> Result<IdxArray<f32>, String> {
    decode_idx(bytes, Some(bytes.len() as u64), |e| e.to_string())
}

/// Decodes an IDX stream of `size` bytes (`None`: unknown until read, as for decompressed
/// data); `read_error` words a failed read.
fn decode_idx<V: Real>(
    mut reader: impl Read,
    size: Option<u64>,
    read_error: impl Fn(std::io::Error) -> String,
) -> Result<IdxArray<V>, String> {
    let mut header = [0u8; 4];
    if read_up_to(&mut reader, &mut header).map_err(&read_error)? < 4 {
        return Err("too short for an IDX file (no 4-byte magic number)".to_string());
    }
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
    let mut dim_bytes = vec![0u8; 4 * ndims];
    if read_up_to(&mut reader, &mut dim_bytes).map_err(&read_error)? < dim_bytes.len() {
        return Err(format!(
            "truncated: the header promises {ndims} dimension sizes"
        ));
    }
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(element.size(), |acc, &d| acc.checked_mul(d))
        .filter(|&bytes| u64::try_from(bytes).is_ok_and(|b| b < u64::MAX))
        .ok_or_else(|| format!("dimensions {dims:?} are too large"))?;
    // A zero among the sizes makes the total 0 whatever the others are: one record (every
    // size after the first) must fit on its own too.
    dims.iter()
        .skip(1)
        .try_fold(element.size(), |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("dimensions {dims:?} are too large"))?;
    if let Some(size) = size {
        let available = size.saturating_sub(4 + 4 * ndims as u64);
        check_payload_size(available, expected, &dims, true)?;
    }
    // One byte more than promised is read, to tell trailing data from a file that ends.
    let reserve = if size.is_some() {
        expected // checked against the file's size above
    } else {
        expected.min(READ_AHEAD)
    };
    let mut payload = Vec::new();
    payload.try_reserve_exact(reserve).map_err(|_| {
        format!(
            "cannot allocate {reserve} bytes (dimensions {dims:?}): the data does not fit in memory"
        )
    })?;
    reader
        .take(expected as u64 + 1)
        .read_to_end(&mut payload)
        .map_err(&read_error)?;
    check_payload_size(payload.len() as u64, expected, &dims, false)?;
    let values = match element {
        // A byte is always a finite value: the payload is the data, no second copy.
        ElementType::U8 => IdxValues::Bytes(payload),
        _ => IdxValues::Floats(decode_values(&payload, element, &dims)?),
    };
    Ok(IdxArray { dims, values })
}

/// Bytes reserved before decompressing: what the header promises, up to this much; the rest
/// grows as data arrives, so a header promising more than the stream holds allocates little.
const READ_AHEAD: usize = 64 << 20;

/// Errors unless `available` bytes of data are the `expected` ones. `exact`: `available` is
/// the whole rest of the file (a raw file's size), not just what was read.
fn check_payload_size(
    available: u64,
    expected: usize,
    dims: &[usize],
    exact: bool,
) -> Result<(), String> {
    let expected = expected as u64;
    if available < expected {
        return Err(format!(
            "truncated: dimensions {dims:?} need {expected} bytes of data, the file has {available}"
        ));
    }
    if available > expected {
        let extra = if exact {
            format!("{} ", available - expected)
        } else {
            String::new()
        };
        return Err(format!(
            "{extra}unexpected bytes after the {expected} bytes of data for dimensions \
             {dims:?}: is this file damaged, or two files in one?"
        ));
    }
    Ok(())
}

/// The values as `V`, refusing a NaN or infinite one (a float file may hold them, and f64
/// values beyond f32's range become infinite in f32) with its record: the index along the
/// first dimension.
fn decode_values<V: Real>(
    payload: &[u8],
    element: ElementType,
    dims: &[usize],
) -> Result<Vec<V>, String> {
    let per_record: usize = dims[1..].iter().product();
    let count = payload.len() / element.size();
    let mut values = Vec::new();
    values.try_reserve_exact(count).map_err(|_| {
        format!(
            "cannot allocate {count} values (dimensions {dims:?}): the data does not fit in memory"
        )
    })?;
    for (at, bytes) in payload.chunks_exact(element.size()).enumerate() {
        // Exact in f64; one rounding to f32, as a direct conversion would do.
        let value = V::from_f64(element.decode(bytes));
        if !value.is_finite() {
            return Err(format!(
                "record {}, value {}: {value} as a {}-bit float: values must be finite numbers",
                at / per_record.max(1),
                at % per_record.max(1),
                V::BITS
            ));
        }
        values.push(value);
    }
    Ok(values)
}

/// Fills as much of `buffer` as the stream holds; the count read.
fn read_up_to(reader: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
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

    /// The value, exactly (every element type fits an f64).
    fn decode(self, b: &[u8]) -> f64 {
        match self {
            ElementType::U8 => f64::from(b[0]),
            ElementType::I8 => f64::from(b[0] as i8),
            ElementType::I16 => f64::from(i16::from_be_bytes([b[0], b[1]])),
            ElementType::I32 => f64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            ElementType::F32 => f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            ElementType::F64 => {
                f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
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
        let raw = load_idx::<f32>(&write(&dir, "i", &images), &write(&dir, "l", &labels)).unwrap();
        // Gzipped, with names that do not say so: detection is by magic bytes.
        let gz = load_idx::<f32>(
            &write(&dir, "i2", &gzip(&images)),
            &write(&dir, "l2", &gzip(&labels)),
        )
        .unwrap();
        assert_eq!((&raw.x, &raw.labels), (&gz.x, &gz.labels));
        assert_eq!((raw.len(), raw.features()), (3, 4));
        assert_eq!(raw.labels, vec![2, 0, 1]);
        // A u8 file's pixels are kept as bytes, a byte each.
        assert!(raw.x.is_bytes() && gz.x.is_bytes());
        assert_eq!(raw.x.stored_bytes(), 12);
        assert_eq!(
            raw.x.to_floats().row(2).to_vec(),
            vec![255.0, 254.0, 253.0, 252.0]
        );
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
            match load_idx::<f32>(&images, &labels) {
                Err(Error::Data { message, .. }) => {
                    assert!(message.contains(expected), "{message:?} lacks {expected:?}")
                }
                other => panic!("expected a data error containing {expected:?}, got {other:?}"),
            }
        }
    }

    /// The error message of loading `images` (with 2 matching labels).
    fn load_error(dir: &Path, images: &[u8]) -> String {
        let labels = write(dir, "labels", &idx_bytes(&[2], &[0, 1]));
        let images = write(dir, "images", images);
        match load_idx::<f32>(&images, &labels) {
            Err(Error::Data { message, .. }) => message,
            other => panic!("expected a data error, got {other:?}"),
        }
    }

    #[test]
    fn every_member_of_a_multi_member_gzip_is_read() {
        let dir = temp_dir("members");
        let images = idx_bytes(&[3, 2], &[1, 2, 3, 4, 5, 6]);
        // `cat a.gz b.gz`: a valid gzip file of two members, split inside the data.
        let mut two_members = gzip(&images[..10]);
        two_members.extend(gzip(&images[10..]));
        let labels = write(&dir, "l", &idx_bytes(&[3], &[0, 1, 2]));
        let data = load_idx::<f32>(&write(&dir, "i", &two_members), &labels).unwrap();
        assert_eq!(data.x, ndarray::array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    }

    #[test]
    fn decompression_stops_at_what_the_header_promises() {
        let dir = temp_dir("bomb");
        // A header promising 2 × 2 bytes, followed by 16 MiB of zeros (16 KiB compressed).
        let mut bomb = idx_bytes(&[2, 2], &[1, 2, 3, 4]);
        bomb.resize(bomb.len() + (16 << 20), 0);
        let compressed = gzip(&bomb);
        assert!(compressed.len() < 1 << 18);
        let message = load_error(&dir, &compressed);
        assert!(
            message.starts_with("unexpected bytes after the 4 bytes of data for dimensions [2, 2]"),
            "{message}"
        );
        // Garbage after the last gzip member is not a member: an error, not ignored.
        let mut trailing = gzip(&idx_bytes(&[2, 2], &[1, 2, 3, 4]));
        trailing.extend(b"garbage after the gzip data");
        let message = load_error(&dir, &trailing);
        assert!(message.starts_with("corrupt gzip data"), "{message}");
    }

    #[test]
    fn a_raw_file_is_sized_against_its_header_before_its_data_is_read() {
        let dir = temp_dir("sparse");
        // 1 GiB that holds no data (sparse): the size alone refuses it.
        let path = write(&dir, "images", &idx_bytes(&[2, 2], &[1, 2, 3, 4]));
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(1 << 30)
            .unwrap();
        let labels = write(&dir, "labels", &idx_bytes(&[2], &[0, 1]));
        let error = load_idx::<f32>(&path, &labels).unwrap_err().to_string();
        let extra = (1u64 << 30) - 12 - 4;
        assert!(
            error.contains(&format!("{extra} unexpected bytes after the 4 bytes")),
            "{error}"
        );
    }

    #[test]
    fn non_finite_float_values_are_refused_naming_the_record() {
        let dir = temp_dir("nan");
        let mut images = vec![0, 0, 0x0D, 2, 0, 0, 0, 2, 0, 0, 0, 2];
        for value in [1.0f32, 2.0, 3.0, f32::NAN] {
            images.extend(value.to_be_bytes());
        }
        let message = load_error(&dir, &images);
        assert!(
            message.starts_with("record 1, value 1: NaN as a 32-bit float: values must be finite"),
            "{message}"
        );
        // An f64 beyond f32's range would become infinite.
        let mut images = vec![0, 0, 0x0E, 1, 0, 0, 0, 2];
        for value in [1.0f64, 1e300] {
            images.extend(value.to_be_bytes());
        }
        let message = load_error(&dir, &images);
        assert!(message.starts_with("record 1, value 0: inf"), "{message}");
    }

    #[test]
    fn devices_are_refused_and_rows_remember_their_records() {
        let dir = temp_dir("origin");
        let labels = write(&dir, "labels", &idx_bytes(&[3], &[0, 1, 2]));
        if cfg!(unix) {
            let error = load_idx::<f32>(Path::new("/dev/urandom"), &labels).unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with("/dev/urandom: a character device, not a regular file"),
                "{error}"
            );
        }
        let images = write(&dir, "images", &idx_bytes(&[3, 1], &[7, 8, 9]));
        let data = load_idx::<f32>(&images, &labels).unwrap();
        let origin = data.select(&[2]).origin().cloned().unwrap();
        assert_eq!(origin.place(0), "record 2");
        assert_eq!(
            (origin.features_file(), origin.targets_file()),
            (images.as_path(), labels.as_path())
        );
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

    /// Found by `fuzz/` (target `idx`): no rows, but the size of one record overflows; the
    /// features' product used to panic (overflow checks) or wrap (release builds).
    #[test]
    fn zero_rows_of_an_overflowing_record_size_are_refused() {
        let bytes = [
            0x00, 0x00, 0x0b, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x63, 0x60, 0xe0,
            0x60, 0x66, 0x60, 0x00, 0x95, 0xe0,
        ];
        let error = parse_idx(&bytes).err().expect("refused");
        assert!(error.contains("too large"), "{error}");
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let missing = Path::new("no/such/images.idx");
        let error = load_idx::<f32>(missing, missing).unwrap_err();
        assert!(matches!(error, Error::Io { .. }));
        assert!(
            error.to_string().starts_with("no/such/images.idx: "),
            "{error}"
        );
    }

    #[test]
    fn loads_the_real_mnist_test_set() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/mnist"));
        let data = load_idx::<f32>(
            &dir.join("t10k-images-idx3-ubyte.gz"),
            &dir.join("t10k-labels-idx1-ubyte.gz"),
        )
        .unwrap();
        assert_eq!((data.len(), data.features()), (10_000, 784));
        assert!(data.labels.iter().all(|&l| l < 10));
        assert!((0..10).all(|class| data.labels.contains(&class)));
        let values = data.x.to_vec();
        let max = values.iter().copied().fold(f32::MIN, f32::max);
        let min = values.iter().copied().fold(f32::MAX, f32::min);
        assert_eq!((min, max), (0.0, 255.0));
    }
}
