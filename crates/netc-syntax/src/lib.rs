//! The `.net` language's syntax: source files, spans, the pest grammar binding, the spanned
//! AST and diagnostics (as data, and rendered as text).
//!
//! `parse` stops at the first syntax error (pest does); the checker in `netc-sema`
//! collects every semantic error.

pub mod ast;
mod convert;
pub mod diagnostic;
mod parser;
pub mod read;
pub mod render;
pub mod span;
#[cfg(test)]
mod tests;

pub use diagnostic::{Diagnostic, ErrorCode, Label, Severity};
pub use parser::{MAX_NESTING, parse};
pub use read::{MAX_SPEC_BYTES, read_spec_text};
pub use render::{render_ansi, render_plain};
pub use span::{SourceFile, Span, Spanned};
