//! Diagnostics as plain data. Turning them into text happens in `render.rs`, once.

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// Every diagnostic netc can emit has one stable, meaningful code.
/// Tests assert codes rather than wording, so messages can improve freely.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The text does not match the grammar.
    Syntax,
    /// A name (layer, activation, init, optimizer, schedule, metric, …) that netc does not know.
    UnknownName,
    /// An argument name that the construct does not take.
    UnknownArgument,
    /// A value outside the allowed range (dropout p, sizes, rates, …).
    OutOfRange,
    /// The same part written twice where only one is allowed.
    Duplicate,
    /// A required part is missing (no input, no loss, …).
    Missing,
    /// The loss does not fit the output layer or the labels.
    LossMismatch,
    /// Two settings that cannot be used together (lbfgs with minibatches, …).
    Incompatible,
    /// The model is too large for what was asked (newton's exact Hessian, …).
    TooLarge,
    /// Augmentation asked for on input that is not an image.
    NotAnImage,
    /// `search` over a name that is not a hyperparameter of this spec.
    NotAHyperparameter,
    /// A name that would not be a valid identifier in generated code.
    InvalidName,
    /// Accepted by the language, not yet honoured by the generated code.
    NotYetSupported,
    /// Reading a spec file failed (macro and CLI only).
    Io,
}

impl ErrorCode {
    /// The code as printed: `error[unknown-name]`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Syntax => "syntax",
            ErrorCode::UnknownName => "unknown-name",
            ErrorCode::UnknownArgument => "unknown-argument",
            ErrorCode::OutOfRange => "out-of-range",
            ErrorCode::Duplicate => "duplicate",
            ErrorCode::Missing => "missing",
            ErrorCode::LossMismatch => "loss-mismatch",
            ErrorCode::Incompatible => "incompatible",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::NotAnImage => "not-an-image",
            ErrorCode::NotAHyperparameter => "not-a-hyperparameter",
            ErrorCode::InvalidName => "invalid-name",
            ErrorCode::NotYetSupported => "not-yet-supported",
            ErrorCode::Io => "io",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub span: Span,
    pub message: String,
    /// The primary label gets the caret; secondary ones explain ("this layer outputs 784").
    pub primary: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: ErrorCode,
    pub message: String,
    pub labels: Vec<Label>,
    /// Hints and notes: "did you mean `relu`?", "dropout takes the DROP probability".
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn with_primary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: true,
        });
        self
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
            primary: false,
        });
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// The span of the primary label, if any: where the macro points `compile_error!`.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).map(|l| l.span)
    }
}
