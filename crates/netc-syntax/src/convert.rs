//! pest pairs → spanned AST. The grammar guarantees each pair's shape, so the few
//! "impossible" branches fall back to harmless defaults instead of panicking.

use pest::iterators::Pair;

use crate::ast::*;
use crate::parser::Rule;
use crate::span::Span;

pub(crate) fn file(pair: Pair<'_, Rule>) -> File {
    let blocks = pair
        .into_inner()
        .filter(|p| p.as_rule() != Rule::EOI)
        .map(block)
        .collect();
    File { blocks }
}

/// The pair's text without the trailing whitespace and comments pest folds into
/// non-atomic rules: it ends where its last token ends.
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    let end = pair
        .clone()
        .into_inner()
        .last()
        .map_or(s.end() as u32, |last| span_of(&last).end);
    Span::new(s.start() as u32, end)
}

fn ident(pair: Pair<'_, Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(&pair),
    }
}

/// Stands in for a name the grammar guarantees but the pair lacks.
fn unnamed(span: Span) -> Ident {
    Ident {
        name: String::new(),
        span,
    }
}

fn block(pair: Pair<'_, Rule>) -> Block {
    let span = span_of(&pair);
    let rule = pair.as_rule();
    let mut inner = pair.into_inner();
    let keyword_span = inner.next().map_or(span, |k| span_of(&k));
    let mut items = Vec::new();
    let mut name = None;
    for child in inner {
        match child.as_rule() {
            Rule::ident => name = Some(ident(child)),
            Rule::item => items.push(item(child)),
            Rule::search_item => items.push(search_item(child)),
            _ => {}
        }
    }
    let kind = match rule {
        Rule::model_block => BlockKind::Model {
            name: name.unwrap_or(unnamed(keyword_span)),
        },
        Rule::data_block => BlockKind::Data,
        Rule::search_block => BlockKind::Search,
        Rule::ensemble_block => BlockKind::Ensemble,
        _ => BlockKind::Train,
    };
    Block {
        kind,
        keyword_span,
        items,
        span,
    }
}

fn item(pair: Pair<'_, Rule>) -> Item {
    let span = span_of(&pair);
    item_of(span, pair.into_inner())
}

/// Search items become ordinary items: `trials 40`, `coarse epochs=2`, `l2 log_uniform(..)`.
fn search_item(pair: Pair<'_, Rule>) -> Item {
    let span = span_of(&pair);
    match pair.into_inner().next() {
        Some(form) => item_of(span, form.into_inner()),
        None => item_of(span, std::iter::empty()),
    }
}

/// The item at `span` from its parts: the name, then the arguments.
fn item_of<'i>(span: Span, mut parts: impl Iterator<Item = Pair<'i, Rule>>) -> Item {
    let name = parts.next().map_or(unnamed(span), ident);
    let args = parts.filter_map(arg).collect();
    Item { name, args, span }
}

fn arg(pair: Pair<'_, Rule>) -> Option<Arg> {
    match pair.as_rule() {
        Rule::named_arg => {
            let span = span_of(&pair);
            let mut inner = pair.into_inner();
            let name = ident(inner.next()?);
            let _eq = inner.next()?;
            let value = value(inner.next()?)?;
            Some(Arg::Named(NamedArg { name, value, span }))
        }
        Rule::sub_block => {
            let span = span_of(&pair);
            let items = pair
                .into_inner()
                .filter(|p| p.as_rule() == Rule::item)
                .map(item)
                .collect();
            Some(Arg::Block(SubBlock { items, span }))
        }
        _ => value(pair).map(Arg::Positional),
    }
}

fn value(pair: Pair<'_, Rule>) -> Option<Value> {
    let span = span_of(&pair);
    let kind = match pair.as_rule() {
        Rule::dims => ValueKind::Dims(
            pair.into_inner()
                .filter(|p| p.as_rule() == Rule::number)
                .map(|p| unsigned(&p))
                .collect(),
        ),
        Rule::call => {
            let mut inner = pair.into_inner();
            let name = ident(inner.next()?);
            let args = inner.filter_map(arg).collect();
            ValueKind::Call(Call { name, args, span })
        }
        Rule::numeric => numeric(pair)?,
        Rule::plain_number => ValueKind::Number(signed(pair.into_inner().next()?)),
        Rule::string => {
            let raw = pair
                .into_inner()
                .find(|p| p.as_rule() == Rule::string_inner);
            ValueKind::Str(raw.map_or(String::new(), |p| unescape(p.as_str())))
        }
        Rule::word => ValueKind::Word(pair.as_str().to_string()),
        _ => return None,
    };
    Some(Value { kind, span })
}

fn numeric(pair: Pair<'_, Rule>) -> Option<ValueKind> {
    let mut inner = pair.into_inner();
    let first = signed(inner.next()?);
    let Some(tail) = inner.next() else {
        return Some(ValueKind::Number(first));
    };
    let kind = match tail.as_rule() {
        Rule::percent => ValueKind::Percent(first),
        Rule::ratio => ValueKind::Ratio(first, signed(last_child(tail)?)),
        Rule::range => ValueKind::Range(first, signed(last_child(tail)?)),
        Rule::ramp => {
            let mut to = None;
            let mut over_len = None;
            for part in tail.into_inner() {
                match part.as_rule() {
                    Rule::signed_number => to = Some(signed(part)),
                    Rule::over => over_len = over(part),
                    _ => {}
                }
            }
            ValueKind::Ramp {
                from: first,
                to,
                over: over_len,
            }
        }
        Rule::unit => {
            let span = first.span.join(span_of(&tail));
            ValueKind::Quantity(Quantity {
                amount: first,
                unit: unit(&tail),
                span,
            })
        }
        _ => ValueKind::Number(first),
    };
    Some(kind)
}

fn over(pair: Pair<'_, Rule>) -> Option<Quantity> {
    let span = span_of(&pair);
    let mut amount = None;
    let mut unit_kind = Unit::Steps;
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::signed_number => amount = Some(signed(part)),
            Rule::unit => unit_kind = unit(&part),
            _ => {}
        }
    }
    Some(Quantity {
        amount: amount?,
        unit: unit_kind,
        span,
    })
}

fn last_child(pair: Pair<'_, Rule>) -> Option<Pair<'_, Rule>> {
    pair.into_inner().last()
}

fn unit(pair: &Pair<'_, Rule>) -> Unit {
    let text = pair.as_str();
    if text.starts_with("deg") {
        Unit::Deg
    } else if text.starts_with("epoch") {
        Unit::Epochs
    } else {
        Unit::Steps
    }
}

fn signed(pair: Pair<'_, Rule>) -> Number {
    let span = span_of(&pair);
    let mut negative = false;
    let mut text = String::new();
    for part in pair.into_inner() {
        match part.as_rule() {
            Rule::minus => negative = true,
            Rule::number => text = part.as_str().to_string(),
            _ => {}
        }
    }
    Number {
        text,
        negative,
        span,
    }
}

fn unsigned(pair: &Pair<'_, Rule>) -> Number {
    Number {
        text: pair.as_str().to_string(),
        negative: false,
        span: span_of(pair),
    }
}

/// Resolves `\"` and `\\` (the grammar admits no other escapes).
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.extend(chars.next());
        } else {
            out.push(c);
        }
    }
    out
}
