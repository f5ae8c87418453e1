//! Name tables and "did you mean".

use netc_syntax::{Diagnostic, ErrorCode, Span};

use crate::ctx::Ctx;

/// The closest candidate within a small edit distance, for "did you mean `relu`?".
pub(crate) fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&name.to_lowercase(), c), c))
        .filter(|(distance, c)| *distance <= (c.len() / 3).max(1) + usize::from(c.len() > 6))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// Looks `name` up in `table`; reports "unknown {what}" with a suggestion if absent.
pub(crate) fn lookup<T: Copy>(
    ctx: &mut Ctx,
    table: &[(&str, T)],
    name: &str,
    span: Span,
    what: &str,
) -> Option<T> {
    if let Some((_, value)) = table.iter().find(|(n, _)| *n == name) {
        return Some(*value);
    }
    ctx.report(unknown(name, span, what, table.iter().map(|(n, _)| *n)));
    None
}

/// "unknown activation `rleu`" + "help: did you mean `relu`?" or the list of known names.
pub(crate) fn unknown<'a>(
    name: &str,
    span: Span,
    what: &str,
    known: impl Iterator<Item = &'a str> + Clone,
) -> Diagnostic {
    let diagnostic = Diagnostic::error(ErrorCode::UnknownName, format!("unknown {what} `{name}`"))
        .with_primary(span, format!("not a known {what}"));
    suggest_or_list(diagnostic, name, known, "expected one of")
}

/// Adds "help: did you mean `relu`?" when one of `known` is close to `name`, otherwise
/// "{listing}: " and every known name.
pub(crate) fn suggest_or_list<'a>(
    diagnostic: Diagnostic,
    name: &str,
    known: impl Iterator<Item = &'a str> + Clone,
    listing: &str,
) -> Diagnostic {
    match suggest(name, known.clone()) {
        Some(best) => diagnostic.with_note(format!("help: did you mean `{best}`?")),
        None => diagnostic.with_note(format!(
            "{listing}: {}",
            known.collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Rust keywords (strict and reserved): a model name becomes a Rust module name.
pub(crate) const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "try", "typeof", "unsized", "virtual", "yield", "union",
];

/// Binary names cargo refuses (they collide with its target-directory layout); the trainer
/// binary `netc build` makes is named after the model.
pub(crate) const CARGO_RESERVED: &[&str] = &["build", "deps", "examples", "incremental"];
