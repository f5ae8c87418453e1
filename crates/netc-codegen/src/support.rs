//! What the generated trainer honours today, and one `NotYetSupported` diagnostic for every
//! construct it does not: a spec is never trained with a setting silently ignored.

use netc_sema::ir;
use netc_syntax::{Diagnostic, ErrorCode, Span};

const WHAT_WORKS: &str = "the generated trainer supports today: dense layers (relu, tanh, sigmoid, identity), \
softmax and logistic losses, sgd and momentum with a constant mu, a constant learning rate, \
idx/csv data with scale and a validation split";

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
    for layer in &model.layers {
        match layer.kind {
            ir::LayerKind::Dense { .. } => {}
            ir::LayerKind::Dropout { .. } => reject(Some(layer.span), "`dropout` layer"),
            ir::LayerKind::BatchNorm { .. } => reject(Some(layer.span), "`batchnorm` layer"),
        }
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
        ir::OptimizerKind::Sgd => {}
        ir::OptimizerKind::Momentum { mu } => {
            if mu.over.is_some() || mu.start != mu.end {
                reject(optimizer, "a momentum schedule (`mu=a->b over …`)");
            }
        }
        ir::OptimizerKind::Nesterov { .. } => reject(optimizer, "`nesterov` optimizer"),
        ir::OptimizerKind::Adagrad { .. } => reject(optimizer, "`adagrad` optimizer"),
        ir::OptimizerKind::Rmsprop { .. } => reject(optimizer, "`rmsprop` optimizer"),
        ir::OptimizerKind::Adam { .. } => reject(optimizer, "`adam` optimizer"),
        ir::OptimizerKind::Lbfgs { .. } => reject(optimizer, "`lbfgs` optimizer"),
        ir::OptimizerKind::Newton { .. } => reject(optimizer, "`newton` optimizer"),
    }
    let lr = &train.learning_rate;
    if lr.schedule != ir::ScheduleKind::Constant {
        let name = match lr.schedule {
            ir::ScheduleKind::Constant => "constant",
            ir::ScheduleKind::Linear { .. } => "linear",
            ir::ScheduleKind::Step { .. } => "step",
            ir::ScheduleKind::Exponential { .. } => "exponential",
            ir::ScheduleKind::Cosine { .. } => "cosine",
        };
        reject(
            lr.schedule_span.or(lr.span),
            &format!("`{name}` learning-rate schedule"),
        );
    }
    let reg = &train.regularize;
    if reg.l2.is_some() || reg.l1.is_some() || reg.maxnorm.is_some() || reg.include_bias {
        reject(reg.span, "`regularize`");
    }
    if let Some(early) = &train.early_stopping {
        reject(Some(early.span), "`early_stopping`");
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
