//! What the trainer would refuse before its first step, found from the spec alone: checks
//! that read two blocks at once.
//!
//! Only what needs no IO: the data block never says how many samples its files hold, so a
//! `validation N` larger than the training set is still the loader's to refuse.

use netc_syntax::{Diagnostic, ErrorCode};

use crate::ctx::Ctx;
use crate::ir::{Data, Metric, OptimizerKind, Train, ValidationSize};

pub(crate) fn check(ctx: &mut Ctx, train: &Train, data: &Data) {
    validation_metric_needs_a_split(ctx, train, data);
    full_batch_sees_the_data_as_it_is(ctx, train, data);
}

/// lbfgs / newton minimize one fixed function of the parameters: augmentation would draw new
/// training samples at every evaluation (and the full-batch runtime does not augment).
fn full_batch_sees_the_data_as_it_is(ctx: &mut Ctx, train: &Train, data: &Data) {
    let name = match train.optimizer.kind {
        OptimizerKind::Lbfgs { .. } => "lbfgs",
        OptimizerKind::Newton { .. } => "newton",
        _ => return,
    };
    let Some(augment) = &data.augment else {
        return;
    };
    ctx.report(
        Diagnostic::error(
            ErrorCode::Incompatible,
            format!("`{name}` cannot augment the data"),
        )
        .with_primary(augment.span, "new random samples at every evaluation")
        .with_secondary(
            train.optimizer.span,
            format!("`{name}` minimizes a fixed full-batch loss"),
        )
        .with_note(
            "help: remove `augment`, or train with a minibatch optimizer (adam, momentum, …)",
        ),
    );
}

/// `early_stopping monitor=val_*` with a data block that holds out no validation split (a spec
/// without a data block gets its splits from code, which may hold one).
fn validation_metric_needs_a_split(ctx: &mut Ctx, train: &Train, data: &Data) {
    let Some(early) = &train.early_stopping else {
        return;
    };
    let name = match early.monitor {
        Metric::ValLoss => "val_loss",
        Metric::ValAccuracy => "val_accuracy",
        Metric::TrainLoss | Metric::TrainAccuracy => return,
    };
    if data.validation.size != ValidationSize::None {
        return;
    }
    ctx.report(
        Diagnostic::error(
            ErrorCode::Missing,
            format!(
                "early stopping monitors `{name}`, but the data block holds out no validation split"
            ),
        )
        .with_primary(early.span, format!("watches `{name}`"))
        .with_secondary(data.train.span, "all of it trains")
        .with_note(
            "help: add `validation N` or `validation P%` to the data block, or monitor \
             `train_loss` / `train_accuracy`",
        ),
    );
}
