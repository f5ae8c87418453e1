//! Reading an item's or a call's arguments against a signature, and typed value readers.
//! Each reader reports what is wrong into the [`Ctx`] and returns `None`, so the caller
//! simply falls back to a default and checking goes on.

use netc_syntax::ast::{Arg, Call, Item, NamedArg, Number, SubBlock, Unit, Value, ValueKind};
use netc_syntax::{Diagnostic, ErrorCode, Span};

use crate::ctx::Ctx;
use crate::ir::Duration;
use crate::names::suggest_or_list;

/// What an item or call accepts.
pub(crate) struct Signature<'s> {
    /// Positional values allowed (in order).
    pub positional: usize,
    /// Named arguments allowed; for calls, the positional ones map onto these in order.
    pub named: &'s [&'s str],
    /// Whether a `{ … }` sub-block is allowed.
    pub block: bool,
}

impl<'s> Signature<'s> {
    /// Only positional values: `scale 1/255`, `learning_rate 0.1 cosine(…)`.
    pub const fn values(positional: usize) -> Self {
        Signature {
            positional,
            named: &[],
            block: false,
        }
    }

    /// Positional values and these named arguments: `dense 128 relu init=he`.
    pub const fn with_named(positional: usize, named: &'s [&'s str]) -> Self {
        Signature {
            positional,
            named,
            block: false,
        }
    }
}

pub(crate) struct Args<'a> {
    positional: Vec<&'a Value>,
    named: Vec<&'a NamedArg>,
    blocks: Vec<&'a SubBlock>,
    /// Calls: positional values stand for `named[i]`.
    positional_are_named: bool,
}

impl<'a> Args<'a> {
    /// Splits `args` and reports anything `signature` does not accept.
    pub fn item(
        ctx: &mut Ctx,
        owner: &str,
        args: &'a [Arg],
        signature: &Signature<'_>,
    ) -> Args<'a> {
        let parsed = Self::split(args, false);
        parsed.validate(ctx, owner, signature);
        parsed
    }

    /// Like [`Args::item`] for `name(…)`: positional values fill the parameters in order.
    pub fn call(ctx: &mut Ctx, call: &'a Call, params: &[&str]) -> Args<'a> {
        let signature = Signature {
            positional: params.len(),
            named: params,
            block: false,
        };
        let parsed = Self::split(&call.args, true);
        parsed.validate(ctx, &call.name.name, &signature);
        parsed
    }

    fn split(args: &'a [Arg], positional_are_named: bool) -> Args<'a> {
        let mut parsed = Args {
            positional: Vec::new(),
            named: Vec::new(),
            blocks: Vec::new(),
            positional_are_named,
        };
        for arg in args {
            match arg {
                Arg::Positional(value) => parsed.positional.push(value),
                Arg::Named(named) => parsed.named.push(named),
                Arg::Block(block) => parsed.blocks.push(block),
            }
        }
        parsed
    }

    fn validate(&self, ctx: &mut Ctx, owner: &str, signature: &Signature<'_>) {
        for extra in self.positional.iter().skip(signature.positional) {
            let message = if signature.positional == 0 {
                format!("`{owner}` takes no positional values")
            } else {
                format!(
                    "`{owner}` takes at most {} positional value(s)",
                    signature.positional
                )
            };
            let mut diagnostic = Diagnostic::error(ErrorCode::UnknownArgument, message)
                .with_primary(extra.span, "unexpected value");
            if !signature.named.is_empty() {
                diagnostic = diagnostic
                    .with_note(format!("`{owner}` takes: {}", signature.named.join(", ")));
            }
            ctx.report(diagnostic);
        }
        for (index, named) in self.named.iter().enumerate() {
            let name = named.name.name.as_str();
            if !signature.named.contains(&name) {
                let diagnostic = Diagnostic::error(
                    ErrorCode::UnknownArgument,
                    format!("`{owner}` has no argument `{name}`"),
                )
                .with_primary(named.name.span, "unknown argument");
                ctx.report(if signature.named.is_empty() {
                    diagnostic.with_note(format!("`{owner}` takes no named arguments"))
                } else {
                    let known = signature.named.iter().copied();
                    suggest_or_list(diagnostic, name, known, &format!("`{owner}` takes"))
                });
            } else if let Some(first) = self.named[..index].iter().find(|n| n.name.name == name) {
                ctx.duplicate(name, first.span, named.span);
            } else if self.positional_are_named {
                let position = signature
                    .named
                    .iter()
                    .position(|n| *n == name)
                    .unwrap_or(usize::MAX);
                if let Some(value) = self.positional.get(position) {
                    ctx.duplicate(name, value.span, named.span);
                }
            }
        }
        if !signature.block {
            for block in &self.blocks {
                ctx.error(
                    ErrorCode::UnknownArgument,
                    block.span,
                    format!("`{owner}` takes no `{{ … }}` block"),
                    "unexpected block",
                );
            }
        }
    }

    pub fn positional(&self, index: usize) -> Option<&'a Value> {
        self.positional.get(index).copied()
    }

    /// The first positional value, which `item` cannot do without: when it is absent, reports
    /// "`{item}` needs {what}" at the whole item, labelled `label`.
    pub fn required(
        &self,
        ctx: &mut Ctx,
        item: &Item,
        what: &str,
        label: &str,
    ) -> Option<&'a Value> {
        let value = self.positional(0);
        if value.is_none() {
            ctx.error(
                ErrorCode::Missing,
                item.span,
                format!("`{}` needs {what}", item.name.name),
                label,
            );
        }
        value
    }

    pub fn positionals(&self) -> &[&'a Value] {
        &self.positional
    }

    /// A named argument; for calls also the positional value in its place.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        if let Some(named) = self.named.iter().find(|n| n.name.name == name) {
            return Some(&named.value);
        }
        None
    }

    /// For calls: parameter `index` called `name`, given either way.
    pub fn param(&self, index: usize, name: &str) -> Option<&'a Value> {
        self.get(name).or_else(|| {
            if self.positional_are_named {
                self.positional(index)
            } else {
                None
            }
        })
    }

    pub fn block(&self) -> Option<&'a SubBlock> {
        self.blocks.first().copied()
    }
}

/// An item written `name value` and nothing else (`args` are its own arguments): the value,
/// or `None` with what is wrong reported.
pub(crate) fn single<'a>(
    ctx: &mut Ctx,
    item: &Item,
    args: &'a [Arg],
    what: &str,
    label: &str,
) -> Option<&'a Value> {
    Args::item(ctx, &item.name.name, args, &Signature::values(1)).required(ctx, item, what, label)
}

/// Items need no separator, so a misspelt keyword after an item is read as one more
/// argument of it (`dense 8 relu  dropuot 0.5`). When the first value beyond what the item
/// takes is a bare word, report it as an unknown item and return only the item's own args.
pub(crate) fn without_stray_item<'a>(
    ctx: &mut Ctx,
    item: &'a Item,
    positional: usize,
    known: &[&str],
    what: &str,
) -> &'a [Arg] {
    let mut seen = 0;
    for (index, arg) in item.args.iter().enumerate() {
        let Arg::Positional(value) = arg else {
            continue;
        };
        seen += 1;
        if seen <= positional {
            continue;
        }
        if let ValueKind::Word(word) = &value.kind {
            let diagnostic = crate::names::unknown(word, value.span, what, known.iter().copied()).with_note(format!(
                "items are separated by their keyword; `{word}` is not one, so it was read as part of `{}`",
                item.name.name
            ));
            ctx.report(diagnostic);
            return &item.args[..index];
        }
        break;
    }
    &item.args
}

// ------------------------------------------------------------------ value readers

fn describe(value: &Value) -> &'static str {
    match &value.kind {
        ValueKind::Number(_) => "a number",
        ValueKind::Percent(_) => "a percentage",
        ValueKind::Ratio(..) => "a ratio",
        ValueKind::Range(..) => "a range",
        ValueKind::Ramp { .. } => "a ramp",
        ValueKind::Quantity(_) => "a quantity with a unit",
        ValueKind::Dims(_) => "dimensions",
        ValueKind::Word(_) => "a name",
        ValueKind::Str(_) => "a string",
        ValueKind::Call(_) => "a call",
    }
}

pub(crate) fn wrong_kind(ctx: &mut Ctx, value: &Value, what: &str, expected: &str) {
    ctx.error(
        ErrorCode::OutOfRange,
        value.span,
        format!("{what} must be {expected}, found {}", describe(value)),
        format!("expected {expected}"),
    );
}

/// A finite number, as written (recorded for the precision check).
pub(crate) fn number_value(ctx: &mut Ctx, number: &Number, what: &str) -> Option<f64> {
    let value = number.to_f64();
    if value.is_finite() {
        let sign = if number.negative { "-" } else { "" };
        ctx.reals.push(crate::precision::Real {
            value,
            text: format!("{sign}{}", number.text),
            span: number.span,
            what: what.to_string(),
        });
        Some(value)
    } else {
        ctx.error(
            ErrorCode::OutOfRange,
            number.span,
            format!("{what} is too large"),
            "not a finite number",
        );
        None
    }
}

/// A plain number.
pub(crate) fn float(ctx: &mut Ctx, value: &Value, what: &str) -> Option<f64> {
    match &value.kind {
        ValueKind::Number(n) => number_value(ctx, n, what),
        _ => {
            wrong_kind(ctx, value, what, "a number");
            None
        }
    }
}

/// A plain number satisfying `ok`, described by `range` ("in [0, 1)").
pub(crate) fn float_where(
    ctx: &mut Ctx,
    value: &Value,
    what: &str,
    range: &str,
    ok: impl Fn(f64) -> bool,
) -> Option<f64> {
    let x = float(ctx, value, what)?;
    if ok(x) {
        Some(x)
    } else {
        ctx.error(
            ErrorCode::OutOfRange,
            value.span,
            format!("{what} must be {range}, found {x}"),
            format!("must be {range}"),
        );
        None
    }
}

/// An integer in `min..=max`.
pub(crate) fn count(ctx: &mut Ctx, value: &Value, what: &str, min: u64, max: u64) -> Option<u64> {
    let ValueKind::Number(number) = &value.kind else {
        wrong_kind(ctx, value, what, "a whole number");
        return None;
    };
    integer(ctx, number, what, min, max)
}

/// A whole number within one of the shared limits (`netc_limits`), named as it names itself.
pub(crate) fn limited(ctx: &mut Ctx, value: &Value, limit: &crate::limits::Limit) -> Option<u64> {
    count(ctx, value, limit.what, limit.min, limit.max)
}

pub(crate) fn integer(
    ctx: &mut Ctx,
    number: &Number,
    what: &str,
    min: u64,
    max: u64,
) -> Option<u64> {
    if number.negative && number.to_u64() != Some(0) {
        ctx.error(
            ErrorCode::OutOfRange,
            number.span,
            format!("{what} cannot be negative"),
            "negative",
        );
        return None;
    }
    if !number.is_integer() {
        ctx.error(
            ErrorCode::OutOfRange,
            number.span,
            format!("{what} must be a whole number"),
            "expected a whole number",
        );
        return None;
    }
    match number.to_u64() {
        Some(n) if (min..=max).contains(&n) => Some(n),
        Some(0) => {
            ctx.error(
                ErrorCode::OutOfRange,
                number.span,
                format!("{what} must be at least {min}, found 0"),
                "zero",
            );
            None
        }
        _ => {
            let bound = if number.to_u64().is_some_and(|n| n < min) {
                format!("at least {}", crate::summary::thousands(min))
            } else {
                format!("at most {}", crate::summary::thousands(max))
            };
            ctx.error(
                ErrorCode::OutOfRange,
                number.span,
                format!("{what} must be {bound}, found {}", number.text),
                format!("must be {bound}"),
            );
            None
        }
    }
}

/// A bare name.
pub(crate) fn word<'v>(ctx: &mut Ctx, value: &'v Value, what: &str) -> Option<(&'v str, Span)> {
    match &value.kind {
        ValueKind::Word(w) => Some((w.as_str(), value.span)),
        _ => {
            wrong_kind(ctx, value, what, "a name");
            None
        }
    }
}

/// `200 steps` / `3 epochs`.
pub(crate) fn duration(ctx: &mut Ctx, value: &Value, what: &str) -> Option<Duration> {
    match &value.kind {
        ValueKind::Quantity(q) => quantity_duration(ctx, q, what),
        _ => {
            wrong_kind(
                ctx,
                value,
                what,
                "a duration such as `200 steps` or `3 epochs`",
            );
            None
        }
    }
}

pub(crate) fn quantity_duration(
    ctx: &mut Ctx,
    q: &netc_syntax::ast::Quantity,
    what: &str,
) -> Option<Duration> {
    let n = integer(ctx, &q.amount, what, 1, u64::MAX)?;
    match q.unit {
        Unit::Steps => Some(Duration::Steps(n)),
        Unit::Epochs => Some(Duration::Epochs(n)),
        Unit::Deg => {
            ctx.error(
                ErrorCode::OutOfRange,
                q.span,
                format!("{what} must be in `steps` or `epochs`"),
                "not a duration",
            );
            None
        }
    }
}
