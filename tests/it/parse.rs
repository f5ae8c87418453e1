//! parse tests: every example and ok-corpus file parses; syntax errors render with a span.

use std::fs;
use std::path::Path;

use netc_syntax::{ErrorCode, SourceFile, parse, render_plain};

fn load(path: &Path) -> SourceFile {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    SourceFile::new(name, text)
}

#[test]
fn examples_parse() {
    insta::glob!("../../specs", "*.net", |path| {
        let src = load(path);
        if let Err(d) = parse(&src) {
            panic!("{}", render_plain(&src, &[d]));
        }
    });
}

#[test]
fn ok_corpus_parses() {
    insta::glob!("../corpus/ok", "*.net", |path| {
        let src = load(path);
        if let Err(d) = parse(&src) {
            panic!("{}", render_plain(&src, &[d]));
        }
    });
}

/// Only `syntax_*` files may fail to parse: the others must reach the checker.
#[test]
fn err_corpus_fails_to_parse_only_when_it_should() {
    insta::glob!("../corpus/err", "*.net", |path| {
        let src = load(path);
        let is_syntax_case = src.name.starts_with("syntax_");
        match parse(&src) {
            Ok(_) => assert!(!is_syntax_case, "{} should not parse", src.name),
            Err(d) => {
                assert!(
                    is_syntax_case,
                    "{} failed to parse:\n{}",
                    src.name,
                    render_plain(&src, std::slice::from_ref(&d))
                );
                assert_eq!(d.code, ErrorCode::Syntax);
                let span = d.primary_span().expect("syntax errors carry a span");
                assert!(span.end as usize <= src.text.len());
                // What `check` reports (snapshotted in check.rs) is this error, unchanged.
                let checked = netc_sema::check(&src).expect_err("a syntax error");
                assert_eq!(render_plain(&src, &checked), render_plain(&src, &[d]));
            }
        }
    });
}
