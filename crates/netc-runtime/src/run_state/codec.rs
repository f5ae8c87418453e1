//! Named tensors of mixed dtypes in and out of a state file (safetensors): the model's floats
//! in its precision, counters and positions as U64, sums and metrics as F64.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors};

use crate::error::Error;
use crate::network::{TensorMut, TensorRef};
use crate::rng::RngState;
use crate::safetensors_encode::{RawTensor, encode_raw};
use crate::scalar::Scalar;

/// Collects the tensors and metadata of one state file.
#[derive(Default)]
pub struct StateWriter {
    tensors: Vec<RawTensor>,
    metadata: Vec<(String, String)>,
}

impl StateWriter {
    pub fn meta(&mut self, key: &str, value: impl Into<String>) {
        self.metadata.push((key.to_string(), value.into()));
    }

    pub fn u64s(&mut self, name: &str, values: &[u64]) {
        self.raw(name, "U64", vec![values.len()], 8, |out| {
            values
                .iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes()))
        });
    }

    pub fn f64s(&mut self, name: &str, shape: Vec<usize>, values: &[f64]) {
        self.raw(name, "F64", shape, 8, |out| {
            values
                .iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes()))
        });
    }

    pub fn rng(&mut self, name: &str, state: &RngState) {
        self.u64s(name, &state.to_words());
    }

    /// Model tensors under `prefix` (`model.`, `best.`, …), in the model's precision.
    pub fn floats<T: Scalar>(&mut self, prefix: &str, tensors: &[TensorRef<'_, T>]) {
        for tensor in tensors {
            let name = format!("{prefix}{}", tensor.name);
            self.raw(&name, T::DTYPE, tensor.shape.clone(), T::BYTES, |out| {
                tensor.data.iter().for_each(|v| v.write_le(out))
            });
        }
    }

    /// Saved copies of tensors (`Snapshot`s) with the names and shapes of `like`.
    pub fn float_copies<T: Scalar>(
        &mut self,
        prefix: &str,
        like: &[TensorRef<'_, T>],
        copies: &[Vec<T>],
    ) {
        for (tensor, copy) in like.iter().zip(copies) {
            let name = format!("{prefix}{}", tensor.name);
            self.raw(&name, T::DTYPE, tensor.shape.clone(), T::BYTES, |out| {
                copy.iter().for_each(|v| v.write_le(out))
            });
        }
    }

    fn raw(
        &mut self,
        name: &str,
        dtype: &'static str,
        shape: Vec<usize>,
        bytes_per_value: usize,
        fill: impl FnOnce(&mut Vec<u8>),
    ) {
        let mut bytes = Vec::new();
        fill(&mut bytes);
        self.tensors.push(RawTensor {
            name: name.to_string(),
            dtype,
            shape,
            bytes_per_value,
            bytes,
        });
    }

    /// Replaces `path` with the file, atomically and durably.
    pub fn write_to(&self, path: &Path) -> Result<(), Error> {
        crate::atomic_file::write_atomically(path, &self.encode(path)?)
    }

    /// The file's bytes (deterministic: same state, same bytes).
    pub fn encode(&self, path: &Path) -> Result<Vec<u8>, Error> {
        let metadata: Vec<(&str, &str)> = self
            .metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        encode_raw(&self.tensors, &metadata).map_err(|message| state_error(path, message))
    }
}

/// Reads a state file's tensors by name, checking dtype and size; every error names the file
/// and the tensor.
pub struct StateReader<'d> {
    path: PathBuf,
    file: SafeTensors<'d>,
    metadata: HashMap<String, String>,
}

impl<'d> StateReader<'d> {
    pub fn new(bytes: &'d [u8], path: &Path) -> Result<StateReader<'d>, Error> {
        let not_state = |e: safetensors::SafeTensorError| {
            state_error(path, format!("not a netc run-state file: {e}"))
        };
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(not_state)?;
        let metadata = header.metadata().clone().unwrap_or_default();
        let file = SafeTensors::deserialize(bytes).map_err(not_state)?;
        Ok(StateReader {
            path: path.to_path_buf(),
            file,
            metadata,
        })
    }

    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    pub fn error(&self, message: impl Into<String>) -> Error {
        state_error(&self.path, message.into())
    }

    fn view(&self, name: &str, dtype: Dtype) -> Result<safetensors::tensor::TensorView<'d>, Error> {
        let view = self
            .file
            .tensor(name)
            .map_err(|_| self.error(format!("tensor `{name}` is missing")))?;
        if view.dtype() != dtype {
            return Err(self.error(format!(
                "tensor `{name}` has dtype {:?}, expected {dtype:?}",
                view.dtype()
            )));
        }
        Ok(view)
    }

    pub fn u64s(&self, name: &str) -> Result<Vec<u64>, Error> {
        let view = self.view(name, Dtype::U64)?;
        Ok(view
            .data()
            .chunks_exact(8)
            .map(|le| u64::from_le_bytes(le.try_into().unwrap_or([0; 8])))
            .collect())
    }

    /// Exactly `N` U64 values.
    pub fn u64_array<const N: usize>(&self, name: &str) -> Result<[u64; N], Error> {
        let values = self.u64s(name)?;
        values.try_into().map_err(|v: Vec<u64>| {
            self.error(format!(
                "tensor `{name}` has {} values, expected {N}",
                v.len()
            ))
        })
    }

    /// F64 values and the tensor's shape.
    pub fn f64s(&self, name: &str) -> Result<(Vec<f64>, Vec<usize>), Error> {
        let view = self.view(name, Dtype::F64)?;
        let values = view
            .data()
            .chunks_exact(8)
            .map(|le| f64::from_le_bytes(le.try_into().unwrap_or([0; 8])))
            .collect();
        Ok((values, view.shape().to_vec()))
    }

    pub fn rng(&self, name: &str) -> Result<RngState, Error> {
        Ok(RngState::from_words(self.u64_array(name)?))
    }

    /// Checks every tensor of `like` under `prefix` (dtype, shape) and returns their values:
    /// nothing is copied into a model until the whole file has been checked.
    pub fn float_copies<T: Scalar>(
        &self,
        prefix: &str,
        like: &[TensorRef<'_, T>],
    ) -> Result<Vec<Vec<T>>, Error> {
        let dtype = if T::BYTES == 8 {
            Dtype::F64
        } else {
            Dtype::F32
        };
        like.iter()
            .map(|tensor| {
                let name = format!("{prefix}{}", tensor.name);
                let view = self.view(&name, dtype)?;
                if view.shape() != tensor.shape.as_slice() {
                    return Err(self.error(format!(
                        "tensor `{name}` has shape {:?}, this model expects {:?}",
                        view.shape(),
                        tensor.shape
                    )));
                }
                let values: Vec<T> = view.data().chunks_exact(T::BYTES).map(T::read_le).collect();
                if let Some(bad) = values.iter().position(|v| !v.to_f64().is_finite()) {
                    return Err(self.error(format!(
                        "tensor `{name}` holds a non-finite value at index {bad}"
                    )));
                }
                Ok(values)
            })
            .collect()
    }
}

/// Copies checked values (from [`StateReader::float_copies`]) into tensors.
pub fn copy_into<T: Scalar>(targets: Vec<TensorMut<'_, T>>, values: &[Vec<T>]) {
    for (target, values) in targets.into_iter().zip(values) {
        target.data.copy_from_slice(values);
    }
}

pub fn state_error(path: &Path, message: String) -> Error {
    Error::Checkpoint {
        path: path.to_path_buf(),
        message,
    }
}
