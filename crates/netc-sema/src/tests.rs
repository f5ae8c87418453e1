//! Checker unit tests: `check_ir` snapshots the summary, `check_error` asserts codes.

use netc_syntax::{ErrorCode, SourceFile};

use crate::{check, summary};

fn check_ir(src: &str) -> String {
    let file = SourceFile::new("test.net", src);
    match check(&file) {
        Ok(net) => summary(&net),
        Err(diags) => panic!(
            "unexpected errors:\n{}",
            netc_syntax::render_plain(&file, &diags)
        ),
    }
}

/// Asserts exactly these codes, in source order.
fn check_error(src: &str, expected: &[ErrorCode]) {
    let file = SourceFile::new("test.net", src);
    let diags = check(&file).expect_err("expected errors");
    let codes: Vec<ErrorCode> = diags.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        expected,
        "{}",
        netc_syntax::render_plain(&file, &diags)
    );
}

const MNIST: &str = "model m { input 28x28x1 dense 256 relu dense 128 relu dense 10 loss softmax }";

#[test]
fn train_flops_match_the_peer_benchmark() {
    let net = check(&SourceFile::new("t.net", MNIST)).expect("valid");
    assert_eq!(net.model.train_flops, 1_007_104);
    assert_eq!(64 * net.model.train_flops, 64_454_656); // 64.45 MFLOP per batch of 64
    assert_eq!(net.model.total_params, 235_146);
    assert_eq!(net.model.layers[0].flops, 2 * 784 * 256 + 256 + 256);
}

#[test]
fn defaults_are_filled_in() {
    insta::assert_snapshot!(check_ir(
        "model tiny { input 4 dense 16 relu dense 3 loss softmax }"
    ));
}

#[test]
fn dense_init_defaults_follow_the_activation() {
    let net = check(&SourceFile::new(
        "t.net",
        "model m { input 4 dense 8 relu dense 8 tanh dense 2 loss softmax }",
    ))
    .unwrap();
    let inits: Vec<_> = net
        .model
        .layers
        .iter()
        .map(|l| match l.kind {
            crate::ir::LayerKind::Dense { init, .. } => init,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        inits,
        [
            crate::ir::Init::He,
            crate::ir::Init::Xavier,
            crate::ir::Init::Xavier
        ]
    );
}

#[test]
fn all_errors_are_collected() {
    check_error(
        "model m { input 4 dense 0 rleu dropout 1.5 loss softmax }\ntrain { batch 0 optimizer adamm }",
        &[
            ErrorCode::OutOfRange,
            ErrorCode::UnknownName,
            ErrorCode::OutOfRange,
            ErrorCode::OutOfRange,
            ErrorCode::UnknownName,
        ],
    );
}

#[test]
fn model_names_must_be_rust_identifiers() {
    check_error(
        "model fn { input 4 dense 2 loss softmax }",
        &[ErrorCode::InvalidName],
    );
    check_error(
        "model self { input 4 dense 2 loss softmax }",
        &[ErrorCode::InvalidName],
    );
    check_error(
        "model Mnist { input 4 dense 2 loss softmax }",
        &[ErrorCode::InvalidName],
    );
}

#[test]
fn second_order_optimizers_need_full_batch() {
    check_error(
        "model m { input 4 dense 2 loss softmax } train { batch 8 optimizer lbfgs }",
        &[ErrorCode::Incompatible],
    );
    check_ir("model m { input 4 dense 2 loss softmax } train { batch full optimizer lbfgs }");
    check_error(
        "model m { input 784 dense 100 dense 2 loss softmax } train { batch full optimizer newton }",
        &[ErrorCode::TooLarge],
    );
}

#[test]
fn huge_sizes_are_errors() {
    check_error(
        "model m { input 99999999999999999999 dense 2 loss softmax }",
        &[ErrorCode::OutOfRange],
    );
    check_error(
        "model m { input 1000 dense 1000000 dense 1000000 dense 2 loss softmax }",
        &[ErrorCode::TooLarge],
    );
    check_error(
        "model m { input 4 dense 2 loss softmax } train { learning_rate 1e999 }",
        &[ErrorCode::OutOfRange],
    );
}

/// The spec refuses what the trainer's flags and `--set` refuse (one table, `netc_limits`),
/// naming the limit.
#[test]
fn counts_are_held_to_the_shared_limits() {
    for (src, message) in [
        (
            "model m { input 4 dense 2 loss softmax } train { epochs 1000000000 }",
            "epochs must be at most 1,000,000, found 1000000000",
        ),
        (
            "model m { input 4 dense 2 loss softmax } train { batch 1000001 }",
            "the batch size must be at most 1,000,000, found 1000001",
        ),
    ] {
        let file = SourceFile::new("test.net", src);
        let diags = check(&file).expect_err("expected errors");
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, ErrorCode::OutOfRange);
        assert_eq!(diags[0].message, message);
    }
    // Counts are written as integers in a spec: `1e9` is refused as not one.
    check_error(
        "model m { input 4 dense 2 loss softmax } train { epochs 1e9 }",
        &[ErrorCode::OutOfRange],
    );
}

#[test]
fn every_construct_of_the_issue_lands_in_the_ir() {
    insta::assert_snapshot!(check_ir(
        r#"model full { input 28x28x1 dense 256 relu init=he dropout 0.5 dense 128 relu init=normal(std=0.01) bias=normal(0.1)
           batchnorm momentum=0.9 dropout 0.5 dense 10 init=xavier loss softmax }
           data { train idx("a.gz", "b.gz") test csv("t.csv", label=0, header=false) validation 10% scale 1/255
                  preprocess mean_image augment { shift 2 rotate 10deg scale 0.9..1.1 flip horizontal } }
           train { epochs 20 batch 64 sampling with_replacement optimizer nesterov(mu=0.5->0.99 over 10 epochs)
                   learning_rate 1e-3 cosine(min=1e-5, period=20 epochs) regularize l2(1e-4) l1(0) maxnorm(3.0) include_bias
                   early_stopping patience=5 monitor=val_accuracy min_delta=0.001 restore_best
                   monitor grad_norm curvature every=200 steps precision f64 seed 42 }
           search { trials 40 learning_rate log_uniform(1e-5, 1e-1) l2 log_uniform(1e-6, 1e-2) dropout uniform(0.2, 0.6)
                    coarse epochs=2 fine top=5 epochs=10 }
           ensemble bagging 5 vote=average"#
    ));
}

#[test]
fn diagnostics_are_capped() {
    let src = "model m { input 4 ".to_string() + &"dense 0 ".repeat(200) + "}";
    let diags = check(&SourceFile::new("t.net", src)).expect_err("errors");
    assert_eq!(diags.len(), 50);
    assert!(
        diags[49]
            .notes
            .iter()
            .any(|n| n.contains("more errors not shown"))
    );
}

#[test]
fn reals_must_be_normal_numbers_of_the_model_precision() {
    let with = |setting: &str, precision: &str| {
        let src = format!(
            "model m {{ input 4 dense 2 loss softmax }} train {{ {setting} precision {precision} }}"
        );
        check(&SourceFile::new("t.net", src)).map(|_| ())
    };
    let refused = |setting: &str, precision: &str| {
        let diags = with(setting, precision).expect_err(setting);
        assert_eq!(diags.len(), 1, "{setting}");
        assert_eq!(diags[0].code, ErrorCode::OutOfRange, "{setting}");
        assert!(
            diags[0].message.contains(&format!("in {precision}")),
            "{}",
            diags[0].message
        );
    };
    // f32: normal from 1.1754944e-38 to 3.4028235e38.
    with("learning_rate 1.2e-38", "f32").expect("normal");
    refused("learning_rate 1e-38", "f32"); // subnormal
    refused("learning_rate 1e-50", "f32"); // 0
    refused("learning_rate 3.5e38", "f32"); // infinity
    with("learning_rate 3.4e38", "f32").expect("normal");
    // f64 holds all of these; only its own subnormals and underflows are refused.
    with("learning_rate 1e-50", "f64").expect("normal in f64");
    refused("learning_rate 1e-310", "f64");
    // A written zero is a zero, whatever its exponent.
    with("regularize l2(0e-400) l1(0.0)", "f32").expect("zero is zero");
    refused("regularize l2(1e-400)", "f64"); // non-zero digits, 0 even as f64
}

#[test]
fn a_model_has_at_most_max_layers_layers() {
    let model = |layers: usize| {
        let mut text = String::from("model m { input 4 ");
        for _ in 1..layers {
            text.push_str("dense 4 relu ");
        }
        text.push_str("dense 2 loss softmax }");
        text
    };
    check_ir(&model(crate::MAX_LAYERS));
    check_error(&model(crate::MAX_LAYERS + 1), &[ErrorCode::TooLarge]);
    // Far past the limit: still one error, at the first layer too many.
    check_error(&model(10 * crate::MAX_LAYERS), &[ErrorCode::TooLarge]);
}
