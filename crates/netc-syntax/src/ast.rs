//! The spanned AST: a faithful mirror of `grammar/net.pest`, with no meaning attached yet.
//!
//! Items are generic (`keyword arg*`) on purpose: the checker gives names their meaning so it
//! can say "unknown activation `rleu`, did you mean `relu`?" instead of a syntax error.
//! Every node that can be blamed carries a [`Span`].

use crate::span::Span;

/// A whole `.net` file: its blocks in source order.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub blocks: Vec<Block>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub kind: BlockKind,
    /// The block keyword (`model`, `data`, …).
    pub keyword_span: Span,
    /// For `ensemble`, the single item `bagging 5 vote=majority`.
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BlockKind {
    Model { name: Ident },
    Data,
    Train,
    Search,
    Ensemble,
}

impl BlockKind {
    pub fn keyword(&self) -> &'static str {
        match self {
            BlockKind::Model { .. } => "model",
            BlockKind::Data => "data",
            BlockKind::Train => "train",
            BlockKind::Search => "search",
            BlockKind::Ensemble => "ensemble",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// `keyword arg*`, e.g. `dense 256 relu init=he`.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub name: Ident,
    pub args: Vec<Arg>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Positional(Value),
    Named(NamedArg),
    /// `{ items }` inside an item (`augment { … }`).
    Block(SubBlock),
}

impl Arg {
    pub fn span(&self) -> Span {
        match self {
            Arg::Positional(v) => v.span,
            Arg::Named(n) => n.span,
            Arg::Block(b) => b.span,
        }
    }
}

/// `name = value`.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedArg {
    pub name: Ident,
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubBlock {
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ValueKind {
    Number(Number),
    /// `10%`
    Percent(Number),
    /// `1/255`
    Ratio(Number, Number),
    /// `0.9..1.1`
    Range(Number, Number),
    /// `0.5->0.99 over 10 epochs`; `to` is absent in `0.9 over 10 epochs` (an error later).
    Ramp {
        from: Number,
        to: Option<Number>,
        over: Option<Quantity>,
    },
    /// `200 steps`, `10deg`
    Quantity(Quantity),
    /// `28x28x1`
    Dims(Vec<Number>),
    /// A bare name or flag: `relu`, `full`, `restore_best`, `true`.
    Word(String),
    /// A string literal with escapes resolved (always a file path).
    Str(String),
    Call(Call),
}

/// A number as written (the checker decides whether it must be an integer).
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    /// The digits without the sign, exactly as written (`1e-3`, `784`).
    pub text: String,
    pub negative: bool,
    pub span: Span,
}

impl Number {
    /// The value as f64; huge literals become ±infinity (the checker rejects them).
    pub fn to_f64(&self) -> f64 {
        let magnitude: f64 = self.text.parse().unwrap_or(f64::INFINITY);
        if self.negative { -magnitude } else { magnitude }
    }

    /// The value as an unsigned integer, if it is written as one and fits.
    pub fn to_u64(&self) -> Option<u64> {
        if self.negative {
            return (self.text.bytes().all(|b| b == b'0')).then_some(0);
        }
        self.text.parse().ok()
    }

    /// Written as an integer (no `.` or exponent).
    pub fn is_integer(&self) -> bool {
        self.text.bytes().all(|b| b.is_ascii_digit())
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Quantity {
    pub amount: Number,
    pub unit: Unit,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Steps,
    Epochs,
    Deg,
}

impl Unit {
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Steps => "steps",
            Unit::Epochs => "epochs",
            Unit::Deg => "deg",
        }
    }
}

/// `name(args)`: positional and named arguments only, no sub-blocks.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub name: Ident,
    pub args: Vec<Arg>,
    pub span: Span,
}
