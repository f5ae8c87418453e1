//! The `.net` language's syntax: source files, spans, the pest grammar binding, the spanned
//! AST and diagnostics (as data, and rendered as text).

pub mod diagnostic;
pub mod span;

pub use diagnostic::{Diagnostic, ErrorCode, Label, Severity};
pub use span::{SourceFile, Span, Spanned};
