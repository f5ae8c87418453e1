//! `monitor curvature`: a rate far above 2·gᵀg/gᵀHg is reported as overshooting (and the
//! watch warns), a rate below a proven bound never is; and the probe's gᵀHg agrees with a
//! second difference of the loss along g.

use netc::{Hyperparams, Network};

use super::{digits_012, features, rt};

netc::net! {
    model watched {
        input 49
        dense 3
        loss  softmax
    }
    train {
        epochs 3 batch 32 sampling sequential optimizer sgd learning_rate 0.1
        monitor curvature every=1 steps precision f64 seed 3
    }
}

netc::net! {
    model curved {
        input 49
        dense 8 tanh
        dense 3
        loss  softmax
    }
    train { batch 32 optimizer sgd regularize l2(1e-3) precision f64 seed 5 }
}

/// 600 images of 0, 1, 2 as the training split.
fn splits() -> rt::Splits<f64> {
    rt::Splits {
        train: digits_012(600),
        validation: None,
        test: None,
    }
}

/// Trains `watched` at `rate` (the spec's other settings) and returns every curvature check
/// with its epoch.
fn checks_at(rate: f64, splits: &rt::Splits<f64>) -> Vec<(usize, rt::CurvatureCheck)> {
    let mut hyper = watched::Hyper::default();
    hyper.set("learning_rate", rate).unwrap();
    let mut model = <watched::Model as Network>::new(hyper, 3);
    let report = rt::fit(&mut model, &watched::run_config(), splits).unwrap();
    let checks: Vec<_> = report
        .epochs
        .iter()
        .flat_map(|e| e.curvature.iter().map(|c| (e.epoch, *c)))
        .collect();
    assert_eq!(
        checks.len() as u64,
        report.steps,
        "every=1 steps: one check per step"
    );
    checks
}

/// Feeds the checks to the trainer's watch in order, as `fit` does; returns the warnings.
fn warnings(checks: &[(usize, rt::CurvatureCheck)]) -> Vec<String> {
    let mut watch = rt::CurvatureWatch::new();
    checks
        .iter()
        .filter_map(|(epoch, c)| watch.check(*epoch, c))
        .collect()
}

#[test]
fn a_rate_far_above_the_limit_warns_a_sane_one_never() {
    let splits = splits();
    // The limit 2·gᵀg/gᵀHg of the first step: the first 32 samples (sequential sampling) at
    // the seeded initialization.
    let mut model = watched::new(3);
    let x = features(&splits.train);
    let rows = watched::BATCH;
    let mut probe = rt::curvature::CurvatureProbe::new(watched::Model::PARAMS);
    let (g_g, g_h_g) = probe
        .measure(
            &mut model,
            &x[..rows * watched::INPUT],
            rt::Targets::Classes(&splits.train.labels[..rows]),
        )
        .unwrap();
    let limit = 2.0 * g_g / g_h_g;
    println!("first step: gᵀg {g_g:.4e}, gᵀHg {g_h_g:.4e}, limit {limit:.4}");

    let too_large = 10.0 * limit;
    let checks = checks_at(too_large, &splits);
    let (_, first) = checks[0];
    assert_eq!(first.step, 1);
    assert!((first.g_g - g_g).abs() <= 1e-12 * g_g, "{first:?}");
    assert!((first.g_h_g - g_h_g).abs() <= 1e-6 * g_h_g, "{first:?}");
    assert!(first.overshoots(), "{first:?}");
    let raised = warnings(&checks);
    println!(
        "rate {too_large:.3}: {} of {} checks overshoot; {raised:?}",
        checks.iter().filter(|(_, c)| c.overshoots()).count(),
        checks.len()
    );
    assert!(!raised.is_empty());

    // A sane rate by proof: per sample the softmax Hessian in the logits is ≤ ½I (Böhning), so
    // gᵀHg ≤ ½·max‖(x, 1)‖²·gᵀg for this linear model, and any η < 4 / max‖(x, 1)‖² never
    // overshoots. Half of that bound:
    let max_sq = splits
        .train
        .x
        .to_floats()
        .rows()
        .into_iter()
        .map(|r| 1.0 + r.iter().map(|&v| v * v).sum::<f64>())
        .fold(0.0, f64::max);
    let sane = 2.0 / max_sq;
    let checks = checks_at(sane, &splits);
    let tightest = checks
        .iter()
        .map(|(_, c)| c.rate_limit())
        .fold(f64::INFINITY, f64::min);
    println!(
        "rate {sane:.4}: smallest limit over {} checks {tightest:.4}",
        checks.len()
    );
    assert!(
        checks
            .iter()
            .all(|(_, c)| !c.overshoots() && (c.learning_rate - sane).abs() <= 1e-6 * sane),
        "the rate is an f32 hyperparameter: {sane} rounded"
    );
    assert_eq!(warnings(&checks), Vec::<String>::new());
    assert!(sane < limit && too_large > tightest);
}

/// The loss (data + regularization) of `curved` on one batch at `theta`.
fn loss_at(model: &mut curved::Model, theta: &[f64], x: &[f64], labels: &[u32]) -> f64 {
    let mut scratch = vec![0.0; theta.len()];
    model.write_params(theta);
    let data = model.gradient(
        x,
        rt::Targets::Classes(labels),
        labels.len(),
        rt::Masks::Fresh,
    );
    data + model.regularization(&mut scratch)
}

#[test]
fn curvature_matches_a_second_difference_of_the_loss() {
    let data = digits_012(64);
    let x = features(&data);
    let (x, labels) = (
        &x[..curved::BATCH * curved::INPUT],
        &data.labels[..curved::BATCH],
    );
    let mut model = curved::new(5);
    let mut probe = rt::curvature::CurvatureProbe::new(curved::Model::PARAMS);
    let (g_g, g_h_g) = probe
        .measure(&mut model, x, rt::Targets::Classes(labels))
        .unwrap();

    let mut theta = vec![0.0; curved::Model::PARAMS];
    model.read_params(&mut theta);
    let mut g = vec![0.0; theta.len()];
    let centre = {
        let data = model.gradient(
            x,
            rt::Targets::Classes(labels),
            labels.len(),
            rt::Masks::Fresh,
        );
        model.read_gradient(&mut g);
        data + model.regularization(&mut g)
    };
    assert!((g.iter().map(|v| v * v).sum::<f64>() - g_g).abs() <= 1e-12 * g_g);
    // h·‖g‖ = 1e-3: truncation ~1e-7 relative, roundoff ~1e-16·L/(h‖g‖)² ~1e-10.
    let h = 1e-3 / g_g.sqrt();
    let shifted = |sign: f64| -> Vec<f64> {
        theta
            .iter()
            .zip(&g)
            .map(|(t, v)| t + sign * h * v)
            .collect()
    };
    let plus = loss_at(&mut model, &shifted(1.0), x, labels);
    let minus = loss_at(&mut model, &shifted(-1.0), x, labels);
    let second_difference = (plus - 2.0 * centre + minus) / (h * h);
    let relative = (second_difference - g_h_g).abs() / g_h_g;
    println!(
        "gᵀHg: probe {g_h_g:.10e}, second difference {second_difference:.10e}, relative {relative:.1e}"
    );
    assert!(relative < 1e-4);
}
