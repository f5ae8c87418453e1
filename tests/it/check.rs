//! check tests: the summary of every example and ok-corpus spec, and the rendered
//! diagnostics of every err-corpus spec, whose first line names the expected code
//! (`# expect: unknown-name`).

use std::fs;
use std::path::Path;

use netc_syntax::{SourceFile, render_plain};

fn load(path: &Path) -> SourceFile {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    SourceFile::new(name, text)
}

fn summary_of(path: &Path) -> String {
    let src = load(path);
    match netc_sema::check(&src) {
        Ok(net) => netc_sema::summary(&net),
        Err(diags) => panic!("{}", render_plain(&src, &diags)),
    }
}

#[test]
fn examples() {
    insta::glob!("../../specs", "*.net", |path| {
        insta::assert_snapshot!("summary", summary_of(path));
    });
}

#[test]
fn ok_corpus() {
    insta::glob!("../corpus/ok", "*.net", |path| {
        insta::assert_snapshot!("summary", summary_of(path));
    });
}

#[test]
fn err_corpus() {
    insta::glob!("../corpus/err", "*.net", |path| {
        let src = load(path);
        let expected = src
            .text
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{} lacks a `# expect: <code>` first line", src.name))
            .trim()
            .to_string();
        let diags = netc_sema::check(&src).expect_err("an err-corpus spec must not check");
        let rendered = render_plain(&src, &diags);
        assert_eq!(diags[0].code.as_str(), expected, "{rendered}");
        for d in &diags {
            let span = d.primary_span().expect("every diagnostic points somewhere");
            assert!(span.start <= span.end && span.end as usize <= src.text.len());
        }
        insta::assert_snapshot!("diagnostics", rendered);
    });
}

#[test]
fn mnist_mlp_train_flops_are_the_peer_count() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/mnist_mlp.net");
    let net = netc_sema::check(&load(&path)).expect("mnist_mlp checks");
    // 64 × 1,007,104 = 64.45 MFLOP per batch, as the peer benchmarks count it.
    assert_eq!(64 * net.model.train_flops, 64_454_656);
}

/// Re-spaces a spec the way `TokenStream::to_string()` prints Rust tokens: comments gone,
/// one line, punctuation apart (`mu = 0.5 -> 0.99`, `1 / 255`, `10 %`, `- 1`), literals such
/// as `1e-3`, `28x28x1` and `10deg` kept whole.
fn as_macro_tokens(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => while chars.next_if(|c| *c != '\n').is_some() {},
            '"' => {
                out.push(' ');
                out.push('"');
                for s in chars.by_ref() {
                    out.push(s);
                    if s == '"' {
                        break;
                    }
                }
                out.push(' ');
            }
            '-' if chars.peek() == Some(&'>') => {
                chars.next();
                out.push_str(" -> ");
            }
            '.' if chars.peek() == Some(&'.') => {
                chars.next();
                out.push_str(" .. ");
            }
            '{' | '}' | '(' | ')' | '=' | ',' | '%' | '/' | '-' => {
                out.push(' ');
                out.push(c);
                out.push(' ');
            }
            // A Rust float literal keeps its exponent sign: `1e-3` is one token.
            'e' if out.ends_with(|p: char| p.is_ascii_digit()) && chars.peek() == Some(&'-') => {
                out.push_str("e-");
                chars.next();
            }
            c if c.is_whitespace() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[test]
fn examples_check_identically_when_spaced_like_macro_tokens() {
    insta::glob!("../../specs", "*.net", |path| {
        let src = load(path);
        let spaced = SourceFile::new("<inline>", as_macro_tokens(&src.text));
        let respaced = netc_sema::check(&spaced)
            .unwrap_or_else(|d| panic!("{}\n{}", spaced.text, render_plain(&spaced, &d)));
        assert_eq!(
            netc_sema::summary(&respaced),
            summary_of(path),
            "{}",
            spaced.text
        );
    });
}
