//! A stable hash of a model's architecture, stored in checkpoints so a checkpoint is only
//! loaded into a model of the same shape. Hand-written FNV-1a 64: no dependency, and the
//! value never changes with a Rust or crate version.

use netc_sema::ir;

/// FNV-1a 64 (hex, 16 digits) of the canonical architecture text: input dims, each layer's
/// kind, sizes and activation, and the loss. Names, comments, inits and training settings
/// do not take part.
pub fn spec_hash(model: &ir::Model) -> String {
    format!("{:016x}", fnv1a64(canonical_architecture(model).as_bytes()))
}

fn canonical_architecture(model: &ir::Model) -> String {
    let dims: Vec<String> = model.input.dims.iter().map(usize::to_string).collect();
    let mut text = format!("input {};", dims.join("x"));
    for layer in &model.layers {
        let kind = match &layer.kind {
            ir::LayerKind::Dense {
                units, activation, ..
            } => format!("dense {units} {activation:?}"),
            // p, momentum and eps are hyperparameters, not shape: a checkpoint still fits.
            ir::LayerKind::Dropout { .. } => "dropout".to_owned(),
            ir::LayerKind::BatchNorm { .. } => "batchnorm".to_owned(),
        };
        text.push_str(&format!("{kind} {}->{};", layer.inputs, layer.outputs));
    }
    text.push_str(&format!("loss {:?}", model.loss.kind));
    text
}

pub fn fnv1a64(bytes: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}
