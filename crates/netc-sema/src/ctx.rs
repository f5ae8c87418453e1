//! The diagnostics collector every pass reports into.

use netc_syntax::{Diagnostic, ErrorCode, Span};

#[derive(Default)]
pub(crate) struct Ctx {
    pub diags: Vec<Diagnostic>,
    /// Every real number read, checked against the model's precision once it is known.
    pub reals: Vec<crate::precision::Real>,
}

impl Ctx {
    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// The common case: one message, one primary label.
    pub fn error(
        &mut self,
        code: ErrorCode,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) {
        self.report(Diagnostic::error(code, message).with_primary(span, label));
    }

    /// Reports `item` written twice, pointing at both.
    pub fn duplicate(&mut self, what: &str, first: Span, again: Span) {
        self.report(
            Diagnostic::error(ErrorCode::Duplicate, format!("{what} is written twice"))
                .with_primary(again, "written again here")
                .with_secondary(first, "first written here")
                .with_note("help: remove one of them"),
        );
    }
}
