//! The `model` block: the name, the input, the layers (shapes, parameters, FLOPs) and the loss.

use netc_syntax::ast::{Block, BlockKind, Call, Item, Value, ValueKind};
use netc_syntax::{Diagnostic, ErrorCode, Span};

use crate::args::{self, Args, Signature};
use crate::ctx::Ctx;
use crate::ir::{Activation, Init, Input, Layer, LayerKind, Loss, LossKind, Model};
use crate::items::Items;
use crate::limits::{MAX_FEATURES, MAX_LAYERS, MAX_PARAMS};
use crate::names::{CARGO_RESERVED, RUST_KEYWORDS, lookup, suggest, unknown};
use crate::summary::thousands;

pub(crate) const LAYERS: &[&str] = &["input", "dense", "dropout", "batchnorm", "loss"];
const LAYER_ITEMS: Items = Items {
    names: LAYERS,
    what: "layer",
    elsewhere: &[("train", crate::train::ITEMS), ("data", crate::data::ITEMS)],
};

const ACTIVATIONS: &[(&str, Activation)] = &[
    ("identity", Activation::Identity),
    ("linear", Activation::Identity),
    ("relu", Activation::Relu),
    ("tanh", Activation::Tanh),
    ("sigmoid", Activation::Sigmoid),
];

const LOSSES: &[(&str, LossKind)] = &[
    ("softmax", LossKind::Softmax),
    ("logistic", LossKind::Logistic),
    ("mse", LossKind::Mse),
];

const INIT_WORDS: &[(&str, Init)] = &[
    ("zeros", Init::Zeros),
    ("xavier", Init::Xavier),
    ("glorot", Init::Glorot),
    ("he", Init::He),
    ("normal", Init::Normal { std: 0.01 }),
    ("uniform", Init::Uniform { a: 0.05 }),
];

/// Reported once, at the first layer past the limit; later layers are not read.
fn too_many_layers(ctx: &mut Ctx, span: Span) {
    ctx.report(
        Diagnostic::error(
            ErrorCode::TooLarge,
            format!("a model has at most {MAX_LAYERS} layers (dense, dropout and batchnorm)"),
        )
        .with_primary(span, format!("layer {} of the model", MAX_LAYERS + 1))
        .with_note(
            "the limit keeps the generated trainer's code, and its build, bounded \
             (every layer is code of its own)",
        ),
    );
}

pub(crate) fn analyze(ctx: &mut Ctx, block: &Block) -> Option<Model> {
    let BlockKind::Model { name } = &block.kind else {
        return None;
    };
    let name_ok = check_name(ctx, &name.name, name.span);

    let mut input: Option<(Input, Span)> = None;
    let mut loss: Option<Loss> = None;
    let mut layers: Vec<Layer> = Vec::new();
    let mut features: Option<usize> = None;
    let mut shapes_ok = true;
    let mut dense_written = false;
    let mut layer_items = 0usize;

    for item in &block.items {
        match item.name.name.as_str() {
            "input" => {
                if let Some((_, first)) = &input {
                    ctx.duplicate("`input`", *first, item.name.span);
                    continue;
                }
                if !layers.is_empty() {
                    ctx.error(
                        ErrorCode::Syntax,
                        item.span,
                        "`input` must come before the layers",
                        "written after a layer",
                    );
                }
                match read_input(ctx, item) {
                    Some(parsed) => {
                        features = Some(parsed.features());
                        input = Some((parsed, item.name.span));
                    }
                    None => {
                        shapes_ok = false;
                        input = Some((
                            Input {
                                dims: vec![1],
                                span: item.span,
                            },
                            item.name.span,
                        ));
                    }
                }
            }
            "loss" => {
                if let Some(first) = &loss {
                    ctx.duplicate("`loss`", first.span, item.span);
                    continue;
                }
                loss = read_loss(ctx, item);
            }
            "dense" | "dropout" | "batchnorm" => {
                layer_items += 1;
                if layer_items > MAX_LAYERS {
                    if layer_items == MAX_LAYERS + 1 {
                        too_many_layers(ctx, item.span);
                    }
                    shapes_ok = false;
                    continue;
                }
                dense_written |= item.name.name == "dense";
                if loss.is_some() {
                    ctx.error(
                        ErrorCode::Syntax,
                        item.span,
                        "layers must come before `loss`",
                        "written after the loss",
                    );
                }
                let inputs = features.unwrap_or(1);
                match read_layer(ctx, item, inputs) {
                    Some(layer) => {
                        features = Some(layer.outputs);
                        layers.push(layer);
                    }
                    None => shapes_ok = false,
                }
            }
            other => ctx.report(LAYER_ITEMS.unknown(other, item.name.span)),
        }
    }

    let Some((input, _)) = input else {
        ctx.report(
            Diagnostic::error(ErrorCode::Missing, "the model has no `input`")
                .with_primary(name.span, "this model")
                .with_note("help: add `input 784` (features) or `input 28x28x1` (height x width x channels)"),
        );
        return None;
    };
    let Some(loss) = loss else {
        ctx.report(
            Diagnostic::error(ErrorCode::Missing, "the model has no `loss`")
                .with_primary(name.span, "this model")
                .with_note(
                    "help: end the model with `loss softmax`, `loss logistic` or `loss mse`",
                ),
        );
        return None;
    };
    if !dense_written {
        ctx.error(
            ErrorCode::Missing,
            name.span,
            "the model has no `dense` layer",
            "this model",
        );
        return None;
    }
    if !shapes_ok || !name_ok {
        return None;
    }
    check_loss_fits(ctx, &loss, &layers)?;

    let total_params = layers.iter().map(|l| l.params).sum::<usize>();
    if total_params > MAX_PARAMS {
        ctx.error(
            ErrorCode::TooLarge,
            name.span,
            format!(
                "the model has {} parameters; the limit is {}",
                thousands(total_params as u64),
                thousands(MAX_PARAMS as u64)
            ),
            "too large",
        );
        return None;
    }
    let forward_flops = layers.iter().map(|l| l.flops).sum();
    let train_flops = train_flops(&layers);
    Some(Model {
        name: name.name.clone(),
        name_span: name.span,
        input,
        layers,
        loss,
        total_params,
        forward_flops,
        train_flops,
    })
}

/// Matmul FLOPs of one training step per sample, as the peer benchmarks count them:
/// forward 2·in·out, weight gradient 2·in·out, input gradient 2·in·out except for the first
/// dense layer (nothing needs the gradient of the data).
fn train_flops(layers: &[Layer]) -> u64 {
    let mut total = 0u64;
    let mut first = true;
    for layer in layers {
        if let LayerKind::Dense { .. } = layer.kind {
            let mac = layer.inputs as u64 * layer.outputs as u64;
            total += if first { 4 * mac } else { 6 * mac };
            first = false;
        }
    }
    total
}

fn check_name(ctx: &mut Ctx, name: &str, span: Span) -> bool {
    let valid_chars = name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let problem = if name.is_empty() || name == "_" {
        Some("is not a usable name".to_string())
    } else if !valid_chars {
        Some("must be lowercase: letters, digits and `_`, not starting with a digit".to_string())
    } else if RUST_KEYWORDS.contains(&name) {
        Some("is a Rust keyword".to_string())
    } else if CARGO_RESERVED.contains(&name) {
        Some("is reserved by cargo for its own directories".to_string())
    } else {
        None
    };
    let Some(problem) = problem else { return true };
    let fixed = name.to_lowercase();
    let taken = |n: &str| RUST_KEYWORDS.contains(&n) || CARGO_RESERVED.contains(&n);
    let hint = if taken(&fixed) || fixed.is_empty() || fixed == "_" {
        format!("{fixed}_net")
    } else {
        fixed
    };
    ctx.report(
        Diagnostic::error(
            ErrorCode::InvalidName,
            format!("the model name `{name}` {problem}"),
        )
        .with_primary(span, "invalid model name")
        .with_note(
            "the model name becomes a Rust module name in generated code and the trainer binary's name",
        )
        .with_note(format!("help: try `{hint}`")),
    );
    false
}

fn read_input(ctx: &mut Ctx, item: &Item) -> Option<Input> {
    let value = layer_value(
        ctx,
        item,
        "a size",
        "expected `input 784` or `input 28x28x1`",
    )?;
    let dims = match &value.kind {
        ValueKind::Number(n) => {
            vec![args::integer(ctx, n, "the input size", 1, MAX_FEATURES as u64)? as usize]
        }
        ValueKind::Dims(numbers) if numbers.len() == 3 => {
            let mut dims = Vec::new();
            for n in numbers {
                dims.push(
                    args::integer(ctx, n, "an input dimension", 1, MAX_FEATURES as u64)? as usize,
                );
            }
            dims
        }
        ValueKind::Dims(_) => {
            ctx.error(
                ErrorCode::OutOfRange,
                value.span,
                "image input is written height x width x channels",
                "expected three dimensions",
            );
            return None;
        }
        _ => {
            args::wrong_kind(ctx, value, "the input size", "a number or `HxWxC`");
            return None;
        }
    };
    let features = dims
        .iter()
        .try_fold(1usize, |acc, d| acc.checked_mul(*d))
        .unwrap_or(usize::MAX);
    if features > MAX_FEATURES {
        ctx.error(
            ErrorCode::OutOfRange,
            value.span,
            format!(
                "the input has {} features; the limit is {}",
                thousands(features as u64),
                thousands(MAX_FEATURES as u64)
            ),
            "too many features",
        );
        return None;
    }
    Some(Input {
        dims,
        span: value.span,
    })
}

/// `input`, `loss` and `dropout` take one value; a bare word after it is a misspelt next layer.
fn layer_value<'a>(ctx: &mut Ctx, item: &'a Item, what: &str, label: &str) -> Option<&'a Value> {
    let own = args::without_stray_item(ctx, item, 1, LAYERS, "layer");
    args::single(ctx, item, own, what, label)
}

fn read_loss(ctx: &mut Ctx, item: &Item) -> Option<Loss> {
    let value = layer_value(
        ctx,
        item,
        "a kind",
        "expected `softmax`, `logistic` or `mse`",
    )?;
    let (name, span) = args::word(ctx, value, "the loss")?;
    let kind = lookup(ctx, LOSSES, name, span, "loss")?;
    Some(Loss {
        kind,
        span: item.span,
    })
}

fn read_layer(ctx: &mut Ctx, item: &Item, inputs: usize) -> Option<Layer> {
    let (kind, outputs, params, flops) = match item.name.name.as_str() {
        "dense" => {
            let kind = read_dense(ctx, item)?;
            let LayerKind::Dense {
                units, activation, ..
            } = &kind
            else {
                return None;
            };
            let units = *units;
            let params = inputs
                .checked_mul(units)
                .and_then(|w| w.checked_add(units))
                .unwrap_or(usize::MAX);
            let activation_flops = if *activation == Activation::Identity {
                0
            } else {
                units as u64
            };
            let flops = 2 * inputs as u64 * units as u64 + units as u64 + activation_flops;
            (kind, units, params, flops)
        }
        "dropout" => {
            let value = layer_value(
                ctx,
                item,
                "its drop probability",
                "expected e.g. `dropout 0.5`",
            )?;
            let p = args::float(ctx, value, "the dropout probability")?;
            if !(0.0..1.0).contains(&p) {
                ctx.report(
                    Diagnostic::error(
                        ErrorCode::OutOfRange,
                        format!("dropout probability must be in [0, 1), found {p}"),
                    )
                    .with_primary(value.span, "out of range")
                    .with_note(
                        "dropout takes the DROP probability: `dropout 0.5` drops half the units",
                    ),
                );
                return None;
            }
            (LayerKind::Dropout { p }, inputs, 0, inputs as u64)
        }
        _ => {
            let own = args::without_stray_item(ctx, item, 0, LAYERS, "layer");
            let args = Args::item(
                ctx,
                "batchnorm",
                own,
                &Signature::with_named(0, &["momentum", "eps"]),
            );
            let momentum = args
                .get("momentum")
                .and_then(|v| {
                    args::float_where(ctx, v, "batchnorm momentum", "in [0, 1)", |x| {
                        (0.0..1.0).contains(&x)
                    })
                })
                .unwrap_or(0.9);
            let eps = args
                .get("eps")
                .and_then(|v| args::float_where(ctx, v, "batchnorm eps", "> 0", |x| x > 0.0))
                .unwrap_or(1e-5);
            (
                LayerKind::BatchNorm { momentum, eps },
                inputs,
                2 * inputs,
                4 * inputs as u64,
            )
        }
    };
    Some(Layer {
        kind,
        inputs,
        outputs,
        params,
        flops,
        span: item.span,
    })
}

fn read_dense(ctx: &mut Ctx, item: &Item) -> Option<LayerKind> {
    let own = args::without_stray_item(ctx, item, 2, LAYERS, "layer");
    let args = Args::item(
        ctx,
        "dense",
        own,
        &Signature::with_named(2, &["init", "bias"]),
    );
    let size = args.required(
        ctx,
        item,
        "a number of units",
        "expected e.g. `dense 128 relu`",
    )?;
    let units = args::count(ctx, size, "the number of units", 1, MAX_FEATURES as u64);
    let (activation, activation_span) = match args.positional(1) {
        Some(value) => {
            let (name, span) = args::word(ctx, value, "the activation")?;
            match ACTIVATIONS.iter().find(|(n, _)| *n == name) {
                Some((_, a)) => (Some(*a), span),
                None => {
                    let mut diagnostic = unknown(
                        name,
                        span,
                        "activation",
                        ACTIVATIONS.iter().map(|(n, _)| *n),
                    );
                    if let Some(layer) = suggest(name, LAYERS.iter().copied()) {
                        diagnostic = diagnostic.with_note(format!(
                            "if `{name}` was meant as the next layer `{layer}`, spell it `{layer}`"
                        ));
                    }
                    ctx.report(diagnostic);
                    (None, span)
                }
            }
        }
        None => (Some(Activation::Identity), item.name.span),
    };
    let default_init = if activation == Some(Activation::Relu) {
        Init::He
    } else {
        Init::Xavier
    };
    let init = args
        .get("init")
        .map(|v| read_init(ctx, v, "initializer"))
        .unwrap_or(Some(default_init));
    let bias_init = args
        .get("bias")
        .map(|v| read_init(ctx, v, "bias initializer"))
        .unwrap_or(Some(Init::Zeros));
    Some(LayerKind::Dense {
        units: units? as usize,
        activation: activation?,
        init: init?,
        bias_init: bias_init?,
        activation_span,
    })
}

/// `he`, `zeros`, `normal(std=0.01)`, `uniform(a=0.05)`, `normal(0.01)`.
fn read_init(ctx: &mut Ctx, value: &Value, what: &str) -> Option<Init> {
    match &value.kind {
        ValueKind::Word(name) => lookup(ctx, INIT_WORDS, name, value.span, what),
        ValueKind::Number(n) if n.to_f64() == 0.0 => Some(Init::Zeros),
        ValueKind::Call(call) => match call.name.name.as_str() {
            "normal" => positive_param(ctx, call, "std", 0.01).map(|std| Init::Normal { std }),
            "uniform" => positive_param(ctx, call, "a", 0.05).map(|a| Init::Uniform { a }),
            other => {
                ctx.report(unknown(
                    other,
                    call.name.span,
                    what,
                    INIT_WORDS.iter().map(|(n, _)| *n),
                ));
                None
            }
        },
        _ => {
            args::wrong_kind(
                ctx,
                value,
                &format!("the {what}"),
                "a name such as `he` or `normal(std=0.01)`",
            );
            None
        }
    }
}

/// The one parameter of `normal(std)` / `uniform(a)`: a positive number, `default` if absent.
fn positive_param(ctx: &mut Ctx, call: &Call, param: &str, default: f64) -> Option<f64> {
    let args = Args::call(ctx, call, &[param]);
    match args.param(0, param) {
        Some(v) => args::float_where(ctx, v, param, "> 0", |x| x > 0.0),
        None => Some(default),
    }
}

fn check_loss_fits(ctx: &mut Ctx, loss: &Loss, layers: &[Layer]) -> Option<()> {
    let last = layers.last()?;
    let LayerKind::Dense {
        units,
        activation,
        activation_span,
        ..
    } = &last.kind
    else {
        if loss.kind != LossKind::Mse {
            ctx.report(
                Diagnostic::error(
                    ErrorCode::LossMismatch,
                    "the last layer before a classification loss must be `dense`",
                )
                .with_primary(last.span, "not a dense layer")
                .with_secondary(
                    loss.span,
                    "this loss reads the last layer's outputs as scores",
                ),
            );
            return None;
        }
        return Some(());
    };
    if loss.kind == LossKind::Softmax && *units < 2 {
        ctx.report(
            Diagnostic::error(
                ErrorCode::LossMismatch,
                "softmax needs at least 2 output units",
            )
            .with_primary(last.span, "this layer has 1 unit")
            .with_secondary(loss.span, "softmax over one unit is always 1")
            .with_note(
                "help: use `loss logistic` for one yes/no output, or `dense 2` with softmax",
            ),
        );
        return None;
    }
    if loss.kind != LossKind::Mse && *activation != Activation::Identity {
        ctx.report(
            Diagnostic::error(
                ErrorCode::LossMismatch,
                "the output layer of a softmax or logistic loss takes no activation",
            )
            .with_primary(*activation_span, "remove this activation")
            .with_secondary(
                loss.span,
                "the loss applies its own softmax/sigmoid to the raw scores",
            ),
        );
        return None;
    }
    Some(())
}
