//! The pest binding. pest types never leave this module and `convert.rs`: errors become
//! [`Diagnostic`]s with a span and a message built from the expected rules.

use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};

use crate::ast;
use crate::convert;
use crate::diagnostic::{Diagnostic, ErrorCode};
use crate::span::{SourceFile, Span};

#[derive(pest_derive::Parser)]
#[grammar = "../../grammar/net.pest"]
pub(crate) struct NetParser;

/// Deepest `(`/`{` nesting accepted. Real specs nest 3 deep; the limit keeps pest and the
/// AST conversion (both recursive) far from the stack's end on hostile input.
pub const MAX_NESTING: usize = 32;

/// Parses one `.net` file. pest stops at the first syntax error, so this returns one
/// diagnostic; the checker then collects all semantic errors.
pub fn parse(src: &SourceFile) -> Result<ast::File, Diagnostic> {
    if src.text.len() > u32::MAX as usize / 2 {
        return Err(
            Diagnostic::error(ErrorCode::Syntax, "the file is too large to be a spec")
                .with_primary(Span::new(0, 0), "this file"),
        );
    }
    check_nesting(&src.text)?;
    let mut pairs = NetParser::parse(Rule::file, &src.text).map_err(|e| to_diagnostic(src, e))?;
    match pairs.next() {
        Some(file) => Ok(convert::file(file)),
        None => Ok(ast::File { blocks: Vec::new() }),
    }
}

fn check_nesting(text: &str) -> Result<(), Diagnostic> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut in_comment = false;
    let mut previous = '\0';
    for (offset, c) in text.char_indices() {
        if in_comment {
            in_comment = c != '\n';
        } else if in_string {
            in_string = !(c == '"' && previous != '\\');
        } else {
            match c {
                '"' => in_string = true,
                '#' => in_comment = true,
                '/' if previous == '/' => in_comment = true,
                '(' | '{' => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        let at = offset as u32;
                        return Err(Diagnostic::error(
                            ErrorCode::Syntax,
                            format!("brackets nested more than {MAX_NESTING} deep"),
                        )
                        .with_primary(Span::new(at, at + 1), "too deep")
                        .with_note(
                            "specs never need this much nesting; look for a missing `)` or `}`",
                        ));
                    }
                }
                ')' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        previous = if previous == '\\' && c == '\\' {
            '\0'
        } else {
            c
        };
    }
    Ok(())
}

fn to_diagnostic(src: &SourceFile, error: pest::error::Error<Rule>) -> Diagnostic {
    let (start, end) = match error.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, e)) => (s, e),
    };
    let found = describe_found(&src.text, start);
    let message = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } if !positives.is_empty() => {
            let at_end = start >= src.text.trim_end().len();
            format!(
                "expected {}, found {found}",
                expected_list(positives, at_end)
            )
        }
        ErrorVariant::ParsingError { .. } => format!("unexpected {found}"),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let word = word_at(&src.text, start);
    let end = if end > start {
        end
    } else if !word.is_empty() {
        start + word.len()
    } else {
        next_char_end(&src.text, start)
    };
    let span = Span::new(start as u32, end as u32);
    let mut diagnostic = Diagnostic::error(ErrorCode::Syntax, message)
        .with_primary(span, format!("unexpected {found}"));
    if let ErrorVariant::ParsingError { positives, .. } = &error.variant
        && positives.contains(&Rule::kw_model)
        && let Some(block) = closest_block_keyword(word)
    {
        diagnostic = diagnostic.with_note(format!("help: did you mean `{block}`?"));
    }
    if let Some(note) = hint(&src.text, start) {
        diagnostic = diagnostic.with_note(note);
    }
    diagnostic
}

/// The identifier starting at `offset`, or "".
fn word_at(text: &str, offset: usize) -> &str {
    let rest = text.get(offset..).unwrap_or("");
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    &rest[..len]
}

/// A block keyword within two edits of `word` (`modle` → `model`).
fn closest_block_keyword(word: &str) -> Option<&'static str> {
    if word.is_empty() || word.len() > 32 {
        return None;
    }
    ["model", "data", "train", "search", "ensemble"]
        .into_iter()
        .map(|k| (edit_distance(word, k), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Optimal string alignment distance (Levenshtein plus adjacent transpositions).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// "`a`, `b` or `c`", deduplicated, in a stable order. Optional tails of a number
/// (`%`, `->`, units, …) are left out when something more likely was also expected, and at
/// the end of the input an unclosed block is the only thing worth naming.
fn expected_list(positives: &[Rule], at_end: bool) -> String {
    if at_end && positives.contains(&Rule::rbrace) {
        return rename_rule(&Rule::rbrace).to_string();
    }
    if positives.contains(&Rule::kw_model) {
        return "a block (`model`, `data`, `train`, `search` or `ensemble`)".to_string();
    }
    let is_tail = |r: &&Rule| {
        matches!(
            r,
            Rule::percent | Rule::ratio | Rule::range | Rule::ramp | Rule::unit | Rule::dim_x
        )
    };
    let mut rules: Vec<&Rule> = positives.iter().filter(|r| !is_tail(r)).collect();
    if rules.is_empty() {
        rules = positives.iter().collect();
    }
    let mut names: Vec<&'static str> = Vec::new();
    for rule in rules {
        let name = rename_rule(rule);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.split_last() {
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => "something else".to_string(),
    }
}

/// What a person calls each rule in an error message.
pub(crate) fn rename_rule(rule: &Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of input",
        Rule::file | Rule::model_block | Rule::data_block | Rule::train_block => "a block",
        Rule::search_block | Rule::ensemble_block => "a block",
        Rule::kw_model => "`model`",
        Rule::kw_data => "`data`",
        Rule::kw_train => "`train`",
        Rule::kw_search => "`search`",
        Rule::kw_ensemble => "`ensemble`",
        Rule::item => "an item",
        Rule::search_item | Rule::search_trials | Rule::search_stage | Rule::search_param => {
            "a search item"
        }
        Rule::named_arg => "a named argument",
        Rule::sub_block => "`{`",
        Rule::call | Rule::call_arg | Rule::dims => "a value",
        Rule::numeric | Rule::signed_number | Rule::number | Rule::plain_number => "a value",
        Rule::percent => "`%`",
        Rule::ratio => "`/`",
        Rule::range => "`..`",
        Rule::ramp => "`->`",
        Rule::over | Rule::kw_over => "`over`",
        Rule::unit | Rule::kw_steps | Rule::kw_epochs | Rule::kw_deg => {
            "a unit (`steps`, `epochs` or `deg`)"
        }
        Rule::word | Rule::string => "a value",
        Rule::string_inner | Rule::quote => "a value",
        Rule::escape => "an escape (`\\\"` or `\\\\`)",
        Rule::ident => "a name",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::comma => "`,`",
        Rule::eq => "`=`",
        Rule::slash => "`/`",
        Rule::dotdot => "`..`",
        Rule::arrow => "`->`",
        Rule::minus => "`-`",
        Rule::dim_x => "`x`",
        Rule::kw_trials => "`trials`",
        Rule::kw_coarse => "`coarse`",
        Rule::kw_fine => "`fine`",
        _ => "a keyword",
    }
}

/// "`foo`", "`{`" or "end of input": the token at `offset`, for the message.
fn describe_found(text: &str, offset: usize) -> String {
    let rest = text.get(offset..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return "end of input".to_string();
    };
    if first.is_ascii_alphanumeric() || first == '_' {
        let token: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .take(24)
            .collect();
        format!("`{token}`")
    } else if first.is_whitespace() {
        "whitespace".to_string()
    } else {
        format!("`{}`", first.escape_debug())
    }
}

/// A targeted hint for common slips.
fn hint(text: &str, offset: usize) -> Option<&'static str> {
    let rest = text.get(offset..).unwrap_or("");
    if rest.starts_with('-') && !rest.starts_with("->") {
        return Some("negative numbers are written `-1`; a range is written `a..b`");
    }
    if rest.starts_with(':') || rest.starts_with(';') {
        return Some("items are written `keyword value`, without `:` or `;`");
    }
    None
}

fn next_char_end(text: &str, offset: usize) -> usize {
    text.get(offset..)
        .and_then(|rest| rest.chars().next())
        .map_or(offset, |c| offset + c.len_utf8())
}
