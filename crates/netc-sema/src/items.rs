//! The names a block accepts, each written at most once: unknown names get a "did you mean"
//! (and, when another block takes them, where they belong), repeated names point at the first.

use netc_syntax::{Diagnostic, Span};

use crate::ctx::Ctx;
use crate::names::unknown;

/// The item names one block (or `{ … }` list) accepts.
pub(crate) struct Items<'s> {
    pub names: &'s [&'s str],
    /// What one of them is called: "unknown {what} `epochs`".
    pub what: &'s str,
    /// Other blocks whose names earn a "`x` belongs in the `block` block" note.
    pub elsewhere: &'s [(&'s str, &'s [&'s str])],
}

impl Items<'_> {
    /// "unknown {what} `name`", the closest known name, and the block `name` belongs in.
    pub fn unknown(&self, name: &str, span: Span) -> Diagnostic {
        let diagnostic = unknown(name, span, self.what, self.names.iter().copied());
        match self
            .elsewhere
            .iter()
            .find(|(_, names)| names.contains(&name))
        {
            Some((block, _)) => {
                diagnostic.with_note(format!("`{name}` belongs in the `{block}` block"))
            }
            None => diagnostic,
        }
    }
}

/// The names written so far in one block, with where each was first written.
#[derive(Default)]
pub(crate) struct Written<'a>(Vec<(&'a str, Span)>);

impl<'a> Written<'a> {
    /// Records `name`; when it was written before, reports both places and returns false.
    pub fn once(&mut self, ctx: &mut Ctx, name: &'a str, span: Span) -> bool {
        if let Some((_, first)) = self.0.iter().find(|(n, _)| *n == name) {
            ctx.duplicate(&format!("`{name}`"), *first, span);
            return false;
        }
        self.0.push((name, span));
        true
    }

    /// Whether `name` is one of `items` and written for the first time; reports it if not.
    pub fn admit(&mut self, ctx: &mut Ctx, items: &Items<'_>, name: &'a str, span: Span) -> bool {
        if !items.names.contains(&name) {
            ctx.report(items.unknown(name, span));
            return false;
        }
        self.once(ctx, name, span)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| *n == name)
    }
}
