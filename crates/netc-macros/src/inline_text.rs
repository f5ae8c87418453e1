//! Rust tokens back to `.net` text, remembering which token each piece of text came from so
//! a diagnostic's byte offset maps to the exact token rustc should underline.

use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};

pub struct InlineText {
    pub text: String,
    /// `(start, end, span)` of every token's text, in order.
    pieces: Vec<(usize, usize, Span)>,
}

impl InlineText {
    /// Tokens joined by single spaces, except inside the two-character operators of the
    /// language (`->`, `..`), which rustc hands over as two joint punctuation tokens. Other
    /// joint pairs (`=-` in `label=-1`) are split: the grammar reads `= - 1`.
    pub fn new(tokens: TokenStream) -> Self {
        let mut out = InlineText {
            text: String::new(),
            pieces: Vec::new(),
        };
        out.push_stream(tokens);
        out
    }

    /// The span of the token covering `offset`, else the nearest one before it.
    pub fn span_at(&self, offset: usize) -> Span {
        let index = self
            .pieces
            .partition_point(|&(start, _, _)| start <= offset);
        match index.checked_sub(1).and_then(|i| self.pieces.get(i)) {
            Some(&(_, _, span)) => span,
            None => self
                .pieces
                .first()
                .map_or_else(Span::call_site, |&(_, _, span)| span),
        }
    }

    fn push_stream(&mut self, tokens: TokenStream) {
        // The previous token, if it was a joint punctuation.
        let mut joint: Option<char> = None;
        for tree in tokens {
            let glue = match (&tree, joint) {
                (TokenTree::Punct(next), Some(prev)) => {
                    matches!((prev, next.as_char()), ('-', '>') | ('.', '.'))
                }
                _ => false,
            };
            if !self.text.is_empty() && !glue {
                self.text.push(' ');
            }
            joint = None;
            match tree {
                TokenTree::Group(group) => {
                    let (open, close) = match group.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Brace => ("{", "}"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::None => ("", ""),
                    };
                    self.push_piece(open, group.span_open());
                    self.push_stream(group.stream());
                    if !close.is_empty() {
                        self.text.push(' ');
                    }
                    self.push_piece(close, group.span_close());
                }
                TokenTree::Punct(punct) => {
                    if punct.spacing() == Spacing::Joint {
                        joint = Some(punct.as_char());
                    }
                    self.push_piece(&punct.as_char().to_string(), punct.span());
                }
                TokenTree::Ident(ident) => self.push_piece(&ident.to_string(), ident.span()),
                TokenTree::Literal(literal) => {
                    self.push_piece(&literal.to_string(), literal.span())
                }
            }
        }
    }

    fn push_piece(&mut self, piece: &str, span: Span) {
        if piece.is_empty() {
            return;
        }
        let start = self.text.len();
        self.text.push_str(piece);
        self.pieces.push((start, self.text.len(), span));
    }
}

#[cfg(test)]
mod tests {
    use super::InlineText;

    fn text(src: &str) -> String {
        let tokens: proc_macro2::TokenStream = src.parse().unwrap();
        InlineText::new(tokens).text
    }

    #[test]
    fn joins_tokens_with_spaces_and_keeps_operators_whole() {
        assert_eq!(
            text(
                "model m { input 28x28x1 dense 10 init=xavier } train { optimizer momentum(mu=0.5->0.99) }"
            ),
            "model m { input 28x28x1 dense 10 init = xavier } train { optimizer momentum ( mu = 0.5 -> 0.99 ) }"
        );
        assert_eq!(
            text("scale 1/255 validation 10% range 0.9..1.1 label=-1"),
            "scale 1 / 255 validation 10 % range 0.9 .. 1.1 label = - 1"
        );
        assert_eq!(
            text(r#"train csv("data/xor.csv")"#),
            r#"train csv ( "data/xor.csv" )"#
        );
    }

    #[test]
    fn offsets_map_back_to_their_token() {
        let tokens: proc_macro2::TokenStream = "model m { dense 8 relu }".parse().unwrap();
        let inline = InlineText::new(tokens);
        let relu = inline.text.find("relu").unwrap();
        // In the fallback (non-macro) implementation spans carry no position; check the
        // lookup returns the piece that starts at or before the offset.
        let _ = inline.span_at(relu);
        let index = inline
            .pieces
            .partition_point(|&(start, _, _)| start <= relu + 2)
            - 1;
        assert_eq!(
            &inline.text[inline.pieces[index].0..inline.pieces[index].1],
            "relu"
        );
        let brace = inline
            .pieces
            .partition_point(|&(start, _, _)| start <= inline.text.len())
            - 1;
        assert_eq!(
            &inline.text[inline.pieces[brace].0..inline.pieces[brace].1],
            "}"
        );
    }
}
