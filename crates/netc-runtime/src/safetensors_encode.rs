//! Writes the safetensors format with a deterministic header.
//!
//! The `safetensors` crate's `serialize` takes the metadata as a `HashMap`, whose random
//! iteration order made two bit-identical training runs write different files. The format is
//! small (u64 little-endian header length, a JSON header padded with spaces to 8 bytes, then
//! the raw data), so we write it here and keep the crate for reading, where it validates.

use crate::network::TensorRef;
use crate::scalar::Scalar;

/// Encodes f32 or f64 tensors (sorted by name, as the crate does) and string metadata (in the given
/// order). Returns an error message if a tensor's data does not match its shape.
pub(crate) fn encode<T: Scalar>(
    tensors: &[TensorRef<'_, T>],
    metadata: &[(&str, &str)],
) -> Result<Vec<u8>, String> {
    let headers: Vec<Entry<'_>> = tensors
        .iter()
        .map(|t| Entry {
            name: &t.name,
            dtype: T::DTYPE,
            shape: &t.shape,
            values: t.data.len(),
            bytes_per_value: T::BYTES,
        })
        .collect();
    encode_with(&headers, metadata, |index, bytes| {
        for value in tensors[index].data {
            value.write_le(bytes);
        }
    })
}

/// One tensor already in little-endian bytes, of any safetensors dtype (`"U64"`, `"F64"`, …).
pub(crate) struct RawTensor {
    pub name: String,
    pub dtype: &'static str,
    pub shape: Vec<usize>,
    pub bytes_per_value: usize,
    pub bytes: Vec<u8>,
}

/// [`encode`] for tensors of mixed dtypes (run-state files).
pub(crate) fn encode_raw(
    tensors: &[RawTensor],
    metadata: &[(&str, &str)],
) -> Result<Vec<u8>, String> {
    let headers: Vec<Entry<'_>> = tensors
        .iter()
        .map(|t| Entry {
            name: &t.name,
            dtype: t.dtype,
            shape: &t.shape,
            values: t.bytes.len() / t.bytes_per_value.max(1),
            bytes_per_value: t.bytes_per_value,
        })
        .collect();
    encode_with(&headers, metadata, |index, bytes| {
        bytes.extend_from_slice(&tensors[index].bytes)
    })
}

/// What the header says of one tensor.
struct Entry<'a> {
    name: &'a str,
    dtype: &'static str,
    shape: &'a [usize],
    values: usize,
    bytes_per_value: usize,
}

/// The header (tensors sorted by name), then each tensor's bytes from `write(index, out)` in
/// that order.
fn encode_with(
    entries: &[Entry<'_>],
    metadata: &[(&str, &str)],
    mut write: impl FnMut(usize, &mut Vec<u8>),
) -> Result<Vec<u8>, String> {
    let mut sorted: Vec<usize> = (0..entries.len()).collect();
    sorted.sort_by(|&a, &b| entries[a].name.cmp(entries[b].name));

    let mut header = String::from("{\"__metadata__\":{");
    for (i, (key, value)) in metadata.iter().enumerate() {
        if i > 0 {
            header.push(',');
        }
        header.push_str(&format!("{}:{}", json_string(key), json_string(value)));
    }
    header.push('}');
    let mut offset = 0usize;
    for &index in &sorted {
        let tensor = &entries[index];
        let elements: usize = tensor.shape.iter().product();
        if elements != tensor.values {
            return Err(format!(
                "tensor `{}` has {} values but shape {:?}",
                tensor.name, tensor.values, tensor.shape
            ));
        }
        let shape: Vec<String> = tensor.shape.iter().map(usize::to_string).collect();
        let end = offset + tensor.bytes_per_value * elements;
        header.push_str(&format!(
            ",{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{offset},{end}]}}",
            json_string(tensor.name),
            tensor.dtype,
            shape.join(",")
        ));
        offset = end;
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }

    let mut bytes = Vec::with_capacity(8 + header.len() + offset);
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for &index in &sorted {
        write(index, &mut bytes);
    }
    Ok(bytes)
}

fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::tensor::{Dtype, SafeTensors};

    fn tensor<'a>(name: &str, shape: &[usize], data: &'a [f32]) -> TensorRef<'a> {
        TensorRef {
            name: name.to_string(),
            shape: shape.to_vec(),
            data,
        }
    }

    #[test]
    fn the_crate_reads_what_we_write() {
        let weight = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let bias = [0.5f32, -0.5];
        let tensors = [
            tensor("layers.0.weight", &[2, 3], &weight),
            tensor("layers.0.bias", &[2], &bias),
        ];
        let bytes = encode(&tensors, &[("model", "m\"q"), ("spec_hash", "abc")]).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let w = file.tensor("layers.0.weight").unwrap();
        assert_eq!((w.dtype(), w.shape()), (Dtype::F32, &[2usize, 3][..]));
        assert_eq!(w.data()[4..8], 2.0f32.to_le_bytes());
        assert_eq!(
            file.tensor("layers.0.bias").unwrap().data()[4..],
            (-0.5f32).to_le_bytes()
        );
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let metadata = header.metadata().as_ref().unwrap();
        assert_eq!(metadata["model"], "m\"q");
        assert_eq!(metadata["spec_hash"], "abc");
    }

    #[test]
    fn same_tensors_same_bytes() {
        let data = [1.0f32; 4];
        let encode_once = || {
            encode(
                &[tensor("b", &[4], &data), tensor("a", &[2, 2], &data)],
                &[("k", "v"), ("j", "w")],
            )
        };
        assert_eq!(encode_once().unwrap(), encode_once().unwrap());
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        let data = [1.0f32; 3];
        assert!(encode(&[tensor("a", &[2, 2], &data)], &[]).is_err());
    }
}
