//! L-BFGS and Newton against gradient descent on a small convex problem: softmax regression
//! (49 → 3, l2 1e-4, f64) on 600 mnist7 images of 0, 1 and 2. Both solvers reach
//! ‖∇f‖∞ ≤ 1e-6 (L-BFGS in ~70 iterations, Newton in ~8); gradient descent θ ← θ − η∇f with the
//! best fixed η of a grid needs far more (~1,800) to come within 1e-7 of the loss they reach.

use std::ops::ControlFlow;
use std::time::Instant;

use netc::Network;

use super::{digits_012, features, rt};
use rt::Objective;

netc::net! {
    model digits_lbfgs {
        input 49
        dense 3 init=zeros
        loss  softmax
    }
    train { batch full optimizer lbfgs(history=10, tolerance=1e-6) regularize l2(1e-4) precision f64 }
}

netc::net! {
    model digits_newton {
        input 49
        dense 3 init=zeros
        loss  softmax
    }
    train { batch full optimizer newton(damping=1e-6) regularize l2(1e-4) precision f64 }
}

/// The gradient tolerance both solvers are held to (‖∇f‖∞, absolute: f < 1 here).
const TOLERANCE: f64 = 1e-6;

/// Minimizes the model's full-batch loss with its spec's solver (tolerance `TOLERANCE`) from
/// its initialization (zeros); returns (iterations, final loss, final ‖∇f‖∞).
fn solve<M: Network>(
    mut model: M,
    cfg: &rt::RunConfig,
    x: &[M::Float],
    labels: &[u32],
) -> (usize, f64, f64) {
    let mut theta = vec![0.0; M::PARAMS];
    model.read_params(&mut theta);
    let mut objective = rt::ModelObjective::new(&mut model, x, rt::Targets::Classes(labels));
    let keep_going = |_: &rt::solve::Iteration| ControlFlow::Continue(());
    let report = match cfg.full_batch.expect("a full-batch spec") {
        rt::FullBatchSolver::Lbfgs { history, .. } => {
            let config = rt::LbfgsConfig {
                history,
                tolerance: TOLERANCE,
                max_iterations: 1000,
            };
            rt::lbfgs(&mut objective, &mut theta, &config, keep_going)
        }
        rt::FullBatchSolver::Newton { damping, .. } => {
            let config = rt::NewtonConfig {
                damping,
                tolerance: TOLERANCE,
                max_iterations: 100,
            };
            rt::newton(&mut objective, &mut theta, &config, keep_going)
        }
    }
    .unwrap();
    assert!(report.converged, "{report:?}");
    (report.iterations, report.value, report.grad_inf_norm)
}

/// Gradient descent θ ← θ − η∇f from zero: the iterations until f ≤ target (`None` within
/// `budget`), and the loss after the last one.
fn gradient_descent(
    x: &[f64],
    labels: &[u32],
    rate: f64,
    target: f64,
    budget: usize,
) -> (Option<usize>, f64) {
    let mut model = digits_lbfgs::new(0);
    let mut theta = vec![0.0; digits_lbfgs::Model::PARAMS];
    let mut grad = vec![0.0; theta.len()];
    model.read_params(&mut theta);
    let mut objective = rt::ModelObjective::new(&mut model, x, rt::Targets::Classes(labels));
    let mut loss = objective.value_grad(&theta, &mut grad).unwrap();
    for k in 1..=budget {
        for (t, g) in theta.iter_mut().zip(&grad) {
            *t -= rate * g;
        }
        loss = objective.value_grad(&theta, &mut grad).unwrap();
        if loss <= target {
            return (Some(k), loss);
        }
        if !loss.is_finite() {
            break;
        }
    }
    (None, loss)
}

#[test]
fn lbfgs_and_newton_need_far_fewer_iterations_than_gradient_descent() {
    let started = Instant::now();
    let data = digits_012(600);
    let x = features(&data);
    let (lbfgs_iterations, lbfgs_loss, lbfgs_grad) = solve(
        digits_lbfgs::new(0),
        &digits_lbfgs::run_config(),
        &x,
        &data.labels,
    );
    let (newton_iterations, newton_loss, newton_grad) = solve(
        digits_newton::new(0),
        &digits_newton::run_config(),
        &x,
        &data.labels,
    );
    println!("L-BFGS: {lbfgs_iterations} iterations, loss {lbfgs_loss:.9}, |g|∞ {lbfgs_grad:.1e}");
    println!(
        "Newton: {newton_iterations} iterations, loss {newton_loss:.9}, |g|∞ {newton_grad:.1e}"
    );
    assert!(
        (lbfgs_loss - newton_loss).abs() < 1e-8,
        "one convex problem, one minimum"
    );

    // Gradient descent from the same start until it comes within 1e-7 of the solvers' loss.
    // The grid steps by 2^¼ up to past the stability limit (between 22.6 and 26.9 here): the
    // best fixed rate is within a factor 1.19 of the best grid rate that converges, and GD's
    // iteration count scales as 1/η below the limit.
    let target = lbfgs_loss.max(newton_loss) + 1e-7;
    let budget = 3_000;
    let reached: Vec<Option<usize>> = [16.0, 19.0, 22.6, 26.9, 32.0]
        .into_iter()
        .map(|rate| {
            let (reached, loss) = gradient_descent(&x, &data.labels, rate, target, budget);
            println!("gradient descent η={rate}: {reached:?} iterations, loss {loss:.9}");
            reached
        })
        .collect();
    let best = reached.iter().map(|r| r.unwrap_or(budget)).min().unwrap();
    println!(
        "best gradient descent {best} iterations vs L-BFGS {lbfgs_iterations}, Newton \
         {newton_iterations} ({:.1?})",
        started.elapsed()
    );
    assert_eq!(
        reached.last(),
        Some(&None),
        "the grid reaches past the stable rates"
    );
    assert!(lbfgs_iterations <= 100 && newton_iterations <= 15);
    assert!(
        best >= 10 * lbfgs_iterations.max(newton_iterations),
        "{best}"
    );
}

netc::net! {
    model digits_watched {
        input 49
        dense 3 init=zeros
        loss  softmax
    }
    train {
        epochs 40 batch full optimizer lbfgs(history=10, tolerance=1e-6) regularize l2(1e-4)
        precision f64 monitor grad_norm
    }
}

/// `monitor grad_norm` with a full-batch solver reports ‖∇f‖₂ (data + l2) at each accepted
/// point, one value per iteration: the last one is the final weights' gradient norm.
#[test]
fn full_batch_grad_norm_is_the_two_norm_at_the_accepted_point() {
    let splits = rt::Splits {
        train: digits_012(600),
        validation: None,
        test: None,
    };
    let (mut model, report) = digits_watched::train_on(&splits).unwrap();
    assert!(!report.epochs.is_empty());
    for epoch in &report.epochs {
        let norm = epoch.grad_norm.expect("monitored");
        assert_eq!(norm.mean, norm.last, "one gradient per iteration");
    }
    let x = features(&splits.train);
    let mut theta = vec![0.0; digits_watched::Model::PARAMS];
    model.read_params(&mut theta);
    let mut grad = vec![0.0; theta.len()];
    let mut objective =
        rt::ModelObjective::new(&mut model, &x, rt::Targets::Classes(&splits.train.labels));
    objective.value_grad(&theta, &mut grad).unwrap();
    let expected = grad.iter().map(|g| g * g).sum::<f64>().sqrt() as f32;
    let reported = report.epochs.last().unwrap().grad_norm.unwrap().last;
    assert_eq!(reported, expected);
    let first = report.epochs[0].grad_norm.unwrap().last;
    assert!(reported < first / 100.0, "{first} → {reported}");
}
