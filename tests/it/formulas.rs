//! Generated optimizers, schedules and regularization against their formulas
//! (`grammar/README.md`): each model is input 2 → dense 2 (identity) → softmax with batch 2,
//! the test sets the parameters, computes the gradient (p − onehot)·xᵀ/B by hand in f64 and
//! applies the update rule written out, then compares every parameter.

use netc::Network;

const X: [[f32; 2]; 2] = [[1.0, 2.0], [-0.5, 1.5]];
const LABELS: [u32; 2] = [0, 1];
/// W (row-major [out, in]) then b.
const THETA0: [f64; 6] = [0.1, -0.2, 0.3, 0.05, 0.01, -0.02];

fn x_flat() -> Vec<f32> {
    X.iter().flatten().copied().collect()
}

fn set_params<M: Network<Float = f32>>(model: &mut M, theta: &[f64; 6]) {
    let mut tensors = model.tensors_mut();
    for (dst, src) in tensors[0].data.iter_mut().zip(&theta[..4]) {
        *dst = *src as f32;
    }
    for (dst, src) in tensors[1].data.iter_mut().zip(&theta[4..]) {
        *dst = *src as f32;
    }
}

fn params<M: Network<Float = f32>>(model: &M) -> Vec<f32> {
    model
        .tensors()
        .iter()
        .flat_map(|t| t.data.to_vec())
        .collect()
}

/// dL/dθ of the mean softmax cross-entropy over the batch, in f64: dz = (p − onehot)/B,
/// dW = Σ dz·xᵀ, db = Σ dz.
fn gradient(theta: &[f64; 6]) -> [f64; 6] {
    let mut g = [0.0; 6];
    let batch = X.len() as f64;
    for (x, &label) in X.iter().zip(&LABELS) {
        let z: Vec<f64> = (0..2)
            .map(|o| theta[4 + o] + theta[2 * o] * x[0] as f64 + theta[2 * o + 1] * x[1] as f64)
            .collect();
        let max = z[0].max(z[1]);
        let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
        let sum: f64 = e.iter().sum();
        for o in 0..2 {
            let onehot = if o == label as usize { 1.0 } else { 0.0 };
            let dz = (e[o] / sum - onehot) / batch;
            g[2 * o] += dz * x[0] as f64;
            g[2 * o + 1] += dz * x[1] as f64;
            g[4 + o] += dz;
        }
    }
    g
}

/// 1e-6 relative (≈ 8 f32 ulps), relative to at least the parameters' scale (0.1): a
/// parameter passing near zero keeps the absolute rounding error of its earlier steps.
fn assert_close(actual: &[f32], expected: &[f64; 6], what: &str) {
    for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
        let tolerance = 1e-6 * e.abs().max(0.1);
        assert!(
            (f64::from(a) - e).abs() <= tolerance,
            "{what}: parameter {i}: generated {a}, formula {e}"
        );
    }
}

/// Runs `steps` generated steps and the same steps by hand: `rule(k, i, θ_i, g_i)` with k the
/// 0-based step updates parameter i; `learning_rate(k)` is checked before each step.
fn check<M: Network<Float = f32>>(
    mut model: M,
    steps: usize,
    learning_rate: impl Fn(usize) -> f64,
    mut rule: impl FnMut(usize, usize, &mut f64, f64),
    what: &str,
) -> M {
    set_params(&mut model, &THETA0);
    let mut theta = THETA0;
    let x = x_flat();
    for k in 0..steps {
        let lr = learning_rate(k);
        let reported = f64::from(model.learning_rate());
        assert!(
            (reported - lr).abs() <= 1e-6 * lr,
            "{what}: step {k}: learning_rate() {reported}, formula {lr}"
        );
        netc::__private::train_step_on(&mut model, &x, netc::Targets::Classes(&LABELS));
        let g = gradient(&theta);
        for (i, (p, &gi)) in theta.iter_mut().zip(&g).enumerate() {
            rule(k, i, p, gi);
        }
        assert_close(&params(&model), &theta, &format!("{what}, step {k}"));
    }
    model
}

macro_rules! tiny {
    ($name:ident, $($train:tt)*) => {
        netc::net! {
            model $name {
                input 2
                dense 2
                loss softmax
            }
            train { batch 2 $($train)* }
        }
    };
}

tiny!(f_sgd, optimizer sgd learning_rate 0.5);
tiny!(f_momentum, optimizer momentum(mu=0.9) learning_rate 0.5);
tiny!(f_nesterov, optimizer nesterov(mu=0.9) learning_rate 0.5);
tiny!(f_adagrad, optimizer adagrad(eps=1e-8) learning_rate 0.5);
tiny!(f_rmsprop, optimizer rmsprop(decay=0.9, eps=1e-8) learning_rate 0.05);
tiny!(f_adam, optimizer adam(beta1=0.9, beta2=0.999, eps=1e-8) learning_rate 0.05);
tiny!(f_ramp, optimizer momentum(mu=0.5->0.9 over 4 steps) learning_rate 0.5);
tiny!(f_nesterov_ramp, optimizer nesterov(mu=0.5->0.9 over 2 epochs) learning_rate 0.5);

#[test]
fn sgd_follows_its_formula() {
    let model = f_sgd::new(1);
    check(model, 5, |_| 0.5, |_, _, p, g| *p -= 0.5 * g, "sgd");
}

#[test]
fn momentum_follows_its_formula() {
    let mut v = [0.0f64; 6];
    let (mu, lr) = (0.9, 0.5);
    check(
        f_momentum::new(1),
        5,
        |_| lr,
        |_, i, p, g| {
            v[i] = mu * v[i] - lr * g;
            *p += v[i];
        },
        "momentum",
    );
}

#[test]
fn nesterov_follows_its_formula() {
    let mut v = [0.0f64; 6];
    let (mu, lr) = (0.9, 0.5);
    check(
        f_nesterov::new(1),
        5,
        |_| lr,
        |_, i, p, g| {
            let v_prev = v[i];
            v[i] = mu * v[i] - lr * g;
            *p += -mu * v_prev + (1.0 + mu) * v[i];
        },
        "nesterov",
    );
}

#[test]
fn adagrad_follows_its_formula() {
    let mut cache = [0.0f64; 6];
    let (lr, eps) = (0.5, 1e-8);
    check(
        f_adagrad::new(1),
        5,
        |_| lr,
        |_, i, p, g| {
            cache[i] += g * g;
            *p -= lr * g / (cache[i].sqrt() + eps);
        },
        "adagrad",
    );
}

#[test]
fn rmsprop_follows_its_formula() {
    let mut cache = [0.0f64; 6];
    let (lr, decay, eps) = (0.05, 0.9, 1e-8);
    check(
        f_rmsprop::new(1),
        5,
        |_| lr,
        |_, i, p, g| {
            cache[i] = decay * cache[i] + (1.0 - decay) * g * g;
            *p -= lr * g / (cache[i].sqrt() + eps);
        },
        "rmsprop",
    );
}

#[test]
fn adam_follows_its_formula() {
    let (mut m, mut v) = ([0.0f64; 6], [0.0f64; 6]);
    let (lr, beta1, beta2, eps) = (0.05, 0.9f64, 0.999f64, 1e-8);
    check(
        f_adam::new(1),
        5,
        |_| lr,
        |k, i, p, g| {
            let t = (k + 1) as i32;
            m[i] = beta1 * m[i] + (1.0 - beta1) * g;
            v[i] = beta2 * v[i] + (1.0 - beta2) * g * g;
            let m_hat = m[i] / (1.0 - beta1.powi(t));
            let v_hat = v[i] / (1.0 - beta2.powi(t));
            *p -= lr * m_hat / (v_hat.sqrt() + eps);
        },
        "adam",
    );
}

/// μ_k = a + (b − a)·min(k/N, 1) with k the steps taken.
#[test]
fn momentum_ramp_in_steps_follows_its_formula() {
    let mut v = [0.0f64; 6];
    let lr = 0.5;
    let mu = |k: usize| 0.5 + (0.9 - 0.5) * (k as f64 / 4.0).min(1.0);
    check(
        f_ramp::new(1),
        7,
        |_| lr,
        |k, i, p, g| {
            // The generated code holds μ in f32.
            let mu = mu(k) as f32 as f64;
            v[i] = mu * v[i] - lr * g;
            *p += v[i];
        },
        "momentum ramp",
    );
}

/// With a ramp in epochs, μ changes when the driver reports an epoch's end.
#[test]
fn nesterov_ramp_in_epochs_follows_its_formula() {
    let mut model = f_nesterov_ramp::new(1);
    set_params(&mut model, &THETA0);
    let mut theta = THETA0;
    let mut v = [0.0f64; 6];
    let lr = 0.5;
    let x = x_flat();
    for epoch in 0..3 {
        let mu = (0.5 + (0.9 - 0.5) * (epoch as f64 / 2.0).min(1.0)) as f32 as f64;
        for _ in 0..2 {
            netc::__private::train_step_on(&mut model, &x, netc::Targets::Classes(&LABELS));
            let g = gradient(&theta);
            for i in 0..6 {
                let v_prev = v[i];
                v[i] = mu * v[i] - lr * g[i];
                theta[i] += -mu * v_prev + (1.0 + mu) * v[i];
            }
            assert_close(&params(&model), &theta, &format!("epoch {epoch}"));
        }
        model.end_epoch(epoch + 1);
    }
}

#[test]
fn optimizer_scalars_are_hyperparameters() {
    use netc::Hyperparams;
    assert_eq!(
        <f_adam::Hyper as Hyperparams>::names(),
        &["learning_rate", "beta1", "beta2", "eps", "epochs"]
    );
    assert_eq!(
        <f_rmsprop::Hyper as Hyperparams>::names(),
        &["learning_rate", "decay", "eps", "epochs"]
    );
    assert_eq!(
        <f_ramp::Hyper as Hyperparams>::names(),
        &["learning_rate", "momentum", "momentum_end", "epochs"]
    );
    let mut hyper = f_adam::Hyper::default();
    assert!(hyper.set("beta1", 1.0).is_err());
    assert!(hyper.set("eps", 0.0).is_err());
    hyper.set("beta2", 0.99).unwrap();
    assert_eq!(hyper.beta2, 0.99);
}

// ---------------------------------------------------------------- learning-rate schedules

tiny!(f_linear, learning_rate 0.5 linear(to=0.1, until=4 steps));
tiny!(f_step, learning_rate 0.5 step(gamma=0.5, every=2 steps));
tiny!(f_exponential, learning_rate 0.5 exponential(gamma=0.8, per=1 steps));
tiny!(f_cosine, learning_rate 0.5 cosine(min=0.05, period=4 steps));
tiny!(f_step_epochs, learning_rate 0.5 step(gamma=0.5, every=2 epochs));

/// sgd under a schedule: checks `learning_rate()` before every step and the parameters after.
fn check_schedule<M: Network<Float = f32>>(model: M, eta: impl Fn(usize) -> f64, what: &str) {
    check(model, 7, &eta, |k, _, p, g| *p -= eta(k) * g, what);
}

#[test]
fn linear_schedule_follows_its_formula() {
    check_schedule(
        f_linear::new(1),
        |k| {
            let alpha = (k as f64 / 4.0).min(1.0);
            (1.0 - alpha) * 0.5 + alpha * 0.1
        },
        "linear",
    );
}

#[test]
fn step_schedule_follows_its_formula() {
    check_schedule(
        f_step::new(1),
        |k| 0.5 * 0.5f64.powi((k / 2) as i32),
        "step",
    );
}

#[test]
fn exponential_schedule_follows_its_formula() {
    check_schedule(
        f_exponential::new(1),
        |k| 0.5 * 0.8f64.powi(k as i32),
        "exponential",
    );
}

/// PyTorch's closed form; past the period (k > 4) it rises again.
#[test]
fn cosine_schedule_follows_its_formula() {
    check_schedule(
        f_cosine::new(1),
        |k| 0.05 + 0.5 * (0.5 - 0.05) * (1.0 + (std::f64::consts::PI * k as f64 / 4.0).cos()),
        "cosine",
    );
}

/// Durations in epochs count the driver's `end_epoch` calls.
#[test]
fn schedules_in_epochs_move_at_epoch_ends() {
    let mut model = f_step_epochs::new(1);
    let x = x_flat();
    for epoch in 0..5 {
        let expected = 0.5 * 0.5f32.powi(epoch / 2);
        for _ in 0..3 {
            assert_eq!(model.learning_rate(), expected, "epoch {epoch}");
            netc::__private::train_step_on(&mut model, &x, netc::Targets::Classes(&LABELS));
        }
        model.end_epoch(epoch as usize + 1);
    }
}

// ---------------------------------------------------------------- regularization

tiny!(f_l2, learning_rate 0.5 regularize l2(0.1));
tiny!(f_l2_bias, learning_rate 0.5 regularize l2(0.1) include_bias);
tiny!(f_l1, learning_rate 0.5 regularize l1(0.05));

/// g += λw on weights (parameters 0..4) only; loss += λ/2·Σw² reported apart.
#[test]
fn l2_step_follows_its_formula() {
    let mut model = f_l2::new(1);
    set_params(&mut model, &THETA0);
    let stats =
        netc::__private::train_step_on(&mut model, &x_flat(), netc::Targets::Classes(&LABELS));
    let sum_sq: f64 = THETA0[..4].iter().map(|w| w * w).sum();
    let reg = 0.5 * 0.1 * sum_sq;
    assert!(
        (f64::from(stats.reg_loss) - reg).abs() <= 1e-6 * reg,
        "reg loss {} vs {reg}",
        stats.reg_loss
    );
    check(
        f_l2::new(1),
        3,
        |_| 0.5,
        |_, i, p, g| *p -= 0.5 * (g + if i < 4 { 0.1 * *p } else { 0.0 }),
        "l2",
    );
    check(
        f_l2_bias::new(1),
        3,
        |_| 0.5,
        |_, _, p, g| *p -= 0.5 * (g + 0.1 * *p),
        "l2 include_bias",
    );
}

/// g += λ·sign(w) on weights; loss += λΣ|w|.
#[test]
fn l1_step_follows_its_formula() {
    let mut model = f_l1::new(1);
    set_params(&mut model, &THETA0);
    let stats =
        netc::__private::train_step_on(&mut model, &x_flat(), netc::Targets::Classes(&LABELS));
    let reg = 0.05 * THETA0[..4].iter().map(|w| w.abs()).sum::<f64>();
    assert!((f64::from(stats.reg_loss) - reg).abs() <= 1e-6 * reg);
    check(
        f_l1::new(1),
        3,
        |_| 0.5,
        |_, i, p, g| {
            let push = if i < 4 { 0.05 * p.signum() } else { 0.0 };
            *p -= 0.5 * (g + push);
        },
        "l1",
    );
}

netc::net! {
    model f_sparse {
        input 20
        dense 2
        loss softmax
    }
    train { batch 10 learning_rate 0.1 regularize l1(0.01) }
}

/// Only inputs 0 and 1 decide the label (x0 + x1 > 0): l1 drives the 18 other weights of
/// each unit to (near) zero while the two that matter stay large.
#[test]
fn l1_zeroes_irrelevant_weights() {
    use netc::__private as rt;
    let mut rng = rt::Rng::new(5, 9);
    let mut model = f_sparse::new(3);
    let mut x = vec![0.0f32; 10 * 20];
    let mut labels = [0u32; 10];
    for _ in 0..3000 {
        for (row, label) in x.chunks_mut(20).zip(labels.iter_mut()) {
            for v in row.iter_mut() {
                *v = rng.uniform() * 2.0 - 1.0;
            }
            *label = u32::from(row[0] + row[1] > 0.0);
        }
        netc::__private::train_step_on(&mut model, &x, netc::Targets::Classes(&labels));
    }
    let tensors = model.tensors();
    let w = tensors[0].data;
    for (unit, row) in w.chunks(20).enumerate() {
        assert!(
            row[0].abs() > 0.5 && row[1].abs() > 0.5,
            "unit {unit}: {row:?}"
        );
        let largest = row[2..].iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(largest < 0.02, "unit {unit}: irrelevant weights {row:?}");
    }
}

netc::net! {
    model f_maxnorm {
        input 4
        dense 8 relu
        dense 3
        loss softmax
    }
    train { batch 4 optimizer momentum(mu=0.9) learning_rate 5.0 regularize maxnorm(1.5) }
}

/// After every step each unit's incoming weight row has norm ≤ c (and the bound is hit).
#[test]
fn maxnorm_holds_after_every_step() {
    use netc::__private as rt;
    let mut rng = rt::Rng::new(2, 9);
    let mut model = f_maxnorm::new(4);
    let mut x = [0.0f32; 16];
    let mut hit = false;
    for step in 0..200 {
        for v in x.iter_mut() {
            *v = rng.normal() * 3.0;
        }
        let labels: Vec<u32> = (0..4).map(|_| rng.below(3) as u32).collect();
        netc::__private::train_step_on(&mut model, &x, netc::Targets::Classes(&labels));
        for tensor in model.tensors().iter().filter(|t| t.shape.len() == 2) {
            for row in tensor.data.chunks(tensor.shape[1]) {
                let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
                assert!(
                    norm <= 1.5 + 1e-5,
                    "step {step}: {} row norm {norm}",
                    tensor.name
                );
                hit |= norm > 1.5 - 1e-3;
            }
        }
    }
    assert!(hit, "the learning rate never pushed a row to the bound");
}

// ---------------------------------------------------------------- dropout

const WIDE: usize = 10_000;

netc::net! {
    model f_dropout {
        input 2
        dense 10000 init=normal(std=0.1)
        dropout 0.5
        dense 2
        loss softmax
    }
    train { batch 1 }
}

netc::net! {
    model f_no_dropout {
        input 2
        dense 10000 init=normal(std=0.1)
        dense 2
        loss softmax
    }
    train { batch 1 }
}

/// Every unit of the wide layer gets the same activation c = 1.5 (W row (1, 0.5), x = (1, 1)).
fn constant_wide_model(seed: u64) -> f_dropout::Model {
    let hyper = f_dropout::Hyper {
        learning_rate: 0.0,
        ..f_dropout::Hyper::default()
    };
    let mut model = <f_dropout::Model as Network>::new(hyper, seed);
    let mut tensors = model.tensors_mut();
    for pair in tensors[0].data.chunks_mut(2) {
        pair.copy_from_slice(&[1.0, 0.5]);
    }
    tensors[1].data.fill(0.0);
    drop(tensors);
    model
}

/// p = 0.5 on 10k units: kept fraction within ±4σ (σ = √(p(1−p)/N) = 0.005), kept units
/// scaled by exactly 1/(1−p), the mean activation preserved, the masks set from the seed.
#[test]
fn dropout_masks_have_the_right_rate_and_scale() {
    let mut model = constant_wide_model(11);
    netc::__private::train_step_on(&mut model, &[1.0, 1.0], netc::Targets::Classes(&[0]));
    let masks: Vec<f32> = model.dropout_masks()[0].data.to_vec();
    assert_eq!(masks.len(), WIDE);
    assert!(
        masks.iter().all(|&m| m == 0.0 || m == 2.0),
        "factors 0 or 2"
    );
    let kept = masks.iter().filter(|&&m| m != 0.0).count() as f64 / WIDE as f64;
    assert!((kept - 0.5).abs() <= 4.0 * 0.005, "kept fraction {kept}");
    let outputs: Vec<f32> = model.activations()[0].data.to_vec();
    for (&y, &m) in outputs.iter().zip(&masks) {
        assert_eq!(y, 1.5 * m, "y = act(z)·m");
    }
    // E[m] = 1: mean activation with dropout ≈ without (σ of the mean: 1.5·0.01).
    let mean = outputs.iter().map(|&y| f64::from(y)).sum::<f64>() / WIDE as f64;
    assert!((mean - 1.5).abs() <= 4.0 * 1.5 * 0.01, "mean {mean}");
    // Next step, new masks; same seed, same masks; another seed, other masks.
    netc::__private::train_step_on(&mut model, &[1.0, 1.0], netc::Targets::Classes(&[0]));
    assert_ne!(model.dropout_masks()[0].data, &masks[..]);
    let mut twin = constant_wide_model(11);
    netc::__private::train_step_on(&mut twin, &[1.0, 1.0], netc::Targets::Classes(&[0]));
    assert_eq!(twin.dropout_masks()[0].data, &masks[..]);
    let mut other = constant_wide_model(12);
    netc::__private::train_step_on(&mut other, &[1.0, 1.0], netc::Targets::Classes(&[0]));
    assert_ne!(other.dropout_masks()[0].data, &masks[..]);
}

/// Prediction applies no mask and no scaling: deterministic, and equal to the same weights
/// in the model without dropout.
#[test]
fn prediction_ignores_dropout() {
    let mut model = f_dropout::new(5);
    let x = [0.3f32, -0.7];
    netc::__private::train_step_on(&mut model, &x, netc::Targets::Classes(&[1]));
    let mut first = [0.0f32; 2];
    let mut second = [0.0f32; 2];
    model.predict_batch(&x, 1, &mut first);
    model.predict_batch(&x, 1, &mut second);
    assert_eq!(first, second);
    let mut plain = f_no_dropout::new(0);
    for (dst, src) in plain.tensors_mut().iter_mut().zip(model.tensors()) {
        dst.data.copy_from_slice(src.data);
    }
    let mut expected = [0.0f32; 2];
    plain.predict_batch(&x, 1, &mut expected);
    assert_eq!(first, expected);
}

netc::net! {
    model f_input_dropout {
        input 1000
        dropout 0.2
        dense 2
        loss softmax
    }
    train { batch 2 }
}

/// Dropout directly after `input`: the step reads the masked input (0 or 1/0.8).
#[test]
fn input_dropout_masks_the_input() {
    let mut model = f_input_dropout::new(3);
    netc::__private::train_step_on(
        &mut model,
        &vec![1.0f32; 2000],
        netc::Targets::Classes(&[0, 1]),
    );
    let masked: Vec<f32> = model.dropout_masks()[0].data.to_vec();
    assert!(
        masked.iter().all(|&v| v == 0.0 || v == 1.25),
        "factors 0 or 1.25"
    );
    let kept = masked.iter().filter(|&&v| v != 0.0).count() as f64 / 2000.0;
    let sigma = (0.2f64 * 0.8 / 2000.0).sqrt();
    assert!((kept - 0.8).abs() <= 4.0 * sigma, "kept fraction {kept}");
}

// Gradient checks with dropout: the mask generator is reset before every step, so each
// step sees the same masks and the loss is a function of the parameters.
macro_rules! dropout_grad_model {
    ($name:ident, $input:literal, $hidden:literal, $act:ident) => {
        netc::net! {
            model $name {
                input $input
                dropout 0.2
                dense $hidden $act init=xavier
                dropout 0.5
                dense 4 init=xavier
                loss softmax
            }
            train { batch 4 optimizer sgd learning_rate 0.1 }
        }
    };
}

dropout_grad_model!(gd_tanh, 3, 5, tanh);
dropout_grad_model!(gd_relu, 3, 5, relu);
dropout_grad_model!(gd_gemm_sigmoid, 20, 17, sigmoid);
dropout_grad_model!(gd_gemm_relu, 20, 17, relu);

macro_rules! dropout_grad_check {
    ($test:ident, $model:ident) => {
        #[test]
        fn $test() {
            let hyper = $model::Hyper {
                learning_rate: 0.0,
                ..$model::Hyper::default()
            };
            let mut model = <$model::Model as Network>::new(hyper, 3);
            let state = model.dropout_state();
            let inputs = <$model::Model as Network>::INPUT;
            let x: Vec<f32> = (0..4 * inputs)
                .map(|i| ((i * 37 % 23) as f32 / 23.0 - 0.5) * 2.0)
                .collect();
            let labels = [0u32, 3, 2, 1];
            let step = |m: &mut $model::Model| {
                m.set_dropout_state(state);
                netc::__private::train_step_on(m, &x, netc::Targets::Classes(&labels)).loss
            };
            step(&mut model);
            let analytic: Vec<Vec<f32>> = model
                .grad_tensors()
                .iter()
                .map(|t| t.data.to_vec())
                .collect();
            let masks = model.dropout_masks()[1].data.to_vec();
            assert!(masks.iter().any(|&m| m == 0.0) && masks.iter().any(|&m| m == 2.0));
            let h = 3e-3f32;
            for (t, grads) in analytic.iter().enumerate() {
                for (j, &g) in grads.iter().enumerate() {
                    let original = model.tensors_mut()[t].data[j];
                    model.tensors_mut()[t].data[j] = original + h;
                    let plus = step(&mut model);
                    model.tensors_mut()[t].data[j] = original - h;
                    let minus = step(&mut model);
                    model.tensors_mut()[t].data[j] = original;
                    let numeric = (plus - minus) / (2.0 * h);
                    let tolerance = 3e-4 + 2e-2 * g.abs().max(numeric.abs());
                    assert!(
                        (numeric - g).abs() <= tolerance,
                        "tensor {t} element {j}: analytic {g}, numeric {numeric}"
                    );
                }
            }
            assert!(analytic.iter().flatten().any(|g| g.abs() > 1e-4));
        }
    };
}

dropout_grad_check!(grad_check_dropout_tanh, gd_tanh);
dropout_grad_check!(grad_check_dropout_relu, gd_relu);
dropout_grad_check!(grad_check_dropout_gemm_sigmoid, gd_gemm_sigmoid);
dropout_grad_check!(grad_check_dropout_gemm_relu, gd_gemm_relu);

/// The driver reports the mean regularization loss per epoch, apart from the data loss.
#[test]
fn fit_reports_the_regularization_loss_apart() {
    use netc::__private as rt;
    let x = netc::ndarray::Array2::from_shape_vec(
        (4, 2),
        vec![1.0, 2.0, -0.5, 1.5, 0.3, -1.0, -2.0, 0.5],
    )
    .unwrap();
    let splits = rt::Splits {
        train: rt::Dataset::new(x, vec![0, 1, 1, 0]).unwrap(),
        validation: None,
        test: None,
    };
    let (_, report) = f_l2::train_on(&splits).unwrap();
    let reg = report.epochs[0]
        .reg_loss
        .expect("an l2 model reports its penalty");
    assert!(reg > 0.0 && reg.is_finite(), "{reg}");
    assert!(report.epochs[0].to_json().contains("\"reg_loss\":"));
    let (_, plain) = f_sgd::train_on(&splits).unwrap();
    assert_eq!(plain.epochs[0].reg_loss, None);
}
