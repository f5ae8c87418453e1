//! What the generated trainer honours today, and one `NotYetSupported` diagnostic for every
//! construct it does not: a spec is never trained with a setting silently ignored.

use netc_sema::ir;
use netc_syntax::{Diagnostic, ErrorCode, Span};

const WHAT_WORKS: &str = "the generated trainer supports today: dense layers (relu, tanh, sigmoid, identity), dropout, batchnorm, \
softmax, logistic (one-vs-all and multi-label) and mse losses, sgd, momentum, nesterov, adagrad, rmsprop and adam (mu ramps too), lbfgs and newton (batch full), early stopping, grad-norm and curvature monitoring, \
every learning-rate schedule, l2/l1/maxnorm regularization, f32 and f64, idx/csv data with scale, preprocessing (mean image, channel mean, standardize), augmentation (shift, rotate, scale, flip) and a validation split, random search (coarse to fine), bagging ensembles";

pub fn unsupported_constructs(net: &ir::Network) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let fallback = net.model.name_span;
    let mut reject = |span: Option<Span>, what: &str| {
        found.push(
            Diagnostic::error(
                ErrorCode::NotYetSupported,
                format!(
                    "not yet supported: {what} — the generated trainer does not implement it yet"
                ),
            )
            .with_primary(
                span.unwrap_or(fallback),
                "not yet supported by the generated code",
            )
            .with_note(WHAT_WORKS),
        );
    };

    let model = &net.model;
    // A batch norm normalizes a dense layer's output: one per dense layer, none on the input.
    let mut dense_seen = false;
    let mut normalized = false;
    for layer in &model.layers {
        match layer.kind {
            ir::LayerKind::Dense { .. } => {
                dense_seen = true;
                normalized = false;
            }
            ir::LayerKind::Dropout { .. } => {}
            ir::LayerKind::BatchNorm { .. } if !dense_seen => {
                reject(Some(layer.span), "`batchnorm` before the first dense layer")
            }
            ir::LayerKind::BatchNorm { .. } if normalized => reject(
                Some(layer.span),
                "a second `batchnorm` on the same dense layer",
            ),
            ir::LayerKind::BatchNorm { .. } => normalized = true,
        }
    }
    match model.layers.last() {
        Some(ir::Layer {
            kind: ir::LayerKind::Dense { .. },
            ..
        }) => {}
        // The loss reads the last dense layer's output: a trailing dropout or batch norm
        // (sema refuses it for softmax/logistic, not for mse) would be ignored.
        Some(layer) => reject(
            Some(layer.span),
            "a `dropout` or `batchnorm` after the last dense layer",
        ),
        None => reject(Some(model.input.span), "a model without a dense layer"),
    }

    found
}
