//! What the generated trainer honours today, and one `NotYetSupported` diagnostic for every
//! construct it does not: a spec is never trained with a setting silently ignored.

use netc_sema::ir;
use netc_syntax::{Diagnostic, ErrorCode, Span};

const WHAT_WORKS: &str = "the generated trainer supports today: dense layers (relu, tanh, sigmoid, identity), dropout, \
softmax and logistic losses, sgd, momentum, nesterov, adagrad, rmsprop and adam (mu ramps too), \
every learning-rate schedule, l2/l1/maxnorm regularization, idx/csv data with scale and a validation split";

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
    let mut after_dropout = false;
    for layer in &model.layers {
        match layer.kind {
            ir::LayerKind::Dense { .. } => {}
            ir::LayerKind::Dropout { .. } if after_dropout => {
                reject(Some(layer.span), "two `dropout` layers in a row")
            }
            ir::LayerKind::Dropout { .. } => {}
            ir::LayerKind::BatchNorm { .. } => reject(Some(layer.span), "`batchnorm` layer"),
        }
        after_dropout = matches!(layer.kind, ir::LayerKind::Dropout { .. });
    }
    match model.layers.last() {
        Some(ir::Layer {
            kind: ir::LayerKind::Dense { .. },
            ..
        }) => {}
        // A trailing dropout/batchnorm was rejected above; an empty model has no output layer.
        Some(_) => {}
        None => reject(Some(model.input.span), "a model without a dense layer"),
    }
    if model.loss.kind == ir::LossKind::Mse {
        reject(Some(model.loss.span), "`mse` loss");
    }

    if let Some(data) = &net.data {
        if data.preprocess.kind != ir::PreprocessKind::None {
            reject(data.preprocess.span, "`preprocess`");
        }
        if let Some(augment) = &data.augment {
            reject(Some(augment.span), "`augment`");
        }
    }

    let train = &net.train;
    if train.batch.size == ir::BatchSize::Full {
        reject(train.batch.span, "`batch full`");
    }
    let optimizer = Some(train.optimizer.span);
    match train.optimizer.kind {
        ir::OptimizerKind::Sgd
        | ir::OptimizerKind::Momentum { .. }
        | ir::OptimizerKind::Nesterov { .. }
        | ir::OptimizerKind::Adagrad { .. }
        | ir::OptimizerKind::Rmsprop { .. }
        | ir::OptimizerKind::Adam { .. } => {}
        ir::OptimizerKind::Lbfgs { .. } => reject(optimizer, "`lbfgs` optimizer"),
        ir::OptimizerKind::Newton { .. } => reject(optimizer, "`newton` optimizer"),
    }
    if train.monitor.grad_norm || train.monitor.curvature {
        reject(train.monitor.span, "`monitor`");
    }
    if train.precision.kind == ir::PrecisionKind::F64 {
        reject(train.precision.span, "`precision f64`");
    }
    if let Some(search) = &net.search {
        reject(Some(search.span), "`search`");
    }
    if let Some(ensemble) = &net.ensemble {
        reject(Some(ensemble.span), "`ensemble`");
    }
    found
}
