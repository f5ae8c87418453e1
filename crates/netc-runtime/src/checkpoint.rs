//! Model weights as safetensors files, interchangeable with PyTorch (`layers.0.weight` [out, in]).

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors};

use crate::error::Error;
use crate::network::{Network, TensorRef};
use crate::scalar::Scalar;

const META_NETC_VERSION: &str = "netc_version";
const META_SPEC_HASH: &str = "spec_hash";
const META_MODEL: &str = "model";

/// Writes every tensor of `model` (in its precision, F32 or F64, little-endian) with metadata `netc_version`,
/// `spec_hash` and `model`, atomically and durably ([`crate::atomic_file`]): an interrupted
/// save never leaves a half-written checkpoint.
pub fn save_checkpoint<M: Network>(model: &M, path: &Path) -> Result<(), Error> {
    write_checkpoint::<M>(&model.tensors(), &[], path)
}

/// Writes `tensors` of models of type `M` with the model's identity and `extra` metadata
/// (an ensemble's member count), atomically as [`save_checkpoint`] does.
pub(crate) fn write_checkpoint<M: Network>(
    tensors: &[TensorRef<'_, M::Float>],
    extra: &[(&str, &str)],
    path: &Path,
) -> Result<(), Error> {
    let mut metadata = vec![
        (META_MODEL, M::META.name),
        (META_NETC_VERSION, M::META.netc_version),
        (META_SPEC_HASH, M::META.spec_hash),
    ];
    metadata.extend_from_slice(extra);
    let serialized = crate::safetensors_encode::encode(tensors, &metadata)
        .map_err(|message| checkpoint_error(path, message))?;
    crate::atomic_file::write_atomically(path, &serialized)
}

/// Loads weights saved for this model. Refuses (with the model untouched) a file whose
/// `spec_hash` differs, that lacks one of the model's tensors, has an extra one, or has a
/// wrong shape or dtype. A file without netc metadata (e.g. exported from PyTorch) is accepted
/// when every name and shape matches.
pub fn load_checkpoint<M: Network>(model: &mut M, path: &Path) -> Result<(), Error> {
    let bytes = read_checkpoint::<M>(path)?;
    let file = parse_checkpoint(&bytes, path)?;
    // Validate everything before copying anything.
    let sources = matching_tensors(model, &file, "", path)?;
    let expected: Vec<String> = model.tensors().into_iter().map(|t| t.name).collect();
    refuse_extra_tensors(&file, &expected, &format!("model `{}`", M::META.name), path)?;
    copy_tensors(model, &sources);
    Ok(())
}

/// The file's bytes, after checking that its metadata (if any) names this model's spec.
pub(crate) fn read_checkpoint<M: Network>(path: &Path) -> Result<Vec<u8>, Error> {
    let bytes = crate::input_file::read(path)?;
    if let Some(metadata) = checkpoint_metadata(&bytes, path)? {
        check_identity::<M>(&metadata, path)?;
    }
    Ok(bytes)
}

/// The file's string metadata, `None` when it has none.
pub(crate) fn checkpoint_metadata(
    bytes: &[u8],
    path: &Path,
) -> Result<Option<HashMap<String, String>>, Error> {
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| checkpoint_error(path, format!("not a safetensors file: {e}")))?;
    Ok(header.metadata().clone())
}

pub(crate) fn parse_checkpoint<'d>(bytes: &'d [u8], path: &Path) -> Result<SafeTensors<'d>, Error> {
    SafeTensors::deserialize(bytes)
        .map_err(|e| checkpoint_error(path, format!("not a safetensors file: {e}")))
}

/// The raw data of every tensor of `model`, found in `file` under `prefix` + its name, after
/// checking each one's dtype and shape.
pub(crate) fn matching_tensors<'d, M: Network>(
    model: &M,
    file: &SafeTensors<'d>,
    prefix: &str,
    path: &Path,
) -> Result<Vec<&'d [u8]>, Error> {
    let expected_dtype = if M::Float::BYTES == 8 {
        Dtype::F64
    } else {
        Dtype::F32
    };
    let mut sources = Vec::new();
    for tensor in model.tensors() {
        let name = format!("{prefix}{}", tensor.name);
        let view = file
            .tensor(&name)
            .map_err(|_| checkpoint_error(path, format!("tensor `{name}` is missing")))?;
        if view.dtype() != expected_dtype {
            return Err(checkpoint_error(
                path,
                format!(
                    "tensor `{name}` has dtype {:?}, expected {} (this model's precision)",
                    view.dtype(),
                    M::Float::DTYPE
                ),
            ));
        }
        if view.shape() != tensor.shape.as_slice() {
            return Err(checkpoint_error(
                path,
                format!(
                    "tensor `{name}` has shape {:?}, this model expects {:?}",
                    view.shape(),
                    tensor.shape
                ),
            ));
        }
        refuse_non_finite::<M::Float>(view.data(), view.shape(), &name, path)?;
        sources.push(view.data());
    }
    Ok(sources)
}

/// Errors on the first NaN or infinite value of tensor `name`: such weights give NaN
/// outputs, or plausible ones (relu maps NaN to 0), never a usable model.
fn refuse_non_finite<F: Scalar>(
    data: &[u8],
    shape: &[usize],
    name: &str,
    path: &Path,
) -> Result<(), Error> {
    let values = data
        .chunks_exact(F::BYTES)
        .map(|le| F::read_le(le).to_f64());
    match values.enumerate().find(|(_, v)| !v.is_finite()) {
        Some((at, value)) => Err(checkpoint_error(
            path,
            format!(
                "tensor `{name}` holds {value} at {:?}: weights must be finite numbers (the \
                 run that saved them may have diverged; use an earlier checkpoint)",
                multi_index(at, shape)
            ),
        )),
        None => Ok(()),
    }
}

/// Row-major flat index `at` as one index per dimension of `shape`.
fn multi_index(mut at: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (slot, &size) in index.iter_mut().zip(shape).rev() {
        *slot = at % size.max(1);
        at /= size.max(1);
    }
    index
}

/// Errors on the first tensor of `file` not named in `expected` (`whole`: what they make up).
pub(crate) fn refuse_extra_tensors(
    file: &SafeTensors<'_>,
    expected: &[String],
    whole: &str,
    path: &Path,
) -> Result<(), Error> {
    match file
        .names()
        .into_iter()
        .find(|name| !expected.iter().any(|e| e == *name))
    {
        Some(extra) => Err(checkpoint_error(
            path,
            format!("tensor `{extra}` is not part of {whole}"),
        )),
        None => Ok(()),
    }
}

/// Copies `sources` (from [`matching_tensors`]) into the model's tensors.
pub(crate) fn copy_tensors<M: Network>(model: &mut M, sources: &[&[u8]]) {
    for (target, source) in model.tensors_mut().into_iter().zip(sources) {
        for (value, le) in target
            .data
            .iter_mut()
            .zip(source.chunks_exact(M::Float::BYTES))
        {
            *value = M::Float::read_le(le);
        }
    }
}

fn check_identity<M: Network>(
    metadata: &HashMap<String, String>,
    path: &Path,
) -> Result<(), Error> {
    let Some(hash) = metadata.get(META_SPEC_HASH) else {
        return Ok(());
    };
    if hash != M::META.spec_hash {
        let name = metadata.get(META_MODEL).map_or("?", String::as_str);
        return Err(checkpoint_error(
            path,
            format!(
                "checkpoint is for model `{name}` (spec hash {hash}), this trainer is `{}` ({})",
                M::META.name,
                M::META.spec_hash
            ),
        ));
    }
    Ok(())
}

/// `<stem>.last-good.<ext>` beside `checkpoint`: where a diverged run leaves its last good
/// weights, so the checkpoint path (an earlier run's result, perhaps) is never overwritten
/// by a failed run.
pub fn last_good_path(checkpoint: &Path) -> std::path::PathBuf {
    let stem = checkpoint.file_stem().unwrap_or_default().to_string_lossy();
    let name = match checkpoint.extension() {
        Some(ext) => format!("{stem}.last-good.{}", ext.to_string_lossy()),
        None => format!("{stem}.last-good"),
    };
    checkpoint.with_file_name(name)
}

pub(crate) fn checkpoint_error(path: &Path, message: String) -> Error {
    Error::Checkpoint {
        path: path.to_path_buf(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_model::{LogReg, LogRegHyper, OtherLogReg, temp_path};
    use safetensors::tensor::TensorView;

    fn weights(model: &LogReg) -> Vec<Vec<f32>> {
        model.tensors().iter().map(|t| t.data.to_vec()).collect()
    }

    #[test]
    fn round_trip_restores_every_tensor() {
        let path = temp_path("round-trip.safetensors");
        let saved = LogReg::new(LogRegHyper::default(), 1);
        save_checkpoint(&saved, &path).unwrap();
        let mut loaded = LogReg::new(LogRegHyper::default(), 2);
        assert_ne!(weights(&saved), weights(&loaded));
        load_checkpoint(&mut loaded, &path).unwrap();
        assert_eq!(weights(&saved), weights(&loaded));
        // Names, shapes and metadata as PyTorch tools see them.
        let bytes = std::fs::read(&path).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(file.tensor("layers.0.weight").unwrap().shape(), &[3, 4]);
        assert_eq!(file.tensor("layers.0.bias").unwrap().shape(), &[3]);
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let metadata = header.metadata().as_ref().unwrap();
        assert_eq!(metadata["model"], "logreg");
        assert_eq!(metadata["spec_hash"], LogReg::META.spec_hash);
        assert_eq!(metadata["netc_version"], LogReg::META.netc_version);
    }

    #[test]
    fn the_same_weights_give_the_same_file_bytes() {
        // Reproducible runs must be comparable with `cmp`: no map order leaks into the header.
        let model = LogReg::new(LogRegHyper::default(), 5);
        let (first, second) = (
            temp_path("same-a.safetensors"),
            temp_path("same-b.safetensors"),
        );
        for _ in 0..4 {
            save_checkpoint(&model, &first).unwrap();
            save_checkpoint(&model, &second).unwrap();
            assert_eq!(
                std::fs::read(&first).unwrap(),
                std::fs::read(&second).unwrap()
            );
        }
    }

    #[test]
    fn saving_into_a_missing_directory_names_the_requested_file() {
        let path = temp_path("no-such-dir").join("model.safetensors");
        let error = save_checkpoint(&LogReg::new(LogRegHyper::default(), 1), &path).unwrap_err();
        assert!(
            matches!(&error, Error::Io { path: p, .. } if *p == path),
            "{error:?}"
        );
    }

    #[test]
    fn another_spec_hash_is_refused_and_the_model_untouched() {
        let path = temp_path("other-hash.safetensors");
        save_checkpoint(&OtherLogReg::new(LogRegHyper::default(), 1), &path).unwrap();
        let mut model = LogReg::new(LogRegHyper::default(), 2);
        let before = weights(&model);
        let error = load_checkpoint(&mut model, &path).unwrap_err();
        assert!(matches!(error, Error::Checkpoint { .. }));
        let expected = format!(
            "checkpoint is for model `other` (spec hash {}), this trainer is `logreg` ({})",
            OtherLogReg::META.spec_hash,
            LogReg::META.spec_hash
        );
        assert!(error.to_string().ends_with(&expected), "{error}");
        assert_eq!(before, weights(&model));
    }

    /// Writes a file with the model's metadata but hand-made tensors.
    fn write_raw(path: &Path, tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) {
        let views: Vec<_> = tensors
            .iter()
            .map(|(name, dtype, shape, data)| {
                (*name, TensorView::new(*dtype, shape.clone(), data).unwrap())
            })
            .collect();
        let metadata =
            HashMap::from([("spec_hash".to_string(), LogReg::META.spec_hash.to_string())]);
        std::fs::write(path, safetensors::serialize(views, Some(metadata)).unwrap()).unwrap();
    }

    #[test]
    fn wrong_shape_dtype_missing_and_extra_tensors_are_refused() {
        let f32s = |n: usize| vec![0u8; 4 * n];
        let bias = ("layers.0.bias", Dtype::F32, vec![3], f32s(3));
        let cases = [
            (
                vec![
                    ("layers.0.weight", Dtype::F32, vec![4, 3], f32s(12)),
                    bias.clone(),
                ],
                "tensor `layers.0.weight` has shape [4, 3], this model expects [3, 4]",
            ),
            (
                vec![
                    ("layers.0.weight", Dtype::F64, vec![3, 4], vec![0u8; 96]),
                    bias.clone(),
                ],
                "tensor `layers.0.weight` has dtype F64, expected F32",
            ),
            (vec![bias.clone()], "tensor `layers.0.weight` is missing"),
            (
                vec![
                    ("layers.0.weight", Dtype::F32, vec![3, 4], f32s(12)),
                    bias.clone(),
                    ("layers.1.weight", Dtype::F32, vec![1], f32s(1)),
                ],
                "tensor `layers.1.weight` is not part of model `logreg`",
            ),
        ];
        let path = temp_path("bad-tensors.safetensors");
        for (tensors, expected) in cases {
            write_raw(&path, &tensors);
            let mut model = LogReg::new(LogRegHyper::default(), 3);
            let before = weights(&model);
            let error = load_checkpoint(&mut model, &path).unwrap_err();
            assert!(error.to_string().contains(expected), "{error}");
            assert_eq!(before, weights(&model), "untouched after: {expected}");
        }
        std::fs::write(&path, b"not a checkpoint").unwrap();
        let error =
            load_checkpoint(&mut LogReg::new(LogRegHyper::default(), 3), &path).unwrap_err();
        assert!(
            error.to_string().contains("not a safetensors file"),
            "{error}"
        );
    }

    #[test]
    fn nan_and_infinite_weights_are_refused_naming_the_tensor() {
        let path = temp_path("non-finite.safetensors");
        for (bad, shown) in [
            (f32::NAN, "NaN"),
            (f32::INFINITY, "inf"),
            (f32::NEG_INFINITY, "-inf"),
        ] {
            let mut weight = vec![0.5f32; 12];
            weight[6] = bad; // row 1, column 2 of the 3 × 4 weight
            let bytes = |values: &[f32]| values.iter().flat_map(|v| v.to_le_bytes()).collect();
            write_raw(
                &path,
                &[
                    ("layers.0.weight", Dtype::F32, vec![3, 4], bytes(&weight)),
                    ("layers.0.bias", Dtype::F32, vec![3], bytes(&[0.0; 3])),
                ],
            );
            let mut model = LogReg::new(LogRegHyper::default(), 3);
            let before = weights(&model);
            let error = load_checkpoint(&mut model, &path).unwrap_err();
            let expected = format!(
                "{}: tensor `layers.0.weight` holds {shown} at [1, 2]: weights must be finite",
                path.display()
            );
            assert!(error.to_string().starts_with(&expected), "{error}");
            assert_eq!(before, weights(&model), "untouched");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_device_as_the_weights_file_is_refused() {
        let mut model = LogReg::new(LogRegHyper::default(), 3);
        let error = load_checkpoint(&mut model, Path::new("/dev/zero")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("/dev/zero: a character device, not a regular file"),
            "{error}"
        );
    }

    #[test]
    fn a_file_without_netc_metadata_loads_when_names_and_shapes_match() {
        let path = temp_path("pytorch.safetensors");
        let weight: Vec<u8> = (0..12).flat_map(|i| (i as f32).to_le_bytes()).collect();
        let views = vec![
            (
                "layers.0.weight",
                TensorView::new(Dtype::F32, vec![3, 4], &weight).unwrap(),
            ),
            (
                "layers.0.bias",
                TensorView::new(Dtype::F32, vec![3], &weight[..12]).unwrap(),
            ),
        ];
        std::fs::write(&path, safetensors::serialize(views, None).unwrap()).unwrap();
        let mut model = LogReg::new(LogRegHyper::default(), 0);
        load_checkpoint(&mut model, &path).unwrap();
        assert_eq!(
            weights(&model)[0],
            (0..12).map(|i| i as f32).collect::<Vec<_>>()
        );
    }
}
