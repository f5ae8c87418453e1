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
        if has_long_line(src, diagnostic) {
            out.push_str(&fallback(src, diagnostic));
            continue;
        }
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
        if has_long_line(src, diagnostic) {
            failed.push_str(&fallback(src, diagnostic));
            continue;
        }
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

/// Lines longer than this are shown clipped by [`fallback`]: codespan slows down badly on
/// huge lines (machine-written or garbage input), and nobody reads them whole anyway.
const LONG_LINE: usize = 400;

fn has_long_line(src: &SourceFile, diagnostic: &Diagnostic) -> bool {
    diagnostic.labels.iter().any(|label| {
        let range = clamp(src, label.span.range());
        let start = src.text[..range.start].rfind('\n').map_or(0, |i| i + 1);
        let end = src.text[range.end..]
            .find('\n')
            .map_or(src.text.len(), |i| range.end + i);
        end - start > LONG_LINE
    })
}

/// A compact rendering with the line clipped around the primary span: used for very long
/// lines, or if codespan cannot render. Still says where and what, with a caret.
fn fallback(src: &SourceFile, diagnostic: &Diagnostic) -> String {
    let range = clamp(src, diagnostic.primary_span().unwrap_or_default().range());
    let (line, col) = src.line_col(range.start as u32);
    let line_start = src.text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src.text[range.start..]
        .find('\n')
        .map_or(src.text.len(), |i| range.start + i);
    let from = floor_boundary(&src.text, range.start.saturating_sub(40).max(line_start));
    let to = floor_boundary(&src.text, (range.start + 40).min(line_end)).max(range.start);
    let excerpt = &src.text[from..to];
    let caret_at = src.text[from..range.start].chars().count();
    let width = src.text[range.start..range.end.clamp(range.start, to)]
        .chars()
        .count()
        .max(1);
    let label = diagnostic
        .labels
        .iter()
        .find(|l| l.primary)
        .map_or("", |l| l.message.as_str());
    let mut out = format!(
        "error[{}]: {}\n --> {}:{line}:{col}\n  | ...{excerpt}...\n  |    {}{} {label}\n",
        diagnostic.code.as_str(),
        diagnostic.message,
        src.name,
        " ".repeat(caret_at),
        "^".repeat(width),
    );
    for note in &diagnostic.notes {
        out.push_str(&format!("  = {note}\n"));
    }
    out.push('\n');
    out
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
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
