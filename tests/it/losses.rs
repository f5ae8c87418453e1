//! The losses end to end: mse (Σ_j ½(y_j − t_j)² per sample) and logistic on multi-hot or
//! yes/no targets. Gradients of the generated step against a hand computation in f64 (as
//! `formulas.rs` does for softmax), then the specs that use them train.

use netc::__private as rt;
use netc::{Network, Targets};

netc::net!(include "../specs/regression.net");
netc::net!(include "../specs/multilabel.net");
netc::net!(include "../specs/xor_logistic.net");

/// Input 2 → dense OUT (`act`) with batch 2; the tests set W and b.
macro_rules! one_layer {
    ($name:ident, $out:literal, $act:ident, $loss:ident $(, $data:tt)?) => {
        netc::net! {
            model $name {
                input 2
                dense $out $act
                loss $loss
            }
            $(data $data)?
            train { batch 2 optimizer sgd learning_rate 0.1 }
        }
    };
}

one_layer!(mse_two, 2, identity, mse);
one_layer!(mse_sigmoid, 2, sigmoid, mse);
one_layer!(mse_one, 1, identity, mse);
one_layer!(logistic_yes_no, 1, identity, logistic);
one_layer!(
    logistic_multi,
    3,
    identity,
    logistic,
    { train csv("data/multilabel.csv", targets=-3..-1) }
);

const X: [[f64; 2]; 2] = [[1.0, 2.0], [-0.5, 1.5]];

fn x_flat() -> Vec<f32> {
    X.iter().flatten().map(|&v| v as f32).collect()
}

/// W (row-major [out, in]) = 0.1·(1, −2, 3, …), b = 0.05·(1, −1, …): distinct, small.
fn theta(outputs: usize) -> (Vec<f64>, Vec<f64>) {
    let w = (0..outputs * 2)
        .map(|i| 0.1 * (i as f64 + 1.0) * if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let b = (0..outputs)
        .map(|o| 0.05 * if o % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    (w, b)
}

fn set_params<M: Network<Float = f32>>(model: &mut M, w: &[f64], b: &[f64]) {
    let mut tensors = model.tensors_mut();
    for (dst, src) in tensors[0].data.iter_mut().zip(w) {
        *dst = *src as f32;
    }
    for (dst, src) in tensors[1].data.iter_mut().zip(b) {
        *dst = *src as f32;
    }
}

#[derive(Clone, Copy)]
enum Loss {
    /// ½(y − t)² with y = z (`false`) or y = σ(z) (`true`).
    Mse { sigmoid: bool },
    /// softplus(z) − t·z.
    Logistic,
}

/// (mean loss, dW, db) of the batch by hand: for mse dL/dz = (y − t)·y′/B, for logistic
/// (σ(z) − t)/B; dW = Σ dz·xᵀ, db = Σ dz.
fn by_hand(loss: Loss, w: &[f64], b: &[f64], targets: &[Vec<f64>]) -> (f64, Vec<f64>, Vec<f64>) {
    let outputs = b.len();
    let batch = X.len() as f64;
    let sigma = |z: f64| 1.0 / (1.0 + (-z).exp());
    let (mut total, mut gw, mut gb) = (0.0, vec![0.0; w.len()], vec![0.0; outputs]);
    for (x, t) in X.iter().zip(targets) {
        for o in 0..outputs {
            let z = b[o] + w[2 * o] * x[0] + w[2 * o + 1] * x[1];
            let dz = match loss {
                Loss::Mse { sigmoid } => {
                    let (y, slope) = if sigmoid {
                        (sigma(z), sigma(z) * (1.0 - sigma(z)))
                    } else {
                        (z, 1.0)
                    };
                    total += 0.5 * (y - t[o]).powi(2);
                    (y - t[o]) * slope / batch
                }
                Loss::Logistic => {
                    total += (1.0 + z.exp()).ln() - t[o] * z;
                    (sigma(z) - t[o]) / batch
                }
            };
            gw[2 * o] += dz * x[0];
            gw[2 * o + 1] += dz * x[1];
            gb[o] += dz;
        }
    }
    (total / batch, gw, gb)
}

/// One step at θ from [`theta`]: the reported loss and the gradient buffers (computed at θ,
/// before the update) against [`by_hand`].
fn check_step<M: Network<Float = f32>>(
    mut model: M,
    y: Targets<'_>,
    loss: Loss,
    targets: &[Vec<f64>],
    grads: impl Fn(&M) -> Vec<Vec<f32>>,
) {
    let (w, b) = theta(M::OUTPUT);
    set_params(&mut model, &w, &b);
    let stats = netc::__private::train_step_on(&mut model, &x_flat(), y);
    let (expected_loss, gw, gb) = by_hand(loss, &w, &b, targets);
    assert!(
        (f64::from(stats.loss) - expected_loss).abs() <= 1e-6 * expected_loss.max(1.0),
        "loss: generated {}, by hand {expected_loss}",
        stats.loss
    );
    let analytic = grads(&model);
    for (what, generated, expected) in [("dW", &analytic[0], &gw), ("db", &analytic[1], &gb)] {
        assert_eq!(generated.len(), expected.len(), "{what}");
        for (i, (&g, &e)) in generated.iter().zip(expected.iter()).enumerate() {
            assert!(
                (f64::from(g) - e).abs() <= 1e-6 * e.abs().max(0.1),
                "{what}[{i}]: generated {g}, by hand {e}"
            );
        }
    }
    assert!(gw.iter().any(|g| g.abs() > 1e-3), "the case has a gradient");
}

macro_rules! grads_of {
    ($model:ident) => {
        |m: &$model::Model| m.grad_tensors().iter().map(|t| t.data.to_vec()).collect()
    };
}

#[test]
fn mse_gradient_is_y_minus_t_over_the_batch() {
    assert_eq!(
        <mse_two::Model as Network>::TARGET_KIND,
        rt::TargetKind::Values
    );
    let t = [0.5f32, -1.0, 1.5, 0.25];
    let targets = vec![vec![0.5, -1.0], vec![1.5, 0.25]];
    check_step(
        mse_two::new(1),
        Targets::Values(&t),
        Loss::Mse { sigmoid: false },
        &targets,
        grads_of!(mse_two),
    );
}

#[test]
fn mse_through_an_output_activation() {
    let t = [0.9f32, 0.1, 0.2, 0.7];
    let targets = vec![vec![0.9, 0.1], vec![0.2, 0.7]];
    check_step(
        mse_sigmoid::new(1),
        Targets::Values(&t),
        Loss::Mse { sigmoid: true },
        &targets,
        grads_of!(mse_sigmoid),
    );
}

#[test]
fn mse_on_a_class_label_with_one_unit_regresses_the_label() {
    assert_eq!(
        <mse_one::Model as Network>::TARGET_KIND,
        rt::TargetKind::Classes
    );
    check_step(
        mse_one::new(1),
        Targets::Classes(&[2, 0]),
        Loss::Mse { sigmoid: false },
        &[vec![2.0], vec![0.0]],
        grads_of!(mse_one),
    );
}

/// `loss mse` with one output unit on a CSV label column regresses the label as a number,
/// so labels are not capped at the two of a yes/no unit: 0..=4 here, t = x1 + 2·x2.
#[test]
fn mse_on_a_csv_label_column_takes_labels_beyond_one() {
    let dir = crate::support::scratch_dir("losses", "mse-labels");
    let path = dir.join("labels.csv");
    let mut text = String::from("x1,x2,label\n");
    for i in 0..30 {
        let (x1, x2) = (i % 3, i / 3 % 2);
        text += &format!("{x1},{x2},{}\n", x1 + 2 * x2);
    }
    std::fs::write(&path, text).unwrap();
    let cfg = rt::RunConfig {
        epochs: 300,
        verbose: false,
        data: Some(rt::DataConfig {
            train: rt::DataSource::Csv {
                path,
                label_column: -1,
                header: true,
            },
            test: None,
            validation: rt::ValidationSplit::None,
            scale: 1.0,
            base_dir: None,
        }),
        ..mse_one::run_config()
    };
    let splits = rt::load_splits(cfg.data.as_ref().unwrap(), cfg.seed).unwrap();
    assert_eq!(splits.train.labels.iter().max(), Some(&4));
    let (mut model, _) = mse_one::train_with(&cfg).expect("labels 0..=4 are targets, not classes");
    let evaluation = mse_one::evaluate(&mut model, &splits.train).unwrap();
    assert_eq!(
        evaluation.accuracy, 1.0,
        "every output rounds to its label: {evaluation:?}"
    );
    assert!(evaluation.rmse.unwrap() < 0.1, "{evaluation:?}");
}

#[test]
fn multi_label_logistic_gradient_is_sigma_minus_t_per_unit() {
    assert_eq!(
        <logistic_multi::Model as Network>::TARGET_KIND,
        rt::TargetKind::Values
    );
    // Two labels on in the first row, none in the second.
    let t = [1.0f32, 0.0, 1.0, 0.0, 0.0, 0.0];
    let targets = vec![vec![1.0, 0.0, 1.0], vec![0.0, 0.0, 0.0]];
    check_step(
        logistic_multi::new(1),
        Targets::Values(&t),
        Loss::Logistic,
        &targets,
        grads_of!(logistic_multi),
    );
}

#[test]
fn one_logistic_unit_takes_its_0_1_label_as_the_target() {
    assert_eq!(
        <logistic_yes_no::Model as Network>::TARGET_KIND,
        rt::TargetKind::Classes
    );
    check_step(
        logistic_yes_no::new(1),
        Targets::Classes(&[1, 0]),
        Loss::Logistic,
        &[vec![1.0], vec![0.0]],
        grads_of!(logistic_yes_no),
    );
}

#[test]
fn multi_label_correct_counts_exact_matches() {
    let mut model = logistic_multi::new(1);
    // z = b + W·x with W = 0, b = (1, −1, 1): predictions (yes, no, yes) for every row.
    set_params(&mut model, &[0.0; 6], &[1.0, -1.0, 1.0]);
    let t = [1.0f32, 0.0, 1.0, 1.0, 1.0, 1.0];
    let stats = netc::__private::train_step_on(&mut model, &x_flat(), Targets::Values(&t));
    assert_eq!(
        stats.correct, 1,
        "only the first row matches on every label"
    );
}

// ---------------------------------------------------------------- training

use crate::support::with_repo_data;

#[test]
fn target_columns_are_loaded_from_the_spec() {
    let cfg = with_repo_data(regression::run_config());
    let splits = rt::load_splits::<regression::F>(cfg.data.as_ref().unwrap(), cfg.seed).unwrap();
    assert_eq!(splits.train.len(), 256);
    assert_eq!(
        (splits.train.features(), splits.train.target_width()),
        (3, 2)
    );
    assert!(splits.train.labels.is_empty());
    let cfg = with_repo_data(multilabel::run_config());
    let splits = rt::load_splits::<multilabel::F>(cfg.data.as_ref().unwrap(), cfg.seed).unwrap();
    assert_eq!(
        (splits.train.features(), splits.train.target_width()),
        (4, 3)
    );
    assert!(splits.train.targets.iter().all(|&t| t == 0.0 || t == 1.0));
}

#[test]
fn regression_spec_fits_its_targets() {
    let cfg = with_repo_data(regression::run_config());
    let splits = rt::load_splits::<regression::F>(cfg.data.as_ref().unwrap(), cfg.seed).unwrap();
    let (mut model, report) = regression::train_with(&cfg).unwrap();
    let first = report.epochs.first().unwrap().loss;
    let last = report.epochs.last().unwrap().loss;
    let evaluation = regression::evaluate(&mut model, &splits.train).unwrap();
    eprintln!("regression: loss {first} -> {last}, {evaluation:?}");
    assert!(last < 2e-3, "loss {first} -> {last}");
    let rmse = evaluation.rmse.expect("mse models report an rmse");
    assert!(rmse < 0.06, "{evaluation:?}");
    assert!(!evaluation.exact_match);

    // The epoch line scores value targets by their rmse, not by an accuracy they lack.
    let last_epoch = report.epochs.last().unwrap();
    assert_eq!(
        last_epoch.metric,
        rt::report::TrainMetric::Rmse { outputs: 2 }
    );
    let line = last_epoch.to_line(cfg.epochs);
    assert!(
        line.contains("  train rmse 0.0") && !line.contains('%'),
        "{line}"
    );

    // The reported training rmse against an independent one: an epoch at a learning rate too
    // small to move the weights, so every step scores the same parameters as `evaluate` does
    // afterwards (no dropout or batch norm: training and inference outputs agree).
    let metrics =
        std::env::temp_dir().join(format!("netc-regression-rmse-{}.jsonl", std::process::id()));
    let mut hyper = regression::Hyper::default();
    netc::Hyperparams::set(&mut hyper, "learning_rate", 1e-30).unwrap();
    let mut still = <regression::Model as Network>::new(hyper, 7);
    let one_epoch = rt::RunConfig {
        epochs: 1,
        verbose: false,
        metrics_path: Some(metrics.clone()),
        checkpoint_path: None,
        ..cfg.clone()
    };
    rt::fit(&mut still, &one_epoch, &splits).unwrap();
    let json = std::fs::read_to_string(&metrics).unwrap();
    std::fs::remove_file(&metrics).unwrap();
    let reported: f64 = json
        .split("\"train_rmse\":")
        .nth(1)
        .and_then(|rest| rest.split([',', '}']).next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no train_rmse in {json}"));
    let independent = f64::from(
        regression::evaluate(&mut still, &splits.train)
            .unwrap()
            .rmse
            .unwrap(),
    );
    assert!(
        (reported - independent).abs() <= 1e-4 * independent,
        "reported {reported}, evaluated {independent}"
    );
    assert!(
        independent > 0.1,
        "the untrained model is far off: {independent}"
    );
}

#[test]
fn multilabel_spec_gets_every_label_right_on_most_samples() {
    let cfg = with_repo_data(multilabel::run_config());
    let splits = rt::load_splits::<multilabel::F>(cfg.data.as_ref().unwrap(), cfg.seed).unwrap();
    let (mut model, report) = multilabel::train_with(&cfg).unwrap();
    let (evaluation, text) = rt::test_report(&mut model, &splits.train).unwrap();
    eprintln!("{text}");
    assert!(evaluation.exact_match, "{evaluation:?}");
    assert!(evaluation.accuracy > 0.9, "{evaluation:?}");
    let last = report.epochs.last().unwrap();
    assert!(
        last.train_accuracy > 0.85,
        "exact matches counted by the step"
    );
    let counts = rt::label_counts(&mut model, &splits.train).unwrap();
    assert_eq!(counts.len(), 3);
    for count in counts {
        assert!(count.accuracy() > 0.9, "{count:?}");
    }
}

#[test]
fn xor_with_one_logistic_unit_trains() {
    let cfg = with_repo_data(xor_logistic::run_config());
    let splits = rt::load_splits(cfg.data.as_ref().unwrap(), cfg.seed).unwrap();
    let (mut model, _) = xor_logistic::train_with(&cfg).unwrap();
    let evaluation = xor_logistic::evaluate(&mut model, &splits.train).unwrap();
    assert_eq!(evaluation.accuracy, 1.0, "{evaluation:?}");
    assert!(evaluation.loss < 0.05, "{evaluation:?}");
}

#[test]
fn the_driver_refuses_targets_of_the_other_kind() {
    // Class labels for a model that trains on two values per sample.
    let cfg = regression::run_config();
    let x = netc::ndarray::Array2::zeros((32, 3));
    let splits = rt::Splits {
        train: rt::Dataset::new(x, vec![0; 32]).unwrap(),
        validation: None,
        test: None,
    };
    let mut model = regression::new(1);
    let error = rt::fit(&mut model, &cfg, &splits).expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("trains on 2 target values per sample, but the data has class labels"),
        "{error}"
    );
}
