//! Every real number written in the spec must survive the model's float type: a non-zero that
//! becomes 0, a subnormal (lost precision, slow arithmetic) or an infinity would silently
//! change the setting, so each is an error naming the value and the type.

use netc_syntax::{Diagnostic, ErrorCode, Span};

use crate::ctx::Ctx;
use crate::ir::{Precision, PrecisionKind};

/// One real number as read from the spec (recorded by `args::number_value`).
pub(crate) struct Real {
    pub value: f64,
    /// The literal as written, with its sign (`1e-320`, `-2.5e39`).
    pub text: String,
    pub span: Span,
    pub what: String,
}

/// Whether a number's digits (before any exponent) are not all zero: `1e-400` is non-zero
/// even though it parses to 0.
fn digits_nonzero(text: &str) -> bool {
    text.chars()
        .take_while(|c| !matches!(c, 'e' | 'E'))
        .any(|c| matches!(c, '1'..='9'))
}

/// Reports every recorded real that is not a normal number (or an intended 0) in `precision`.
pub(crate) fn check(ctx: &mut Ctx, precision: &Precision) {
    let (ty, smallest, largest) = match precision.kind {
        PrecisionKind::F32 => ("f32", f64::from(f32::MIN_POSITIVE), f64::from(f32::MAX)),
        PrecisionKind::F64 => ("f64", f64::MIN_POSITIVE, f64::MAX),
    };
    let reals = std::mem::take(&mut ctx.reals);
    // A value already refused (out of its range) needs no second error.
    let refused: std::collections::HashSet<Span> =
        ctx.diags.iter().filter_map(|d| d.primary_span()).collect();
    for real in &reals {
        if refused.contains(&real.span) {
            continue;
        }
        let converted = match precision.kind {
            PrecisionKind::F32 => f64::from(real.value as f32),
            PrecisionKind::F64 => real.value,
        };
        let becomes = if converted.is_infinite() {
            "overflows to infinity"
        } else if converted == 0.0 && digits_nonzero(&real.text) {
            "underflows to 0"
        } else if converted != 0.0 && converted.abs() < smallest {
            "is subnormal (below the smallest normal number)"
        } else {
            continue;
        };
        let mut diagnostic = Diagnostic::error(
            ErrorCode::OutOfRange,
            format!("{} {} {becomes} in {ty}", real.what, real.text),
        )
        .with_primary(real.span, format!("not representable as a normal {ty}"));
        diagnostic = match precision.span {
            Some(span) => diagnostic.with_secondary(span, format!("the model computes in {ty}")),
            None => diagnostic.with_note(format!(
                "the model computes in {ty} (the default precision)"
            )),
        };
        ctx.report(diagnostic.with_note(format!(
            "help: {ty} holds normal magnitudes from {smallest:.1e} to {largest:.1e}; use a value in that range{}",
            if precision.kind == PrecisionKind::F32 { " or `precision f64`" } else { "" }
        )));
    }
}
