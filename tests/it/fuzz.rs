//! fuzz tests: thousands of random and mutated specs. Parsing and checking must never
//! panic, every diagnostic must point inside the text, and rendering must work.
//! Deterministic (fixed seed, self-contained PRNG) so a failure reproduces exactly.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use netc_syntax::{SourceFile, render_plain};

/// SplitMix64: tiny, fast, good enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Fragments that stress the number, unit and name handling.
const NASTY: &[&str] = &[
    "99999999999999999999",
    "1e999",
    "-1e999",
    "0",
    "-0",
    "- 1",
    "1/0",
    "0/0",
    "10%",
    "100%",
    "1e-400",
    "0.5->0.99 over 10 epochs",
    "0.9 over 3 steps",
    "28x28x1",
    "0x0x0",
    "99999x99999x99999",
    "10deg",
    "..",
    "->",
    "\"",
    "\"\\",
    "\\\"",
    "{",
    "}",
    "(",
    ")",
    "=",
    ",",
    "#",
    "//",
    "é",
    "模型",
    "🦀",
    "\u{0}",
    "\u{feff}",
    "\r\n",
    "model",
    "dense",
    "loss",
    "train",
    "data",
    "search",
    "ensemble",
    "augment { shift 2 }",
    "batch full",
    "optimizer newton",
    "optimizer lbfgs",
    "dropout",
    "fn",
    "self",
    "relu",
    "softmax",
    "csv(\"x\", label=-1)",
];

fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = Vec::new();
    for dir in ["../specs", "corpus/ok", "corpus/err"] {
        let Ok(entries) = fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if path.extension().is_some_and(|e| e == "net") {
                texts.push(fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    assert!(texts.len() >= 5, "the fuzzer needs the example specs");
    texts
}

fn char_boundaries(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect()
}

/// One random edit of `text`.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let bounds = char_boundaries(text);
    let at = *rng.pick(&bounds);
    let to = bounds
        [(bounds.iter().position(|b| *b == at).unwrap_or(0) + rng.below(8)).min(bounds.len() - 1)];
    let tokens: Vec<&str> = text.split_whitespace().collect();
    match rng.below(9) {
        // delete a character run
        0 => format!("{}{}", &text[..at], &text[to..]),
        // duplicate a run
        1 => format!("{}{}{}", &text[..to], &text[at..to], &text[to..]),
        // insert a nasty fragment
        2 => format!("{} {} {}", &text[..at], rng.pick(NASTY), &text[at..]),
        // insert random bytes (as lossy UTF-8)
        3 => {
            let bytes: Vec<u8> = (0..rng.below(6) + 1).map(|_| rng.next() as u8).collect();
            format!(
                "{}{}{}",
                &text[..at],
                String::from_utf8_lossy(&bytes),
                &text[at..]
            )
        }
        // delete a token
        4 if !tokens.is_empty() => {
            let skip = rng.below(tokens.len());
            tokens
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, t)| *t)
                .collect::<Vec<_>>()
                .join(" ")
        }
        // duplicate a token
        5 if !tokens.is_empty() => {
            let twice = rng.below(tokens.len());
            let mut out = Vec::new();
            for (i, t) in tokens.iter().enumerate() {
                out.push(*t);
                if i == twice {
                    out.push(*t);
                }
            }
            out.join(" ")
        }
        // swap two tokens
        6 if tokens.len() > 1 => {
            let mut out = tokens.clone();
            let (a, b) = (rng.below(out.len()), rng.below(out.len()));
            out.swap(a, b);
            out.join(" ")
        }
        // replace a token with a nasty fragment
        7 if !tokens.is_empty() => {
            let mut out: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
            let i = rng.below(out.len());
            out[i] = rng.pick(NASTY).to_string();
            out.join(" ")
        }
        // truncate
        _ => text[..at].to_string(),
    }
}

fn random_text(rng: &mut Rng) -> String {
    let mut out = String::new();
    for _ in 0..rng.below(40) {
        if rng.below(2) == 0 {
            let fragment: &&str = rng.pick(NASTY);
            out.push_str(fragment);
        } else {
            out.push(char::from_u32(rng.below(0x3000) as u32).unwrap_or('?'));
        }
        out.push(' ');
    }
    out
}

/// Checks one input: no panic, spans inside the text, rendering works.
fn check_one(text: String) {
    let src = SourceFile::new("fuzz.net", text);
    let outcome = catch_unwind(AssertUnwindSafe(|| match netc_sema::check(&src) {
        Ok(net) => {
            let _ = netc_sema::summary(&net);
            Vec::new()
        }
        Err(diags) => {
            let _ = render_plain(&src, &diags);
            diags
        }
    }));
    let diags = outcome.unwrap_or_else(|_| panic!("check panicked on:\n{:?}", src.text));
    for d in &diags {
        assert!(
            !d.labels.is_empty(),
            "diagnostic without a span: {} on {:?}",
            d.message,
            src.text
        );
        for label in &d.labels {
            assert!(
                label.span.start <= label.span.end && label.span.end as usize <= src.text.len(),
                "span {:?} outside the text ({} bytes) for {:?} on {:?}",
                label.span,
                src.text.len(),
                d.message,
                src.text
            );
        }
    }
}

#[test]
fn mutated_specs_never_panic() {
    let texts = corpus();
    let mut rng = Rng(0x6E65_7463);
    for _ in 0..4000 {
        let mut text = rng.pick(&texts).clone();
        for _ in 0..rng.below(4) + 1 {
            text = mutate(&mut rng, &text);
        }
        check_one(text);
    }
}

#[test]
fn random_text_never_panics() {
    let mut rng = Rng(42);
    for _ in 0..2000 {
        check_one(random_text(&mut rng));
    }
}

#[test]
fn hostile_shapes_never_panic() {
    let deep_parens = format!(
        "model m {{ input 4 dense 2 init={}{} loss softmax }}",
        "normal(".repeat(5000),
        ")".repeat(5000)
    );
    let deep_braces = format!("data {{ augment {} }}", "{ ".repeat(5000));
    let long_flat = format!(
        "model m {{ input 4 {} dense 2 loss softmax }}",
        "dense 4 relu ".repeat(2_000)
    );
    let many_errors = "model m { input 4 ".to_string() + &"dense 0 ".repeat(5000) + "}";
    for text in [
        deep_parens,
        deep_braces,
        long_flat,
        many_errors,
        String::new(),
        "\u{feff}".into(),
        "#".into(),
    ] {
        check_one(text);
    }
}
