//! The one place diagnostics become text, through codespan-reporting: `file:line:col`, the
//! line, a caret under the span, the message and the notes.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Chars, Config, termcolor};

use crate::diagnostic::{Diagnostic, Severity};
use crate::span::SourceFile;

/// Plain text with ASCII art and no colour, trailing whitespace trimmed: what snapshots,
/// `compile_error!` and `--color=never` show. Identical on every machine.
pub fn render_plain(src: &SourceFile, diags: &[Diagnostic]) -> String {
    let config = Config {
        chars: Chars::ascii(),
        ..Config::default()
    };
    let files = SimpleFile::new(src.name.as_str(), src.text.as_str());
    let mut out = String::new();
    for diagnostic in diags {
        let converted = to_codespan(src, diagnostic);
        if term::emit_to_string(&mut out, &config, &files, &converted).is_err() {
            out.push_str(&fallback(src, diagnostic));
        }
    }
    trim_trailing_whitespace(&out)
}

/// The same report with ANSI colours, for a terminal.
pub fn render_ansi(src: &SourceFile, diags: &[Diagnostic]) -> String {
    let config = Config::default();
    let files = SimpleFile::new(src.name.as_str(), src.text.as_str());
    let mut writer = termcolor::Ansi::new(Vec::new());
    let mut failed = String::new();
    for diagnostic in diags {
        let converted = to_codespan(src, diagnostic);
        if term::emit_to_write_style(&mut writer, &config, &files, &converted).is_err() {
            failed.push_str(&fallback(src, diagnostic));
        }
    }
    let mut out = String::from_utf8_lossy(&writer.into_inner()).into_owned();
    out.push_str(&failed);
    out
}

fn to_codespan(src: &SourceFile, diagnostic: &Diagnostic) -> cs::Diagnostic<()> {
    let severity = match diagnostic.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let labels = diagnostic
        .labels
        .iter()
        .map(|label| {
            let range = clamp(src, label.span.range());
            let base = if label.primary {
                cs::Label::primary((), range)
            } else {
                cs::Label::secondary((), range)
            };
            base.with_message(label.message.clone())
        })
        .collect();
    cs::Diagnostic::new(severity)
        .with_code(diagnostic.code.as_str())
        .with_message(diagnostic.message.clone())
        .with_labels(labels)
        .with_notes(diagnostic.notes.clone())
}

/// Spans from later stages or from fuzzed input must never make rendering fail.
fn clamp(src: &SourceFile, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let len = src.text.len();
    let mut start = range.start.min(len);
    let mut end = range.end.min(len).max(start);
    while !src.text.is_char_boundary(start) {
        start -= 1;
    }
    while !src.text.is_char_boundary(end) {
        end += 1;
    }
    start..end
}

/// Used only if codespan cannot render (it should not happen): still say where and what.
fn fallback(src: &SourceFile, diagnostic: &Diagnostic) -> String {
    let (line, col) = diagnostic
        .primary_span()
        .map_or((1, 1), |s| src.line_col(s.start));
    format!(
        "error[{}]: {}\n --> {}:{line}:{col}\n",
        diagnostic.code.as_str(),
        diagnostic.message,
        src.name
    )
}

fn trim_trailing_whitespace(text: &str) -> String {
    let mut out: String = text
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}
