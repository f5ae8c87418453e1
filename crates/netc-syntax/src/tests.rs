//! Parser unit tests: a compact AST dump (no spans) per input, and syntax errors rendered.

use crate::ast::*;
use crate::{SourceFile, parse, render_plain};

fn check_parse(src: &str) -> String {
    let file = SourceFile::new("test.net", src);
    match parse(&file) {
        Ok(ast) => dump(&ast),
        Err(diagnostic) => render_plain(&file, &[diagnostic]),
    }
}

fn dump(file: &File) -> String {
    let mut out = String::new();
    for block in &file.blocks {
        match &block.kind {
            BlockKind::Model { name } => out.push_str(&format!("model {}\n", name.name)),
            other => out.push_str(&format!("{}\n", other.keyword())),
        }
        for item in &block.items {
            dump_item(item, 1, &mut out);
        }
    }
    out
}

fn dump_item(item: &Item, depth: usize, out: &mut String) {
    let args: Vec<String> = item.args.iter().map(dump_arg).collect();
    out.push_str(&format!(
        "{}{} [{}]\n",
        "  ".repeat(depth),
        item.name.name,
        args.join(", ")
    ));
    for arg in &item.args {
        if let Arg::Block(block) = arg {
            for inner in &block.items {
                dump_item(inner, depth + 1, out);
            }
        }
    }
}

fn dump_arg(arg: &Arg) -> String {
    match arg {
        Arg::Positional(v) => dump_value(v),
        Arg::Named(n) => format!("{}={}", n.name.name, dump_value(&n.value)),
        Arg::Block(b) => format!("{{{} items}}", b.items.len()),
    }
}

fn num(n: &Number) -> String {
    format!("{}{}", if n.negative { "-" } else { "" }, n.text)
}

fn dump_value(value: &Value) -> String {
    match &value.kind {
        ValueKind::Number(n) => num(n),
        ValueKind::Percent(n) => format!("{}%", num(n)),
        ValueKind::Ratio(a, b) => format!("{}/{}", num(a), num(b)),
        ValueKind::Range(a, b) => format!("{}..{}", num(a), num(b)),
        ValueKind::Ramp { from, to, over } => format!(
            "ramp({} -> {} over {})",
            num(from),
            to.as_ref().map_or("?".into(), num),
            over.as_ref().map_or("?".into(), |q| format!(
                "{} {}",
                num(&q.amount),
                q.unit.as_str()
            ))
        ),
        ValueKind::Quantity(q) => format!("{} {}", num(&q.amount), q.unit.as_str()),
        ValueKind::Dims(d) => d.iter().map(num).collect::<Vec<_>>().join("x"),
        ValueKind::Word(w) => w.clone(),
        ValueKind::Str(s) => format!("{s:?}"),
        ValueKind::Call(c) => {
            let args: Vec<String> = c.args.iter().map(dump_arg).collect();
            format!("{}({})", c.name.name, args.join(", "))
        }
    }
}

#[test]
fn issue_example_parses() {
    insta::assert_snapshot!(check_parse(
        r#"
model mnist_mlp {
    input   28x28x1                     # or: input 784
    dense   256 relu   init=he
    dropout 0.5
    batchnorm momentum=0.9
    dense   10         init=xavier bias=normal(std=0.01)
    loss    softmax
}
data {
    train      idx("a.gz", "b.gz")
    validation 10%
    scale      1/255
    augment    { shift 2  rotate 10deg  scale 0.9..1.1  flip horizontal }
}
train {
    epochs 20   batch 64
    optimizer momentum(mu=0.5->0.99 over 10 epochs)
    learning_rate 1e-3 linear(to=1e-5, until=20000 steps)
    early_stopping patience=5 monitor=val_accuracy restore_best
    monitor grad_norm curvature every=200 steps
}
search { trials 40 learning_rate log_uniform(1e-5, 1e-1) l2 log_uniform(1e-6, 1e-2) coarse epochs=2 fine top=5 epochs=10 }
ensemble bagging 5 vote=majority
"#
    ));
}

#[test]
fn macro_spacing_is_accepted() {
    insta::assert_snapshot!(check_parse(
        r#"model m { input 28 x 28 x 1 dense 10 } data { train csv("x.csv", label = - 1) validation 10 % scale 1 / 255
           augment { rotate 10 deg scale 0.9 .. 1.1 } } train { optimizer momentum(mu = 0.5 -> 0.99 over 10 epochs) }"#
    ));
}

#[test]
fn unit_is_not_taken_when_a_number_follows() {
    insta::assert_snapshot!(check_parse("train { early_stopping patience=5 epochs 20 }"));
}

#[test]
fn syntax_error_names_what_was_expected() {
    insta::assert_snapshot!(check_parse("model m {\n    dense 10 init=\n}\n"));
}

#[test]
fn missing_brace_is_reported_at_end() {
    insta::assert_snapshot!(check_parse("model m {\n    dense 10\n"));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let src = format!(
        "train {{ optimizer {}{} }}",
        "a(".repeat(10_000),
        ")".repeat(10_000)
    );
    let file = SourceFile::new("deep.net", src);
    let error = parse(&file).expect_err("nesting limit");
    assert_eq!(error.code, crate::ErrorCode::Syntax);
}

#[test]
fn huge_numbers_parse_as_text() {
    let file = SourceFile::new("t.net", "model m { input 99999999999999999999 }");
    let ast = parse(&file).expect("parses");
    let Arg::Positional(Value {
        kind: ValueKind::Number(n),
        ..
    }) = &ast.blocks[0].items[0].args[0]
    else {
        panic!("expected a number");
    };
    assert_eq!(n.to_u64(), None);
    assert!(n.to_f64() > 1e19);
}

#[test]
fn long_lines_are_clipped_around_the_caret() {
    let src = format!("model m {{ input 4 {} dense 0 }}", "dense 4 ".repeat(100));
    let file = SourceFile::new("long.net", src);
    let at = file.text.find("dense 0").expect("present") as u32 + 6;
    let diagnostic = crate::Diagnostic::error(crate::ErrorCode::OutOfRange, "zero units")
        .with_primary(crate::Span::new(at, at + 1), "zero");
    insta::assert_snapshot!(render_plain(&file, &[diagnostic]));
}

#[test]
fn ansi_rendering_is_coloured_and_says_the_same() {
    let file = SourceFile::new("t.net", "model m {\n    dense 10 init=\n}\n");
    let error = parse(&file).expect_err("syntax error");
    let coloured = crate::render_ansi(&file, std::slice::from_ref(&error));
    assert!(
        coloured.contains("\u{1b}["),
        "no ANSI escapes: {coloured:?}"
    );
    assert!(coloured.contains(&error.message));
    assert!(coloured.contains("t.net:3:1"));
}
