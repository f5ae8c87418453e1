//! The `data` block: sources, validation split, scaling, preprocessing and augmentation.

mod targets;

use netc_syntax::ast::{Block, Item, SubBlock, Value, ValueKind};
use netc_syntax::{Diagnostic, ErrorCode, Span};

use crate::args::{self, Args, Signature};
use crate::ctx::Ctx;
use crate::ir::{
    Augment, Data, Flip, Input, Model, Preprocess, PreprocessKind, Source, SourceKind, Validation,
    ValidationSize,
};
use crate::items::{Items, Written};
use crate::names::{lookup, unknown};

pub(crate) const ITEMS: &[&str] = &[
    "train",
    "test",
    "validation",
    "scale",
    "preprocess",
    "augment",
];
const SETTINGS: Items = Items {
    names: ITEMS,
    what: "data setting",
    elsewhere: &[("train", crate::train::ITEMS)],
};
const AUGMENTS: Items = Items {
    names: &["shift", "rotate", "scale", "flip"],
    what: "augmentation",
    elsewhere: &[],
};
const SOURCES: &[(&str, ())] = &[("idx", ()), ("csv", ())];

const PREPROCESS: &[(&str, PreprocessKind)] = &[
    ("none", PreprocessKind::None),
    ("mean_image", PreprocessKind::MeanImage),
    ("channel_mean", PreprocessKind::ChannelMean),
    ("standardize", PreprocessKind::Standardize),
];

const FLIPS: &[(&str, Flip)] = &[
    ("horizontal", Flip::Horizontal),
    ("vertical", Flip::Vertical),
    ("both", Flip::Both),
];

/// `None` when the block has errors (already reported). `model` (absent when the model block
/// has errors) is needed for the image-only augmentation and the loss-versus-targets checks.
pub(crate) fn analyze(ctx: &mut Ctx, block: &Block, model: Option<&Model>) -> Option<Data> {
    let input = model.map(|m| &m.input);
    let errors_before = ctx.diags.len();
    let mut written = Written::default();
    let mut train = None;
    let mut test = None;
    let mut validation = Validation {
        size: ValidationSize::None,
        span: None,
    };
    let mut scale = 1.0;
    let mut scale_span = None;
    let mut preprocess = Preprocess {
        kind: PreprocessKind::None,
        span: None,
    };
    let mut augment = None;

    for item in &block.items {
        let name = item.name.name.as_str();
        if !written.admit(ctx, &SETTINGS, name, item.name.span) {
            continue;
        }
        match name {
            "train" => train = read_source(ctx, item),
            "test" => test = read_source(ctx, item),
            "validation" => {
                if let Some(size) = read_validation(ctx, item) {
                    validation = Validation {
                        size,
                        span: Some(item.span),
                    };
                }
            }
            "scale" => {
                if let Some(factor) = read_scale(ctx, item) {
                    scale = factor;
                    scale_span = Some(item.span);
                }
            }
            "preprocess" => {
                let kind = args::single(
                    ctx,
                    item,
                    &item.args,
                    "a method",
                    "expected e.g. `standardize`",
                )
                .and_then(|value| args::word(ctx, value, "preprocess"))
                .and_then(|(w, s)| lookup(ctx, PREPROCESS, w, s, "preprocessing"));
                if let Some(kind) = kind {
                    preprocess = Preprocess {
                        kind,
                        span: Some(item.span),
                    };
                }
            }
            _ => augment = read_augment(ctx, item, input),
        }
    }
    if !written.contains("train") {
        ctx.report(
            Diagnostic::error(ErrorCode::Missing, "the `data` block has no `train` source")
                .with_primary(block.keyword_span, "this block")
                .with_note("help: add `train idx(\"images.gz\", \"labels.gz\")` or `train csv(\"file.csv\")`"),
        );
    }
    if let (Some(model), Some(train)) = (model, &train) {
        targets::check(ctx, model, train, test.as_ref());
    }
    if ctx.diags.len() > errors_before {
        return None;
    }
    Some(Data {
        train: train?,
        test,
        validation,
        scale,
        scale_span,
        preprocess,
        augment,
    })
}

fn read_source(ctx: &mut Ctx, item: &Item) -> Option<Source> {
    let value = args::single(
        ctx,
        item,
        &item.args,
        "a source",
        "expected `idx(…)` or `csv(…)`",
    )?;
    let ValueKind::Call(call) = &value.kind else {
        args::wrong_kind(
            ctx,
            value,
            "a data source",
            "`idx(\"images\", \"labels\")` or `csv(\"file.csv\")`",
        );
        return None;
    };
    let kind = match call.name.name.as_str() {
        "idx" => {
            let args = Args::call(ctx, call, &["images", "labels"]);
            let images = path(ctx, args.param(0, "images"), call.span, "idx", "images")?;
            let labels = path(ctx, args.param(1, "labels"), call.span, "idx", "labels")?;
            SourceKind::Idx { images, labels }
        }
        "csv" => {
            let args = Args::call(ctx, call, &["path", "label", "header", "targets"]);
            let path = path(ctx, args.param(0, "path"), call.span, "csv", "path")?;
            let label = args.param(1, "label");
            let label_column = match label {
                Some(v) => column(ctx, v, "the label column")?,
                None => -1,
            };
            let header = match args.param(2, "header") {
                Some(v) => boolean(ctx, v, "header")?,
                None => true,
            };
            let targets = match args.param(3, "targets") {
                Some(v) => Some(targets::columns(ctx, v, label)?),
                None => None,
            };
            SourceKind::Csv {
                path,
                label_column,
                header,
                targets,
            }
        }
        other => {
            ctx.report(unknown(
                other,
                call.name.span,
                "data source",
                SOURCES.iter().map(|(n, _)| *n),
            ));
            return None;
        }
    };
    Some(Source {
        kind,
        span: value.span,
    })
}

fn path(
    ctx: &mut Ctx,
    value: Option<&Value>,
    call_span: Span,
    call: &str,
    param: &str,
) -> Option<String> {
    match value.map(|v| (&v.kind, v)) {
        Some((ValueKind::Str(s), _)) if !s.is_empty() => Some(s.clone()),
        Some((_, v)) => {
            args::wrong_kind(
                ctx,
                v,
                &format!("`{param}` of `{call}`"),
                "a non-empty string path",
            );
            None
        }
        None => {
            ctx.error(
                ErrorCode::Missing,
                call_span,
                format!("`{call}` needs its `{param}` path"),
                "missing path",
            );
            None
        }
    }
}

/// A column index (negative counts from the end), e.g. the `label=` of `csv(…)`.
fn column(ctx: &mut Ctx, value: &Value, what: &str) -> Option<i64> {
    let ValueKind::Number(n) = &value.kind else {
        args::wrong_kind(ctx, value, what, "a column index such as `0` or `-1`");
        return None;
    };
    column_number(ctx, n, value.span, what)
}

fn column_number(
    ctx: &mut Ctx,
    n: &netc_syntax::ast::Number,
    span: Span,
    what: &str,
) -> Option<i64> {
    let magnitude = n
        .is_integer()
        .then(|| n.text.parse::<i64>().ok())
        .flatten()
        .filter(|m| *m <= 100_000);
    match magnitude {
        Some(m) => Some(if n.negative { -m } else { m }),
        None => {
            ctx.error(
                ErrorCode::OutOfRange,
                span,
                format!("{what} must be a whole number within ±100000"),
                "bad column",
            );
            None
        }
    }
}

fn boolean(ctx: &mut Ctx, value: &Value, what: &str) -> Option<bool> {
    match &value.kind {
        ValueKind::Word(w) if w == "true" => Some(true),
        ValueKind::Word(w) if w == "false" => Some(false),
        _ => {
            args::wrong_kind(ctx, value, what, "`true` or `false`");
            None
        }
    }
}

fn read_validation(ctx: &mut Ctx, item: &Item) -> Option<ValidationSize> {
    let value = args::single(
        ctx,
        item,
        &item.args,
        "a size",
        "expected e.g. `5000` or `10%`",
    )?;
    match &value.kind {
        ValueKind::Number(n) => Some(ValidationSize::Count(args::integer(
            ctx,
            n,
            "the validation size",
            1,
            u32::MAX as u64,
        )? as usize)),
        ValueKind::Percent(n) => {
            let percent = args::number_value(ctx, n, "the validation percentage")?;
            if percent > 0.0 && percent < 100.0 {
                Some(ValidationSize::Fraction(percent / 100.0))
            } else {
                ctx.report(
                    Diagnostic::error(
                        ErrorCode::OutOfRange,
                        format!(
                            "the validation split must be between 0% and 100%, found {percent}%"
                        ),
                    )
                    .with_primary(value.span, "nothing would be left to train on")
                    .with_note("help: a typical split is `validation 10%`"),
                );
                None
            }
        }
        _ => {
            args::wrong_kind(ctx, value, "the validation size", "a count or a percentage");
            None
        }
    }
}

fn read_scale(ctx: &mut Ctx, item: &Item) -> Option<f64> {
    let value = args::single(ctx, item, &item.args, "a factor", "expected e.g. `1/255`")?;
    let factor = match &value.kind {
        ValueKind::Number(n) => args::number_value(ctx, n, "the scale")?,
        ValueKind::Ratio(a, b) => {
            args::number_value(ctx, a, "the scale")? / args::number_value(ctx, b, "the scale")?
        }
        _ => {
            args::wrong_kind(
                ctx,
                value,
                "the scale",
                "a number or a ratio such as `1/255`",
            );
            return None;
        }
    };
    if factor.is_finite() && factor > 0.0 {
        Some(factor)
    } else {
        ctx.error(
            ErrorCode::OutOfRange,
            value.span,
            "the scale must be a positive, finite factor",
            "bad scale",
        );
        None
    }
}

fn read_augment(ctx: &mut Ctx, item: &Item, input: Option<&Input>) -> Option<Augment> {
    let args = Args::item(
        ctx,
        "augment",
        &item.args,
        &Signature {
            positional: 0,
            named: &[],
            block: true,
        },
    );
    let Some(block) = args.block() else {
        ctx.error(
            ErrorCode::Missing,
            item.span,
            "`augment` needs a `{ … }` block",
            "expected `augment { shift 2 }`",
        );
        return None;
    };
    if let Some(input) = input.filter(|i| !i.is_image()) {
        ctx.report(
            Diagnostic::error(ErrorCode::NotAnImage, "augmentation needs image input")
                .with_primary(item.name.span, "augmenting here")
                .with_secondary(input.span, "the input is a flat feature vector")
                .with_note(
                    "help: write the input as height x width x channels, e.g. `input 28x28x1`",
                ),
        );
        return None;
    }
    read_augment_block(ctx, block)
}

fn read_augment_block(ctx: &mut Ctx, block: &SubBlock) -> Option<Augment> {
    let mut augment = Augment {
        shift: 0,
        rotate_deg: 0.0,
        scale: (1.0, 1.0),
        flip: None,
        span: block.span,
    };
    let mut written = Written::default();
    for item in &block.items {
        let name = item.name.name.as_str();
        if !written.admit(ctx, &AUGMENTS, name, item.name.span) {
            continue;
        }
        let Some(value) = args::single(ctx, item, &item.args, "a value", "missing value") else {
            continue;
        };
        match name {
            "shift" => {
                if let Some(n) = args::count(ctx, value, "the shift in pixels", 0, 10_000) {
                    augment.shift = n as u32;
                }
            }
            "rotate" => {
                let degrees = match &value.kind {
                    ValueKind::Quantity(q) if q.unit == netc_syntax::ast::Unit::Deg => {
                        args::number_value(ctx, &q.amount, "the rotation")
                            .filter(|d| check_degrees(ctx, *d, value.span))
                    }
                    ValueKind::Number(n) => args::number_value(ctx, n, "the rotation")
                        .filter(|d| check_degrees(ctx, *d, value.span)),
                    _ => {
                        args::wrong_kind(ctx, value, "the rotation", "degrees such as `10deg`");
                        None
                    }
                };
                if let Some(degrees) = degrees {
                    augment.rotate_deg = degrees;
                }
            }
            "scale" => {
                if let Some(range) = zoom_range(ctx, value) {
                    augment.scale = range;
                }
            }
            _ => {
                augment.flip = args::word(ctx, value, "the flip")
                    .and_then(|(w, s)| lookup(ctx, FLIPS, w, s, "flip direction"))
            }
        }
    }
    Some(augment)
}

fn check_degrees(ctx: &mut Ctx, degrees: f64, span: Span) -> bool {
    let ok = (0.0..=180.0).contains(&degrees);
    if !ok {
        ctx.error(
            ErrorCode::OutOfRange,
            span,
            "the rotation must be within 0..180 degrees",
            "out of range",
        );
    }
    ok
}

fn zoom_range(ctx: &mut Ctx, value: &Value) -> Option<(f64, f64)> {
    let ValueKind::Range(lo, hi) = &value.kind else {
        args::wrong_kind(ctx, value, "the zoom", "a range such as `0.9..1.1`");
        return None;
    };
    let (lo, hi) = (
        args::number_value(ctx, lo, "the zoom")?,
        args::number_value(ctx, hi, "the zoom")?,
    );
    if lo > 0.0 && lo <= hi {
        Some((lo, hi))
    } else {
        ctx.error(
            ErrorCode::OutOfRange,
            value.span,
            "the zoom range must satisfy 0 < low <= high",
            "bad range",
        );
        None
    }
}
