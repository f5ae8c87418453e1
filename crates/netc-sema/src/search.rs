//! The `search` and `ensemble` blocks.

use netc_syntax::ast::{Block, Value, ValueKind};
use netc_syntax::{Diagnostic, ErrorCode};

use crate::args::{self, Args, Signature};
use crate::ctx::Ctx;
use crate::ir::{
    Distribution, Ensemble, Hyperparameter, LayerKind, LossKind, Model, OptimizerKind, Search,
    SearchParam, Train, Vote,
};
use crate::items::Written;
use crate::names::{lookup, suggest_or_list, unknown};

const HYPERPARAMETERS: &[(&str, Hyperparameter)] = &[
    ("learning_rate", Hyperparameter::LearningRate),
    ("l2", Hyperparameter::L2),
    ("l1", Hyperparameter::L1),
    ("maxnorm", Hyperparameter::MaxNorm),
    ("dropout", Hyperparameter::Dropout),
    ("momentum", Hyperparameter::Momentum),
];
const DISTRIBUTIONS: &[&str] = &["log_uniform", "uniform"];
const VOTES: &[(&str, Vote)] = &[("majority", Vote::Majority), ("average", Vote::Average)];

pub(crate) fn analyze_search(
    ctx: &mut Ctx,
    block: &Block,
    model: Option<&Model>,
    train: &Train,
) -> Option<Search> {
    let errors_before = ctx.diags.len();
    let mut search = Search {
        trials: 20,
        params: Vec::new(),
        coarse_epochs: 2,
        fine_top: 5,
        fine_epochs: train.epochs,
        span: block.span,
    };
    let mut written = Written::default();
    let mut trials_span = None;
    for item in &block.items {
        let name = item.name.name.as_str();
        if !written.once(ctx, name, item.name.span) {
            continue;
        }
        match name {
            "trials" => {
                trials_span = Some(item.span);
                let args = Args::item(ctx, name, &item.args, &Signature::values(1));
                let trials = args.positional(0);
                set_count(ctx, &mut search.trials, trials, "trials", 100_000);
            }
            "coarse" => {
                let args = Args::item(
                    ctx,
                    name,
                    &item.args,
                    &Signature::with_named(0, &["epochs"]),
                );
                let epochs = args.get("epochs");
                set_count(
                    ctx,
                    &mut search.coarse_epochs,
                    epochs,
                    "coarse epochs",
                    crate::limits::EPOCHS.max,
                );
            }
            "fine" => {
                let args = Args::item(
                    ctx,
                    name,
                    &item.args,
                    &Signature::with_named(0, &["top", "epochs"]),
                );
                let (top, epochs) = (args.get("top"), args.get("epochs"));
                set_count(ctx, &mut search.fine_top, top, "fine top", 100_000);
                set_count(
                    ctx,
                    &mut search.fine_epochs,
                    epochs,
                    "fine epochs",
                    crate::limits::EPOCHS.max,
                );
            }
            _ => {
                if let Some(param) = search_param(ctx, item, model, train) {
                    search.params.push(param);
                }
            }
        }
    }
    if search.params.is_empty() && ctx.diags.len() == errors_before {
        ctx.report(
            Diagnostic::error(
                ErrorCode::Missing,
                "the `search` block names no hyperparameter",
            )
            .with_primary(block.keyword_span, "nothing to search")
            .with_note("help: add e.g. `learning_rate log_uniform(1e-5, 1e-1)`"),
        );
    }
    if search.fine_top > search.trials {
        ctx.error(
            ErrorCode::OutOfRange,
            trials_span.unwrap_or(block.keyword_span),
            format!(
                "`fine top={}` keeps more trials than the {} that are run",
                search.fine_top, search.trials
            ),
            "too few trials",
        );
    }
    (ctx.diags.len() == errors_before).then_some(search)
}

/// Overwrites the default in `slot` with a valid count (1 to `max`), when one is written.
fn set_count(ctx: &mut Ctx, slot: &mut usize, value: Option<&Value>, what: &str, max: u64) {
    if let Some(n) = value.and_then(|v| args::count(ctx, v, what, 1, max)) {
        *slot = n as usize;
    }
}

fn search_param(
    ctx: &mut Ctx,
    item: &netc_syntax::ast::Item,
    model: Option<&Model>,
    train: &Train,
) -> Option<SearchParam> {
    let name = item.name.name.as_str();
    let Some((_, target)) = HYPERPARAMETERS.iter().find(|(n, _)| *n == name) else {
        let diagnostic = Diagnostic::error(
            ErrorCode::NotAHyperparameter,
            format!("`{name}` is not a hyperparameter netc can search"),
        )
        .with_primary(item.name.span, "not searchable");
        let searchable = HYPERPARAMETERS.iter().map(|(n, _)| *n);
        ctx.report(suggest_or_list(diagnostic, name, searchable, "searchable"));
        return None;
    };
    let has_dropout = model.is_none_or(|m| {
        m.layers
            .iter()
            .any(|l| matches!(l.kind, LayerKind::Dropout { .. }))
    });
    if *target == Hyperparameter::Dropout && !has_dropout {
        ctx.report(
            Diagnostic::error(
                ErrorCode::NotAHyperparameter,
                "the search varies dropout, but the model has no dropout layer",
            )
            .with_primary(item.name.span, "nothing to vary")
            .with_note("help: add `dropout 0.5` to the model, or remove this line"),
        );
        return None;
    }
    let has_momentum = matches!(
        train.optimizer.kind,
        OptimizerKind::Momentum { .. }
            | OptimizerKind::Nesterov { .. }
            | OptimizerKind::Rmsprop { .. }
            | OptimizerKind::Adam { .. }
    );
    if *target == Hyperparameter::Momentum && !has_momentum {
        ctx.error(
            ErrorCode::NotAHyperparameter,
            item.name.span,
            "the search varies momentum, but the optimizer has none",
            "nothing to vary",
        );
        return None;
    }
    let value = item.args.first().and_then(|a| match a {
        netc_syntax::ast::Arg::Positional(v) => Some(v),
        _ => None,
    })?;
    let ValueKind::Call(call) = &value.kind else {
        args::wrong_kind(
            ctx,
            value,
            "a search distribution",
            "`log_uniform(lo, hi)` or `uniform(lo, hi)`",
        );
        return None;
    };
    let log = match call.name.name.as_str() {
        "log_uniform" => true,
        "uniform" => false,
        other => {
            ctx.report(unknown(
                other,
                call.name.span,
                "distribution",
                DISTRIBUTIONS.iter().copied(),
            ));
            return None;
        }
    };
    let args = Args::call(ctx, call, &["lo", "hi"]);
    let (Some(lo), Some(hi)) = (args.param(0, "lo"), args.param(1, "hi")) else {
        ctx.error(
            ErrorCode::Missing,
            call.span,
            format!("`{}` needs two bounds", call.name.name),
            "expected `(lo, hi)`",
        );
        return None;
    };
    let (lo, hi) = (
        args::float(ctx, lo, "the lower bound")?,
        args::float(ctx, hi, "the upper bound")?,
    );
    let valid = lo < hi
        && (!log || lo > 0.0)
        && (*target != Hyperparameter::Dropout || (lo >= 0.0 && hi < 1.0));
    if !valid {
        let rule = if log {
            "0 < lo < hi"
        } else if *target == Hyperparameter::Dropout {
            "0 <= lo < hi < 1"
        } else {
            "lo < hi"
        };
        ctx.error(
            ErrorCode::OutOfRange,
            call.span,
            format!("the bounds must satisfy {rule}"),
            "bad bounds",
        );
        return None;
    }
    let distribution = if log {
        Distribution::LogUniform { lo, hi }
    } else {
        Distribution::Uniform { lo, hi }
    };
    Some(SearchParam {
        target: *target,
        distribution,
        span: item.span,
    })
}

pub(crate) fn analyze_ensemble(
    ctx: &mut Ctx,
    block: &Block,
    model: Option<&Model>,
) -> Option<Ensemble> {
    let item = block.items.first()?;
    if item.name.name != "bagging" {
        ctx.report(unknown(
            &item.name.name,
            item.name.span,
            "ensemble method",
            ["bagging"].into_iter(),
        ));
        return None;
    }
    let args = Args::item(
        ctx,
        "bagging",
        &item.args,
        &Signature::with_named(1, &["vote"]),
    );
    let count = args.required(ctx, item, "a number of models", "expected e.g. `bagging 5`")?;
    let models = args::count(ctx, count, "the number of models", 2, 1000);
    // Regression outputs are values, not votes: they are averaged unless told otherwise.
    let regression = model.is_some_and(|m| m.loss.kind == LossKind::Mse);
    let default_vote = if regression {
        Vote::Average
    } else {
        Vote::Majority
    };
    let vote = match args.get("vote") {
        None => Some(default_vote),
        Some(v) => args::word(ctx, v, "the vote").and_then(|(w, span)| {
            let vote = lookup(ctx, VOTES, w, span, "vote")?;
            if vote == Vote::Majority && regression {
                ctx.report(
                    Diagnostic::error(
                        ErrorCode::Incompatible,
                        "a majority vote needs classes, and an mse model predicts values",
                    )
                    .with_primary(span, "majority of what?")
                    .with_note("help: write `vote=average` (the default for mse models)"),
                );
                return None;
            }
            Some(vote)
        }),
    };
    Some(Ensemble {
        models: models? as usize,
        vote: vote?,
        span: block.span,
    })
}
