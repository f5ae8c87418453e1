//! An ensemble in one safetensors file: member i's tensors as `members.{i}.{name}` (PyTorch's
//! naming of a `ModuleList` called `members`), the member count in the metadata.

use std::path::Path;

use crate::checkpoint::{
    checkpoint_error, checkpoint_metadata, copy_tensors, matching_tensors, parse_checkpoint,
    read_checkpoint, refuse_extra_tensors, write_checkpoint,
};
use crate::ensemble::{Ensemble, EnsembleConfig};
use crate::error::Error;
use crate::network::{Network, TensorRef};

const META_MEMBERS: &str = "ensemble_members";
const META_VOTE: &str = "ensemble_vote";

fn member_prefix(member: usize) -> String {
    format!("members.{member}.")
}

/// Writes every member's tensors and the model's identity, atomically (as
/// [`crate::save_checkpoint`] does).
pub fn save_ensemble<M: Network>(ensemble: &Ensemble<M>, path: &Path) -> Result<(), Error> {
    let tensors: Vec<TensorRef<'_, M::Float>> = ensemble
        .members
        .iter()
        .enumerate()
        .flat_map(|(i, member)| {
            member.tensors().into_iter().map(move |t| TensorRef {
                name: format!("{}{}", member_prefix(i), t.name),
                shape: t.shape,
                data: t.data,
            })
        })
        .collect();
    let members = ensemble.members.len().to_string();
    write_checkpoint::<M>(
        &tensors,
        &[(META_MEMBERS, &members), (META_VOTE, ensemble.vote.name())],
        path,
    )
}

/// Loads an ensemble of `config.models` members saved by [`save_ensemble`] for this spec,
/// voting by `config.vote`. Refuses another spec's file, a single model's checkpoint, another
/// member count, and any missing, extra or misshapen tensor.
pub fn load_ensemble<M: Network>(
    hyper: &M::Hyper,
    config: EnsembleConfig,
    path: &Path,
) -> Result<Ensemble<M>, Error> {
    let bytes = read_checkpoint::<M>(path)?;
    let saved =
        checkpoint_metadata(&bytes, path)?.and_then(|metadata| metadata.get(META_MEMBERS).cloned());
    match saved {
        Some(count) if count == config.models.to_string() => {}
        Some(count) => {
            return Err(checkpoint_error(
                path,
                format!(
                    "the file holds an ensemble of {count} models, the spec bags {}",
                    config.models
                ),
            ));
        }
        None => {
            return Err(checkpoint_error(
                path,
                format!(
                    "the file holds one model, not an ensemble of {} (`train` with this spec \
                     writes one)",
                    config.models
                ),
            ));
        }
    }
    let file = parse_checkpoint(&bytes, path)?;
    let mut members = Vec::with_capacity(config.models);
    let mut expected = Vec::new();
    for i in 0..config.models {
        let mut member = M::new(hyper.clone(), 0);
        let prefix = member_prefix(i);
        let sources = matching_tensors(&member, &file, &prefix, path)?;
        copy_tensors(&mut member, &sources);
        expected.extend(
            member
                .tensors()
                .into_iter()
                .map(|t| format!("{prefix}{}", t.name)),
        );
        members.push(member);
    }
    refuse_extra_tensors(
        &file,
        &expected,
        &format!("this ensemble of `{}`", M::META.name),
        path,
    )?;
    Ensemble::new(members, config.vote)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ensemble::Vote;
    use crate::test_model::{LogReg, LogRegHyper, temp_path};

    #[test]
    fn a_nan_weight_in_any_member_is_refused_naming_its_tensor() {
        let mut members: Vec<LogReg> = (0..2)
            .map(|seed| LogReg::new(LogRegHyper::default(), seed))
            .collect();
        members[1].tensors_mut()[1].data[2] = f32::NAN;
        let config = EnsembleConfig {
            models: 2,
            vote: Vote::Average,
        };
        let path = temp_path("ensemble-nan.safetensors");
        save_ensemble(&Ensemble::new(members, config.vote).unwrap(), &path).unwrap();
        let error = load_ensemble::<LogReg>(&LogRegHyper::default(), config, &path)
            .err()
            .expect("refused");
        assert!(
            error
                .to_string()
                .contains("tensor `members.1.layers.0.bias` holds NaN at [2]"),
            "{error}"
        );
    }
}
