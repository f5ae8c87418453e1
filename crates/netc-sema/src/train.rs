//! The `train` block: every setting, with defaults filled in, and the cross-checks
//! against the model (lbfgs/newton need `batch full`, newton's size limit).

use netc_syntax::ast::{Block, Item, Value, ValueKind};
use netc_syntax::{Diagnostic, ErrorCode, Span};

use crate::args::{self, Args, Signature};
use crate::ctx::Ctx;
use crate::ir::*;
use crate::items::{Items, Written};
use crate::limits::{self, NEWTON_MAX_PARAMS};
use crate::names::{lookup, unknown};
use crate::summary::thousands;

pub(crate) const ITEMS: &[&str] = &[
    "epochs",
    "batch",
    "sampling",
    "optimizer",
    "learning_rate",
    "regularize",
    "early_stopping",
    "monitor",
    "precision",
    "seed",
    "save_every",
];
const SETTINGS: Items = Items {
    names: ITEMS,
    what: "train setting",
    elsewhere: &[
        ("data", crate::data::ITEMS),
        ("model", crate::model::LAYERS),
    ],
};
const OPTIMIZERS: &[&str] = &[
    "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "lbfgs", "newton",
];
const SCHEDULES: &[&str] = &["constant", "linear", "step", "exponential", "cosine"];
const REGULARIZERS: Items = Items {
    names: &["l2", "l1", "maxnorm", "include_bias"],
    what: "regularizer",
    elsewhere: &[],
};
const SAMPLINGS: &[(&str, SamplingKind)] = &[
    ("shuffle", SamplingKind::Shuffle),
    ("with_replacement", SamplingKind::WithReplacement),
    ("sequential", SamplingKind::Sequential),
];
const METRICS: &[(&str, Metric)] = &[
    ("val_loss", Metric::ValLoss),
    ("val_accuracy", Metric::ValAccuracy),
    ("train_loss", Metric::TrainLoss),
    ("train_accuracy", Metric::TrainAccuracy),
];
const PRECISIONS: &[(&str, PrecisionKind)] =
    &[("f32", PrecisionKind::F32), ("f64", PrecisionKind::F64)];

/// The defaults of a spec without a `train` block (see `grammar/README.md`).
pub(crate) fn defaults() -> Train {
    Train {
        epochs: 10,
        batch: Batch {
            size: BatchSize::Size(32),
            span: None,
        },
        sampling: Sampling {
            kind: SamplingKind::Shuffle,
            span: None,
        },
        optimizer: Optimizer {
            kind: OptimizerKind::Sgd,
            span: Span::default(),
        },
        learning_rate: LearningRate {
            base: 0.01,
            schedule: ScheduleKind::Constant,
            span: None,
            schedule_span: None,
        },
        regularize: Regularize {
            l2: None,
            l1: None,
            maxnorm: None,
            include_bias: false,
            span: None,
        },
        early_stopping: None,
        monitor: Monitor {
            grad_norm: false,
            curvature: false,
            every: Duration::Steps(100),
            span: None,
        },
        precision: Precision {
            kind: PrecisionKind::F32,
            span: None,
        },
        seed: 0,
        save_every: None,
    }
}

pub(crate) fn analyze(ctx: &mut Ctx, block: Option<&Block>, model: Option<&Model>) -> Train {
    let mut train = defaults();
    let Some(block) = block else { return train };
    let mut written = Written::default();
    let mut optimizer_written = false;
    for item in &block.items {
        let name = item.name.name.as_str();
        if !written.admit(ctx, &SETTINGS, name, item.name.span) {
            continue;
        }
        match name {
            "epochs" => {
                if let Some(v) = single(ctx, item, "a number of epochs") {
                    train.epochs =
                        args::limited(ctx, v, &limits::EPOCHS).map_or(train.epochs, |n| n as usize);
                }
            }
            "batch" => {
                if let Some(size) =
                    single(ctx, item, "a batch size or `full`").and_then(|v| batch(ctx, v))
                {
                    train.batch = Batch {
                        size,
                        span: Some(item.span),
                    };
                }
            }
            "sampling" => {
                let kind = single(ctx, item, "a sampling order")
                    .and_then(|v| args::word(ctx, v, "sampling"))
                    .and_then(|(w, s)| lookup(ctx, SAMPLINGS, w, s, "sampling order"));
                if let Some(kind) = kind {
                    train.sampling = Sampling {
                        kind,
                        span: Some(item.span),
                    };
                }
            }
            "optimizer" => {
                optimizer_written = true;
                if let Some(kind) =
                    single(ctx, item, "an optimizer").and_then(|v| optimizer(ctx, v))
                {
                    train.optimizer = Optimizer {
                        kind,
                        span: item.span,
                    };
                }
            }
            "learning_rate" => {
                if let Some(rate) = learning_rate(ctx, item) {
                    train.learning_rate = rate;
                }
            }
            "regularize" => train.regularize = regularize(ctx, item),
            "early_stopping" => train.early_stopping = early_stopping(ctx, item),
            "monitor" => {
                if let Some(monitor) = monitor(ctx, item) {
                    train.monitor = monitor;
                }
            }
            "precision" => {
                let kind = single(ctx, item, "`f32` or `f64`")
                    .and_then(|v| args::word(ctx, v, "precision"))
                    .and_then(|(w, s)| lookup(ctx, PRECISIONS, w, s, "precision"));
                if let Some(kind) = kind {
                    train.precision = Precision {
                        kind,
                        span: Some(item.span),
                    };
                }
            }
            "save_every" => {
                if let Some(v) = single(ctx, item, "a duration such as `500 steps`") {
                    train.save_every = args::duration(ctx, v, "save_every");
                }
            }
            _ => {
                if let Some(v) = single(ctx, item, "a seed") {
                    train.seed = args::count(ctx, v, "the seed", 0, u64::MAX).unwrap_or(0);
                }
            }
        }
    }
    if optimizer_written {
        check_second_order(ctx, &train, model);
    }
    train
}

/// The item's one positional value (reports the item's other arguments as unknown).
fn single<'a>(ctx: &mut Ctx, item: &'a Item, expected: &str) -> Option<&'a Value> {
    let own = args::without_stray_item(ctx, item, 1, ITEMS, "train setting");
    args::single(ctx, item, own, expected, &format!("expected {expected}"))
}

fn batch(ctx: &mut Ctx, value: &Value) -> Option<BatchSize> {
    match &value.kind {
        ValueKind::Word(w) if w == "full" => Some(BatchSize::Full),
        ValueKind::Number(n) => {
            if n.to_u64() == Some(0) {
                ctx.report(
                    Diagnostic::error(ErrorCode::OutOfRange, "the batch size must be at least 1")
                        .with_primary(value.span, "zero samples per step")
                        .with_note(
                            "help: write `batch full` to use the whole training set every step",
                        ),
                );
                return None;
            }
            args::limited(ctx, value, &limits::BATCH).map(|n| BatchSize::Size(n as usize))
        }
        _ => {
            args::wrong_kind(ctx, value, "the batch size", "a number or `full`");
            None
        }
    }
}

fn optimizer(ctx: &mut Ctx, value: &Value) -> Option<OptimizerKind> {
    let (name, name_span, call) = match &value.kind {
        ValueKind::Word(w) => (w.as_str(), value.span, None),
        ValueKind::Call(c) => (c.name.name.as_str(), c.name.span, Some(c)),
        _ => {
            args::wrong_kind(
                ctx,
                value,
                "the optimizer",
                "a name such as `sgd` or `adam(beta1=0.9)`",
            );
            return None;
        }
    };
    let params: &[&str] = match name {
        "sgd" => &[],
        "momentum" | "nesterov" => &["mu"],
        "adagrad" => &["eps"],
        "rmsprop" => &["decay", "eps"],
        "adam" => &["beta1", "beta2", "eps"],
        "lbfgs" => &["history", "tolerance"],
        "newton" => &["damping"],
        _ => {
            ctx.report(unknown(
                name,
                name_span,
                "optimizer",
                OPTIMIZERS.iter().copied(),
            ));
            return None;
        }
    };
    let empty = netc_syntax::ast::Call {
        name: netc_syntax::ast::Ident {
            name: name.to_string(),
            span: name_span,
        },
        args: Vec::new(),
        span: value.span,
    };
    let call = call.unwrap_or(&empty);
    let args = Args::call(ctx, call, params);
    let unit = |ctx: &mut Ctx, index: usize, param: &str, default: f64| -> Option<f64> {
        match args.param(index, param) {
            None => Some(default),
            Some(v) => args::float_where(ctx, v, param, "in [0, 1)", |x| (0.0..1.0).contains(&x)),
        }
    };
    let positive = |ctx: &mut Ctx, index: usize, param: &str, default: f64| -> Option<f64> {
        match args.param(index, param) {
            None => Some(default),
            Some(v) => args::float_where(ctx, v, param, "> 0", |x| x > 0.0),
        }
    };
    Some(match name {
        "sgd" => OptimizerKind::Sgd,
        "momentum" => OptimizerKind::Momentum {
            mu: momentum(ctx, args.param(0, "mu"))?,
        },
        "nesterov" => OptimizerKind::Nesterov {
            mu: momentum(ctx, args.param(0, "mu"))?,
        },
        "adagrad" => OptimizerKind::Adagrad {
            eps: positive(ctx, 0, "eps", 1e-8)?,
        },
        "rmsprop" => OptimizerKind::Rmsprop {
            decay: unit(ctx, 0, "decay", 0.9)?,
            eps: positive(ctx, 1, "eps", 1e-8)?,
        },
        "adam" => OptimizerKind::Adam {
            beta1: unit(ctx, 0, "beta1", 0.9)?,
            beta2: unit(ctx, 1, "beta2", 0.999)?,
            eps: positive(ctx, 2, "eps", 1e-8)?,
        },
        "lbfgs" => OptimizerKind::Lbfgs {
            history: match args.param(0, "history") {
                Some(v) => args::count(ctx, v, "history", 1, 1000)? as usize,
                None => 10,
            },
            tolerance: positive(ctx, 1, "tolerance", 1e-5)?,
        },
        _ => OptimizerKind::Newton {
            damping: match args.param(0, "damping") {
                Some(v) => args::float_where(ctx, v, "damping", ">= 0", |x| x >= 0.0)?,
                None => 1e-4,
            },
        },
    })
}

/// `mu=0.9` or `mu=0.5->0.99 over 10 epochs`.
fn momentum(ctx: &mut Ctx, value: Option<&Value>) -> Option<MomentumSchedule> {
    let in_range = |ctx: &mut Ctx, n: &netc_syntax::ast::Number| -> Option<f64> {
        let x = args::number_value(ctx, n, "mu")?;
        if (0.0..1.0).contains(&x) {
            Some(x)
        } else {
            ctx.error(
                ErrorCode::OutOfRange,
                n.span,
                format!("mu must be in [0, 1), found {x}"),
                "must be in [0, 1)",
            );
            None
        }
    };
    let Some(value) = value else {
        return Some(MomentumSchedule {
            start: 0.9,
            end: 0.9,
            over: None,
        });
    };
    match &value.kind {
        ValueKind::Number(n) => {
            let mu = in_range(ctx, n)?;
            Some(MomentumSchedule {
                start: mu,
                end: mu,
                over: None,
            })
        }
        ValueKind::Ramp {
            from,
            to: Some(to),
            over: Some(over),
        } => {
            let (start, end) = (in_range(ctx, from), in_range(ctx, to));
            let over = args::quantity_duration(ctx, over, "the ramp length");
            Some(MomentumSchedule {
                start: start?,
                end: end?,
                over: Some(over?),
            })
        }
        ValueKind::Ramp { to: None, .. } => {
            ctx.report(
                Diagnostic::error(
                    ErrorCode::Missing,
                    "a momentum schedule with `over` needs two values",
                )
                .with_primary(value.span, "only one value")
                .with_note("help: write `mu=0.5->0.99 over 10 epochs`, or just `mu=0.9`"),
            );
            None
        }
        ValueKind::Ramp { over: None, .. } => {
            ctx.report(
                Diagnostic::error(ErrorCode::Missing, "a momentum ramp needs its length")
                    .with_primary(value.span, "ramp without `over`")
                    .with_note("help: write `mu=0.5->0.99 over 10 epochs`"),
            );
            None
        }
        _ => {
            args::wrong_kind(
                ctx,
                value,
                "mu",
                "a number or a ramp such as `0.5->0.99 over 10 epochs`",
            );
            None
        }
    }
}

fn learning_rate(ctx: &mut Ctx, item: &Item) -> Option<LearningRate> {
    let args = Args::item(ctx, "learning_rate", &item.args, &Signature::values(2));
    let value = args.required(ctx, item, "a value", "expected e.g. `learning_rate 0.01`")?;
    let base = args::float(ctx, value, "the learning rate");
    if let Some(rate) = base.filter(|r| *r <= 0.0) {
        ctx.report(
            Diagnostic::error(
                ErrorCode::OutOfRange,
                format!("the learning rate must be > 0, found {rate}"),
            )
            .with_primary(value.span, "not a positive rate")
            .with_note("help: typical rates are 1e-3 to 0.1"),
        );
        return None;
    }
    let (schedule, schedule_span) = match args.positional(1) {
        None => (Some(ScheduleKind::Constant), None),
        Some(v) => (schedule(ctx, v), Some(v.span)),
    };
    Some(LearningRate {
        base: base?,
        schedule: schedule?,
        span: Some(item.span),
        schedule_span,
    })
}

fn schedule(ctx: &mut Ctx, value: &Value) -> Option<ScheduleKind> {
    let call = match &value.kind {
        ValueKind::Word(w) if w == "constant" => return Some(ScheduleKind::Constant),
        ValueKind::Word(w) => {
            ctx.report(unknown(
                w,
                value.span,
                "schedule",
                SCHEDULES.iter().copied(),
            ));
            return None;
        }
        ValueKind::Call(c) => c,
        _ => {
            args::wrong_kind(
                ctx,
                value,
                "the schedule",
                "a schedule such as `linear(to=1e-5, until=20000 steps)`",
            );
            return None;
        }
    };
    let missing = |ctx: &mut Ctx, param: &str| {
        ctx.error(
            ErrorCode::Missing,
            call.span,
            format!("`{}` needs `{param}`", call.name.name),
            format!("missing `{param}`"),
        );
    };
    let gamma = |ctx: &mut Ctx, v: &Value| {
        args::float_where(ctx, v, "gamma", "in (0, 1]", |x| x > 0.0 && x <= 1.0)
    };
    match call.name.name.as_str() {
        "linear" => {
            let args = Args::call(ctx, call, &["to", "until"]);
            let to = args
                .param(0, "to")
                .map(|v| args::float_where(ctx, v, "to", ">= 0", |x| x >= 0.0));
            let until = args
                .param(1, "until")
                .map(|v| args::duration(ctx, v, "until"));
            if to.is_none() {
                missing(ctx, "to");
            }
            if until.is_none() {
                missing(ctx, "until");
            }
            Some(ScheduleKind::Linear {
                to: to??,
                until: until??,
            })
        }
        "step" => {
            let args = Args::call(ctx, call, &["gamma", "every"]);
            let g = args.param(0, "gamma").map_or(Some(0.1), |v| gamma(ctx, v));
            let every = args
                .param(1, "every")
                .map(|v| args::duration(ctx, v, "every"));
            if every.is_none() {
                missing(ctx, "every");
            }
            Some(ScheduleKind::Step {
                gamma: g?,
                every: every??,
            })
        }
        "exponential" => {
            let args = Args::call(ctx, call, &["gamma", "per"]);
            let g = args.param(0, "gamma").map(|v| gamma(ctx, v));
            let per = args
                .param(1, "per")
                .map_or(Some(Duration::Epochs(1)), |v| args::duration(ctx, v, "per"));
            if g.is_none() {
                missing(ctx, "gamma");
            }
            Some(ScheduleKind::Exponential {
                gamma: g??,
                per: per?,
            })
        }
        "cosine" => {
            let args = Args::call(ctx, call, &["min", "period"]);
            let min = args.param(0, "min").map_or(Some(0.0), |v| {
                args::float_where(ctx, v, "min", ">= 0", |x| x >= 0.0)
            });
            let period = args
                .param(1, "period")
                .map(|v| args::duration(ctx, v, "period"));
            if period.is_none() {
                missing(ctx, "period");
            }
            Some(ScheduleKind::Cosine {
                min: min?,
                period: period??,
            })
        }
        other => {
            ctx.report(unknown(
                other,
                call.name.span,
                "schedule",
                SCHEDULES.iter().copied(),
            ));
            None
        }
    }
}

fn regularize(ctx: &mut Ctx, item: &Item) -> Regularize {
    let mut reg = Regularize {
        span: Some(item.span),
        ..defaults().regularize
    };
    let args = Args::item(
        ctx,
        "regularize",
        &item.args,
        &Signature::values(usize::MAX),
    );
    if args.positionals().is_empty() {
        ctx.error(
            ErrorCode::Missing,
            item.span,
            "`regularize` needs at least one term",
            "expected e.g. `l2(1e-4)`",
        );
    }
    let mut written = Written::default();
    for value in args.positionals() {
        let (name, span) = match &value.kind {
            ValueKind::Word(w) => (w.as_str(), value.span),
            ValueKind::Call(c) => (c.name.name.as_str(), c.name.span),
            _ => {
                args::wrong_kind(
                    ctx,
                    value,
                    "a regularizer",
                    "`l2(λ)`, `l1(λ)`, `maxnorm(c)` or `include_bias`",
                );
                continue;
            }
        };
        if !written.admit(ctx, &REGULARIZERS, name, span) {
            continue;
        }
        match (&value.kind, name) {
            (ValueKind::Word(_), "include_bias") => reg.include_bias = true,
            (ValueKind::Call(call), "l2" | "l1" | "maxnorm") => {
                let param = if name == "maxnorm" { "c" } else { "lambda" };
                let args = Args::call(ctx, call, &[param]);
                let strength = match args.param(0, param) {
                    Some(v) if name == "maxnorm" => {
                        args::float_where(ctx, v, "the max norm", "> 0", |x| x > 0.0)
                    }
                    Some(v) => {
                        args::float_where(ctx, v, "the regularization strength", ">= 0", |x| {
                            x >= 0.0
                        })
                    }
                    None => {
                        ctx.error(
                            ErrorCode::Missing,
                            call.span,
                            format!("`{name}` needs its strength"),
                            "e.g. `l2(1e-4)`",
                        );
                        None
                    }
                };
                match name {
                    "l2" => reg.l2 = strength,
                    "l1" => reg.l1 = strength,
                    _ => reg.maxnorm = strength,
                }
            }
            _ => ctx.error(
                ErrorCode::OutOfRange,
                value.span,
                format!(
                    "`{name}` is written `{}`",
                    if name == "include_bias" {
                        "include_bias".to_string()
                    } else {
                        format!("{name}(value)")
                    }
                ),
                "wrong form",
            ),
        }
    }
    reg
}

fn early_stopping(ctx: &mut Ctx, item: &Item) -> Option<EarlyStopping> {
    let args = Args::item(
        ctx,
        "early_stopping",
        &item.args,
        &Signature::with_named(1, &["patience", "monitor", "min_delta"]),
    );
    let patience = args.get("patience").map_or(Some(5), |v| {
        args::limited(ctx, v, &limits::PATIENCE).map(|n| n as usize)
    });
    let monitor = args.get("monitor").map_or(Some(Metric::ValLoss), |v| {
        args::word(ctx, v, "the metric").and_then(|(w, s)| lookup(ctx, METRICS, w, s, "metric"))
    });
    let min_delta = args.get("min_delta").map_or(Some(0.0), |v| {
        args::float_where(ctx, v, "min_delta", ">= 0", |x| x >= 0.0)
    });
    let restore_best = match args.positional(0) {
        None => Some(false),
        Some(v) => match &v.kind {
            ValueKind::Word(w) if w == "restore_best" => Some(true),
            _ => {
                ctx.error(
                    ErrorCode::UnknownArgument,
                    v.span,
                    "`early_stopping` takes only the flag `restore_best`",
                    "unexpected",
                );
                None
            }
        },
    };
    Some(EarlyStopping {
        patience: patience?,
        monitor: monitor?,
        min_delta: min_delta?,
        restore_best: restore_best?,
        span: item.span,
    })
}

fn monitor(ctx: &mut Ctx, item: &Item) -> Option<Monitor> {
    let args = Args::item(
        ctx,
        "monitor",
        &item.args,
        &Signature::with_named(2, &["every"]),
    );
    let mut monitor = Monitor {
        span: Some(item.span),
        ..defaults().monitor
    };
    for value in args.positionals() {
        match args::word(ctx, value, "a monitored quantity") {
            Some(("grad_norm", _)) => monitor.grad_norm = true,
            Some(("curvature", _)) => monitor.curvature = true,
            Some((other, span)) => ctx.report(unknown(
                other,
                span,
                "monitored quantity",
                ["grad_norm", "curvature"].into_iter(),
            )),
            None => {}
        }
    }
    if args.positionals().is_empty() {
        ctx.error(
            ErrorCode::Missing,
            item.span,
            "`monitor` needs `grad_norm` and/or `curvature`",
            "nothing to monitor",
        );
        return None;
    }
    if let Some(v) = args.get("every") {
        monitor.every = args::duration(ctx, v, "every")?;
    }
    Some(monitor)
}

/// lbfgs and newton work on the full gradient; newton inverts an exact Hessian.
fn check_second_order(ctx: &mut Ctx, train: &Train, model: Option<&Model>) {
    let name = match train.optimizer.kind {
        OptimizerKind::Lbfgs { .. } => "lbfgs",
        OptimizerKind::Newton { .. } => "newton",
        _ => {
            if train.batch.size == BatchSize::Full {
                let span = train.batch.span.unwrap_or(train.optimizer.span);
                ctx.report(
                    Diagnostic::error(
                        ErrorCode::Incompatible,
                        "`batch full` is the full-batch mode of `lbfgs` and `newton`",
                    )
                    .with_primary(span, "whole training set per step")
                    .with_secondary(train.optimizer.span, "a minibatch optimizer")
                    .with_note(
                        "help: use `optimizer lbfgs` or `newton`, or a batch size (full-batch \
                         gradient descent: `batch N` with N = the training set size)",
                    ),
                );
            }
            return;
        }
    };
    // Line searches and Hessians need one deterministic function of the parameters.
    if let Some(model) = model {
        for layer in &model.layers {
            let why = match layer.kind {
                LayerKind::Dropout { .. } => {
                    "dropout draws a new random network at every evaluation"
                }
                LayerKind::BatchNorm { .. } => {
                    "batch norm would normalize each chunk of the full batch by its own statistics"
                }
                LayerKind::Dense { .. } => continue,
            };
            ctx.report(
                Diagnostic::error(ErrorCode::Incompatible, format!("`{name}` cannot train this layer"))
                    .with_primary(layer.span, why)
                    .with_secondary(train.optimizer.span, format!("`{name}` minimizes a fixed full-batch loss"))
                    .with_note("help: remove the layer, or train with a minibatch optimizer (adam, momentum, …)"),
            );
        }
    }
    if let Some(early) = &train.early_stopping {
        ctx.report(
            Diagnostic::error(
                ErrorCode::Incompatible,
                format!("`{name}` does not stop early"),
            )
            .with_primary(
                early.span,
                "early stopping watches epochs of minibatch steps",
            )
            .with_secondary(
                train.optimizer.span,
                format!("`{name}` stops when the gradient is small"),
            )
            .with_note("help: remove `early_stopping`; bound the iterations with `epochs`"),
        );
    }
    if let (true, Some(span)) = (train.monitor.curvature, train.monitor.span) {
        ctx.report(
            Diagnostic::error(
                ErrorCode::Incompatible,
                format!("`{name}` has no curvature check"),
            )
            .with_primary(span, "compares a learning rate η with 2·gᵀg/gᵀHg")
            .with_secondary(
                train.optimizer.span,
                format!("`{name}` takes no fixed rate: its steps already follow the curvature"),
            )
            .with_note("help: remove `curvature` (`monitor grad_norm` works with lbfgs/newton)"),
        );
    }
    if let (Some(_), Some(span)) = (train.regularize.maxnorm, train.regularize.span) {
        ctx.report(
            Diagnostic::error(
                ErrorCode::Incompatible,
                format!("`{name}` cannot honour `maxnorm`"),
            )
            .with_primary(
                span,
                "max-norm is a projection after each minibatch step, not a loss",
            )
            .with_secondary(train.optimizer.span, format!("`{name}` minimizes the loss"))
            .with_note("help: use `l2` with lbfgs/newton, or a minibatch optimizer with maxnorm"),
        );
    }
    if let BatchSize::Size(size) = train.batch.size {
        let mut diagnostic = Diagnostic::error(
            ErrorCode::Incompatible,
            format!("`{name}` needs full-batch training"),
        )
        .with_primary(
            train.optimizer.span,
            format!("`{name}` uses exact gradients"),
        );
        diagnostic = match train.batch.span {
            Some(span) => diagnostic.with_secondary(span, format!("minibatches of {size}")),
            None => diagnostic.with_note(format!("the default batch is {size}")),
        };
        ctx.report(diagnostic.with_note("help: write `batch full`"));
    }
    if let (OptimizerKind::Newton { .. }, Some(model)) = (train.optimizer.kind, model)
        && model.total_params > NEWTON_MAX_PARAMS
    {
        ctx.report(
            Diagnostic::error(
                ErrorCode::TooLarge,
                format!(
                    "`newton` is limited to {} parameters; this model has {}",
                    thousands(NEWTON_MAX_PARAMS as u64),
                    thousands(model.total_params as u64)
                ),
            )
            .with_primary(train.optimizer.span, "exact Hessian too large")
            .with_secondary(model.name_span, "this model")
            .with_note("help: use `lbfgs` for larger models"),
        );
    }
}
