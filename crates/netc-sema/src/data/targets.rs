//! `csv(…, targets=first..last)` and whether a source's targets fit the model's loss.
//!
//! softmax trains on one class label; logistic on a class label (one-vs-all, or yes/no with a
//! single unit) or on one 0/1 column per output unit (multi-label); mse on one value column per
//! output unit, or on a class label read as a number when there is a single output unit.

use netc_syntax::ast::{Value, ValueKind};
use netc_syntax::{Diagnostic, ErrorCode};

use super::column_number;
use crate::args;
use crate::ctx::Ctx;
use crate::ir::{LossKind, Model, Source, SourceKind, TargetColumns};

/// Reads `targets=-3..-1` (an inclusive run) or `targets=4` (one column); `label` is the
/// source's `label=` argument, which may not be written alongside.
pub(super) fn columns(
    ctx: &mut Ctx,
    value: &Value,
    label: Option<&Value>,
) -> Option<TargetColumns> {
    if let Some(label) = label {
        ctx.report(
            Diagnostic::error(
                ErrorCode::Incompatible,
                "`label` and `targets` exclude each other",
            )
            .with_primary(value.span, "value targets")
            .with_secondary(label.span, "a class label")
            .with_note("help: `label=` names one class-index column, `targets=` the value columns of mse or multi-label logistic"),
        );
        return None;
    }
    let (first, last) = match &value.kind {
        ValueKind::Number(n) => (n, n),
        ValueKind::Range(first, last) => (first, last),
        _ => {
            args::wrong_kind(
                ctx,
                value,
                "the target columns",
                "a column range such as `-3..-1` or one column such as `4`",
            );
            return None;
        }
    };
    let what = "a target column";
    let first = column_number(ctx, first, value.span, what);
    let last = column_number(ctx, last, value.span, what);
    let (first, last) = (first?, last?);
    if (first < 0) != (last < 0) {
        ctx.report(
            Diagnostic::error(
                ErrorCode::OutOfRange,
                "the target columns must both count from the start or both from the end",
            )
            .with_primary(
                value.span,
                "one end counts from the start, the other from the end",
            )
            .with_note(
                "help: write e.g. `targets=-3..-1` (the last three columns) or `targets=4..6`",
            ),
        );
        return None;
    }
    if first > last {
        ctx.error(
            ErrorCode::OutOfRange,
            value.span,
            format!(
                "the target range {first}..{last} is empty: the first column comes after the last"
            ),
            "empty range",
        );
        return None;
    }
    Some(TargetColumns { first, last })
}

/// Reports a train (or test) source whose targets do not fit `model`'s loss and output units,
/// and a test source that lays its targets out unlike the train source.
pub(super) fn check(ctx: &mut Ctx, model: &Model, train: &Source, test: Option<&Source>) {
    check_source(ctx, model, train);
    let Some(test) = test else {
        return;
    };
    if targets_of(train).map(|c| c.width()) != targets_of(test).map(|c| c.width()) {
        let describe = |source: &Source| match targets_of(source) {
            Some(columns) => format!("{} target columns", columns.width()),
            None => "a class label".to_string(),
        };
        ctx.report(
            Diagnostic::error(
                ErrorCode::Incompatible,
                format!(
                    "the test source has {}, the train source {}",
                    describe(test),
                    describe(train)
                ),
            )
            .with_primary(test.span, "test samples")
            .with_secondary(train.span, "train samples")
            .with_note("help: give both sources the same `label=` or `targets=` layout"),
        );
    }
}

fn check_source(ctx: &mut Ctx, model: &Model, source: &Source) {
    let units = model
        .layers
        .last()
        .map_or(model.input.features(), |l| l.outputs);
    let output_span = model.layers.last().map_or(model.input.span, |l| l.span);
    let loss = &model.loss;
    match (loss.kind, targets_of(source)) {
        (LossKind::Softmax, Some(columns)) => ctx.report(
            Diagnostic::error(
                ErrorCode::LossMismatch,
                format!(
                    "`loss softmax` needs one class label per sample, found {} target columns",
                    columns.width()
                ),
            )
            .with_primary(source.span, "value targets")
            .with_secondary(loss.span, "single-label loss")
            .with_note("help: name the label column with `label=`, or use `loss logistic` for several labels per sample"),
        ),
        (LossKind::Mse | LossKind::Logistic, Some(columns)) if columns.width() != units => {
            ctx.report(
                Diagnostic::error(
                    ErrorCode::LossMismatch,
                    format!(
                        "{} target columns, but the output layer has {units} units",
                        columns.width()
                    ),
                )
                .with_primary(source.span, width_label(columns.width()))
                .with_secondary(output_span, format!("{units} outputs"))
                .with_note("help: one target column per output unit"),
            )
        }
        (LossKind::Mse, None) if units != 1 => ctx.report(
            Diagnostic::error(
                ErrorCode::LossMismatch,
                format!(
                    "`loss mse` on a class label needs one output unit, the output layer has {units}"
                ),
            )
            .with_primary(source.span, "one class label per sample")
            .with_secondary(output_span, format!("{units} outputs"))
            .with_note(format!(
                "help: name {units} value columns with `csv(…, targets=…)`, or use `loss softmax` to classify"
            )),
        ),
        _ => {}
    }
}

fn width_label(width: usize) -> String {
    if width == 1 {
        "1 target column".to_string()
    } else {
        format!("{width} target columns")
    }
}

fn targets_of(source: &Source) -> Option<TargetColumns> {
    match &source.kind {
        SourceKind::Csv { targets, .. } => *targets,
        SourceKind::Idx { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use netc_syntax::SourceFile;

    use crate::ir::{Network, SourceKind, TargetColumns};

    fn spec(model: &str, source: &str) -> String {
        format!("model m {{ input 3 dense 8 tanh {model} }} data {{ train {source} }}")
    }

    fn check(text: &str) -> Result<Network, Vec<&'static str>> {
        crate::check(&SourceFile::new("t.net", text.to_string()))
            .map_err(|diags| diags.iter().map(|d| d.code.as_str()).collect())
    }

    fn targets(net: &Network) -> Option<TargetColumns> {
        match &net.data.as_ref()?.train.kind {
            SourceKind::Csv { targets, .. } => *targets,
            SourceKind::Idx { .. } => None,
        }
    }

    #[test]
    fn target_columns_are_read_as_a_range_or_one_column() {
        let net = check(&spec("dense 2 loss mse", r#"csv("r.csv", targets=-2..-1)"#)).unwrap();
        assert_eq!(
            targets(&net),
            Some(TargetColumns {
                first: -2,
                last: -1
            })
        );
        let net = check(&spec("dense 1 loss mse", r#"csv("r.csv", targets=0)"#)).unwrap();
        assert_eq!(targets(&net), Some(TargetColumns { first: 0, last: 0 }));
        let net = check(&spec(
            "dense 3 loss logistic",
            r#"csv("m.csv", targets=4..6)"#,
        ))
        .unwrap();
        assert_eq!(targets(&net).map(|c| c.width()), Some(3));
        let net = check(&spec("dense 2 loss softmax", r#"csv("x.csv")"#)).unwrap();
        assert_eq!(targets(&net), None);
    }

    #[test]
    fn losses_accept_the_targets_they_can_train_on() {
        for (model, source) in [
            ("dense 1 loss mse", r#"csv("x.csv", label=-1)"#),
            ("dense 1 loss logistic", r#"csv("x.csv")"#),
            ("dense 4 loss logistic", r#"csv("x.csv")"#),
            (
                "dense 2 sigmoid loss mse",
                r#"csv("r.csv", targets=-2..-1)"#,
            ),
        ] {
            assert!(check(&spec(model, source)).is_ok(), "{model} / {source}");
        }
    }

    #[test]
    fn mismatches_are_reported() {
        for (model, source, code) in [
            (
                "dense 3 loss softmax",
                r#"csv("m.csv", targets=-3..-1)"#,
                "loss-mismatch",
            ),
            (
                "dense 3 loss logistic",
                r#"csv("m.csv", targets=-2..-1)"#,
                "loss-mismatch",
            ),
            (
                "dense 2 loss mse",
                r#"csv("r.csv", targets=-3..-1)"#,
                "loss-mismatch",
            ),
            ("dense 2 loss mse", r#"csv("r.csv")"#, "loss-mismatch"),
            (
                "dense 2 loss mse",
                r#"idx("i.gz", "l.gz")"#,
                "loss-mismatch",
            ),
            (
                "dense 2 loss mse",
                r#"csv("r.csv", targets=0..-1)"#,
                "out-of-range",
            ),
            (
                "dense 2 loss mse",
                r#"csv("r.csv", targets=-1..-2)"#,
                "out-of-range",
            ),
            (
                "dense 2 loss mse",
                r#"csv("r.csv", targets=0.5..1)"#,
                "out-of-range",
            ),
            (
                "dense 2 loss mse",
                r#"csv("r.csv", targets=true)"#,
                "out-of-range",
            ),
            (
                "dense 2 loss mse",
                r#"csv("r.csv", label=0, targets=1..2)"#,
                "incompatible",
            ),
        ] {
            assert_eq!(
                check(&spec(model, source)).map(|_| ()),
                Err(vec![code]),
                "{model} / {source}"
            );
        }
    }

    #[test]
    fn the_test_source_must_lay_out_targets_like_train() {
        let text = r#"model m { input 3 dense 2 loss mse }
            data { train csv("a.csv", targets=-2..-1) test csv("b.csv", targets=-3..-2) }"#;
        assert!(check(text).is_ok());
        let text = r#"model m { input 3 dense 2 loss logistic }
            data { train csv("a.csv", targets=-2..-1) test csv("b.csv") }"#;
        assert_eq!(check(text).map(|_| ()), Err(vec!["incompatible"]));
    }
}
