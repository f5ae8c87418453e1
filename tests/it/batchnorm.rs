//! Generated `batchnorm` against its definition (`grammar/README.md`): normalized training
//! output, gradients through the batch statistics (central differences in f64), running
//! averages by the momentum rule, inference on the running statistics, checkpoints; and two
//! `dropout` layers in a row. Unrolled (≤ 16 units) and GEMM code shapes both.

use netc::__private::Masks;
use netc::Network;

netc::net! {
    model bn_small {
        input 3
        dense 5 tanh
        batchnorm momentum=0.8
        dense 4
        loss softmax
    }
    train { batch 6 optimizer sgd learning_rate 0.1 precision f64 }
}

netc::net! {
    model bn_gemm {
        input 20
        dense 17 sigmoid
        batchnorm
        dense 18 tanh
        batchnorm momentum=0.5 eps=1e-3
        dense 4
        loss softmax
    }
    train { batch 8 optimizer adam learning_rate 0.01 precision f64 }
}

netc::net! {
    model bn_dropout {
        input 3
        dense 6 tanh
        dropout 0.3
        batchnorm
        dropout 0.4
        dense 3
        loss softmax
    }
    train { batch 8 optimizer momentum(mu=0.9) learning_rate 0.05 precision f64 }
}

netc::net! {
    model bn_f32 {
        input 20
        dense 30 relu
        batchnorm
        dense 3
        loss softmax
    }
    train { batch 16 optimizer sgd learning_rate 0.1 }
}

/// Deterministic inputs in [-1, 1] with some spread per feature (computed in f32, so f32 and
/// f64 models see the same values).
fn inputs<V: netc::Real>(rows: usize, features: usize, salt: usize) -> Vec<V> {
    (0..rows * features)
        .map(|i| {
            V::from_f64(f64::from(
                (((i + salt) * 37 % 23) as f32 / 23.0 - 0.5) * 2.0,
            ))
        })
        .collect()
}

fn labels(rows: usize, classes: u32) -> Vec<u32> {
    (0..rows as u32).map(|r| (r * 7 + 1) % classes).collect()
}

fn tensor<'a, T>(list: &'a [netc::__private::TensorRef<'a, T>], name: &str) -> &'a [T] {
    list.iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no tensor {name}"))
        .data
}

/// Per feature of a `rows × n` row-major matrix: mean and biased variance.
fn column_stats(data: &[f64], rows: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut mean = vec![0.0; n];
    let mut var = vec![0.0; n];
    for row in data.chunks(n).take(rows) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v / rows as f64;
        }
    }
    for row in data.chunks(n).take(rows) {
        for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v - m) * (v - m) / rows as f64;
        }
    }
    (mean, var)
}

#[test]
fn training_output_is_normalized_per_feature() {
    let mut model = bn_gemm::new(1);
    let x = inputs(8, 20, 0);
    netc::__private::train_step_on(&mut model, &x, netc::Targets::Classes(&labels(8, 4)));
    let buffers = model.batchnorm_buffers();
    for (index, n, eps) in [(1, 17, 1e-5), (3, 18, 1e-3)] {
        let xhat = tensor(&buffers, &format!("layers.{index}.xhat"));
        let input = tensor(&buffers, &format!("layers.{index}.input"));
        let (mean, var) = column_stats(xhat, 8, n);
        let (_, input_var) = column_stats(input, 8, n);
        for j in 0..n {
            assert!(
                mean[j].abs() < 1e-12,
                "layer {index} feature {j}: mean {}",
                mean[j]
            );
            // σ²/(σ² + eps): 1 up to the eps the definition adds.
            let expected = input_var[j] / (input_var[j] + eps);
            assert!(input_var[j] > 1e-4, "the input varies: {}", input_var[j]);
            assert!(
                (var[j] - expected).abs() < 1e-12 && (var[j] - 1.0).abs() < 0.2,
                "layer {index} feature {j}: variance {}",
                var[j]
            );
        }
    }
    // γ = 1, β = 0 before the step's update: the output was x̂. After one Adam step γ and β
    // moved; the output is γ·x̂ + β with the values the forward pass used (the old ones),
    // checked on the first layer with a fresh model and learning rate 0.
    let hyper = bn_gemm::Hyper {
        learning_rate: 0.0,
        ..bn_gemm::Hyper::default()
    };
    let mut still = <bn_gemm::Model as Network>::new(hyper, 1);
    netc::__private::train_step_on(&mut still, &x, netc::Targets::Classes(&labels(8, 4)));
    let buffers = still.batchnorm_buffers();
    assert_eq!(
        tensor(&buffers, "layers.1.output"),
        tensor(&buffers, "layers.1.xhat")
    );
}

/// Central differences of the mean loss (training mode: batch statistics; replayed masks)
/// against the analytic gradient of every tensor, relative error < 1e-6 in f64.
fn gradient_check<M: Network<Float = f64>>(
    model: &mut M,
    grads: impl Fn(&M) -> Vec<Vec<f64>>,
    rows: usize,
) {
    let x = inputs(M::BATCH, M::INPUT, 3);
    let labels = labels(M::BATCH, M::OUTPUT as u32);
    model.gradient(&x, netc::Targets::Classes(&labels), rows, Masks::Fresh);
    let analytic = grads(model);
    assert_eq!(
        analytic.len(),
        model.tensors().len() - 2 * count_running(model)
    );
    let h = 1e-5;
    let mut checked = 0;
    for (t, tensor_grads) in analytic.iter().enumerate() {
        let index = trainable_index(model, t);
        for (j, &g) in tensor_grads.iter().enumerate() {
            let original = model.tensors_mut()[index].data[j];
            model.tensors_mut()[index].data[j] = original + h;
            let plus = model.gradient(&x, netc::Targets::Classes(&labels), rows, Masks::Reuse);
            model.tensors_mut()[index].data[j] = original - h;
            let minus = model.gradient(&x, netc::Targets::Classes(&labels), rows, Masks::Reuse);
            model.tensors_mut()[index].data[j] = original;
            let numeric = (plus - minus) / (2.0 * h);
            let scale = g.abs().max(numeric.abs());
            assert!(
                (numeric - g).abs() <= 1e-6 * scale + 1e-9,
                "tensor {} element {j}: analytic {g}, numeric {numeric}",
                model.tensors()[index].name
            );
            checked += usize::from(scale > 1e-4);
        }
    }
    assert!(checked > 10, "only {checked} gradients were not ~0");
}

fn count_running<M: Network>(model: &M) -> usize {
    model
        .tensors()
        .iter()
        .filter(|t| t.name.ends_with("running_mean"))
        .count()
}

/// The t-th trainable tensor's position in `tensors()` (skipping running statistics).
fn trainable_index<M: Network>(model: &M, t: usize) -> usize {
    model
        .tensors()
        .iter()
        .enumerate()
        .filter(|(_, tensor)| !tensor.name.contains("running_"))
        .nth(t)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no trainable tensor {t}"))
}

fn grads_of(list: Vec<netc::__private::TensorRef<'_, f64>>) -> Vec<Vec<f64>> {
    list.iter().map(|t| t.data.to_vec()).collect()
}

#[test]
fn gradients_through_batch_statistics_unrolled() {
    let mut model = bn_small::new(5);
    let names: Vec<String> = model
        .grad_tensors()
        .iter()
        .map(|t| t.name.clone())
        .collect();
    assert_eq!(
        names,
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.1.weight",
            "layers.1.bias",
            "layers.2.weight",
            "layers.2.bias"
        ]
    );
    gradient_check(&mut model, |m| grads_of(m.grad_tensors()), 6);
}

#[test]
fn gradients_through_batch_statistics_on_fewer_rows() {
    // Statistics over the 4 rows given, not over BATCH = 6.
    let mut model = bn_small::new(6);
    gradient_check(&mut model, |m| grads_of(m.grad_tensors()), 4);
}

#[test]
fn gradients_through_batch_statistics_gemm() {
    let mut model = bn_gemm::new(7);
    gradient_check(&mut model, |m| grads_of(m.grad_tensors()), 8);
}

#[test]
fn gradients_through_batch_statistics_and_dropout_masks() {
    let mut model = bn_dropout::new(8);
    gradient_check(&mut model, |m| grads_of(m.grad_tensors()), 8);
    let masks = model.dropout_masks();
    assert_eq!(masks.len(), 2);
    assert_eq!(masks[0].name, "layers.0.mask");
    assert_eq!(masks[1].name, "layers.2.mask");
    for (mask, keep) in [(&masks[0], 0.7), (&masks[1], 0.6)] {
        assert!(mask.data.iter().all(|&m| m == 0.0 || m == 1.0 / keep));
        assert!(mask.data.contains(&0.0) && mask.data.iter().any(|&m| m != 0.0));
    }
}

/// The step's gradients are the gradient pass's: train_step and gradient share the code.
#[test]
fn train_step_gradients_match_the_gradient_pass() {
    let hyper = bn_small::Hyper {
        learning_rate: 0.0,
        ..bn_small::Hyper::default()
    };
    let mut model = <bn_small::Model as Network>::new(hyper, 2);
    let x = inputs(6, 3, 1);
    let y = labels(6, 4);
    let loss = model.gradient(&x, netc::Targets::Classes(&y), 6, Masks::Fresh);
    let from_pass = grads_of(model.grad_tensors());
    let stats = netc::__private::train_step_on(&mut model, &x, netc::Targets::Classes(&y));
    assert!((f64::from(stats.loss) - loss).abs() < 1e-6);
    assert_eq!(grads_of(model.grad_tensors()), from_pass);
}

/// r ← momentum·r + (1−momentum)·batch, the variance unbiased (·rows/(rows−1)); running
/// statistics start at mean 0, variance 1.
#[test]
fn running_statistics_follow_the_momentum_rule() {
    let mut model = bn_small::new(9);
    let mut running_mean = vec![0.0f64; 5];
    let mut running_var = vec![1.0f64; 5];
    {
        let tensors = model.tensors();
        assert_eq!(tensor(&tensors, "layers.1.running_mean"), &running_mean[..]);
        assert_eq!(tensor(&tensors, "layers.1.running_var"), &running_var[..]);
    }
    for step in 0..4 {
        netc::__private::train_step_on(
            &mut model,
            &inputs(6, 3, 5 * step),
            netc::Targets::Classes(&labels(6, 4)),
        );
        let buffers = model.batchnorm_buffers();
        let (mean, var) = column_stats(tensor(&buffers, "layers.1.input"), 6, 5);
        for j in 0..5 {
            assert!((tensor(&buffers, "layers.1.batch_mean")[j] - mean[j]).abs() < 1e-12);
            assert!((tensor(&buffers, "layers.1.batch_var")[j] - var[j]).abs() < 1e-12);
            running_mean[j] = 0.8 * running_mean[j] + 0.2 * mean[j];
            running_var[j] = 0.8 * running_var[j] + 0.2 * var[j] * 6.0 / 5.0;
        }
        let tensors = model.tensors();
        for (name, expected) in [
            ("layers.1.running_mean", &running_mean),
            ("layers.1.running_var", &running_var),
        ] {
            for (a, e) in tensor(&tensors, name).iter().zip(expected.iter()) {
                assert!((a - e).abs() < 1e-12, "step {step} {name}: {a} vs {e}");
            }
        }
    }
    // The gradient-only pass leaves them alone.
    let before: Vec<f64> = tensor(&model.tensors(), "layers.1.running_mean").to_vec();
    model.gradient(
        &inputs(6, 3, 99),
        netc::Targets::Classes(&labels(6, 4)),
        6,
        Masks::Fresh,
    );
    assert_eq!(
        tensor(&model.tensors(), "layers.1.running_mean"),
        &before[..]
    );
}

/// Inference normalizes with the running statistics: the output matches a hand computation
/// from the tensors, does not depend on the other rows, and moves with the statistics.
#[test]
fn prediction_uses_the_running_statistics() {
    let mut model = bn_small::new(4);
    for step in 0..3 {
        netc::__private::train_step_on(
            &mut model,
            &inputs(6, 3, step),
            netc::Targets::Classes(&labels(6, 4)),
        );
    }
    let expected = |model: &bn_small::Model, x: &[f64]| -> Vec<f64> {
        let t = model.tensors();
        let (w0, b0) = (tensor(&t, "layers.0.weight"), tensor(&t, "layers.0.bias"));
        let (gamma, beta) = (tensor(&t, "layers.1.weight"), tensor(&t, "layers.1.bias"));
        let (rm, rv) = (
            tensor(&t, "layers.1.running_mean"),
            tensor(&t, "layers.1.running_var"),
        );
        let (w2, b2) = (tensor(&t, "layers.2.weight"), tensor(&t, "layers.2.bias"));
        let h: Vec<f64> = (0..5)
            .map(|o| {
                let z = b0[o] + (0..3).map(|k| w0[o * 3 + k] * x[k]).sum::<f64>();
                let a = z.tanh();
                gamma[o] * (a - rm[o]) / (rv[o] + 1e-5).sqrt() + beta[o]
            })
            .collect();
        let z: Vec<f64> = (0..4)
            .map(|o| b2[o] + (0..5).map(|k| w2[o * 5 + k] * h[k]).sum::<f64>())
            .collect();
        let max = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
        z.iter().map(|v| (v - max).exp() / sum).collect()
    };
    let x = inputs(2, 3, 11);
    let mut out = [0.0f64; 8];
    model.predict_batch(&x, 2, &mut out);
    for (row, chunk) in out.chunks(4).enumerate() {
        let hand = expected(&model, &x[row * 3..row * 3 + 3]);
        for (a, e) in chunk.iter().zip(&hand) {
            // f64 outputs (the model's precision) against the hand computation.
            assert!((a - e).abs() < 1e-12, "row {row}: {a} vs {e}");
        }
    }
    // One row alone: the same output (no batch statistics at inference).
    let mut alone = [0.0f64; 4];
    model.predict_batch(&x[..3], 1, &mut alone);
    assert_eq!(alone, out[..4]);
    // Other running statistics, other predictions, still the hand computation.
    model.tensors_mut()[4].data.fill(0.5);
    model.tensors_mut()[5].data.fill(2.0);
    assert_eq!(model.tensors()[4].name, "layers.1.running_mean");
    let mut moved = [0.0f64; 4];
    model.predict_batch(&x[..3], 1, &mut moved);
    assert_ne!(moved, alone);
    for (a, e) in moved.iter().zip(expected(&model, &x[..3])) {
        assert!((a - e).abs() < 1e-12, "{a} vs {e}");
    }
}

#[test]
fn checkpoints_keep_gamma_beta_and_running_statistics() {
    use netc::__private as rt;
    let mut model = bn_f32::new(3);
    for step in 0..5 {
        netc::__private::train_step_on(
            &mut model,
            &inputs(16, 20, step),
            netc::Targets::Classes(&labels(16, 3)),
        );
    }
    let names: Vec<String> = model.tensors().iter().map(|t| t.name.clone()).collect();
    assert_eq!(
        names,
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.1.weight",
            "layers.1.bias",
            "layers.1.running_mean",
            "layers.1.running_var",
            "layers.2.weight",
            "layers.2.bias"
        ]
    );
    let saved: Vec<Vec<f32>> = model.tensors().iter().map(|t| t.data.to_vec()).collect();
    // Trained away from their initial values (γ 1, β 0, mean 0, variance 1).
    for (i, initial) in [(2, 1.0), (3, 0.0), (4, 0.0), (5, 1.0)] {
        assert!(saved[i].iter().any(|&v| v != initial), "{} moved", names[i]);
    }
    let path = std::env::temp_dir().join(format!("netc-bn-{}.safetensors", std::process::id()));
    rt::save_checkpoint(&model, &path).unwrap();
    let mut loaded = bn_f32::new(99);
    rt::load_checkpoint(&mut loaded, &path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let restored: Vec<Vec<f32>> = loaded.tensors().iter().map(|t| t.data.to_vec()).collect();
    assert_eq!(restored, saved);
    let x = inputs(3, 20, 42);
    let (mut a, mut b) = ([0.0f32; 9], [0.0f32; 9]);
    model.predict_batch(&x, 3, &mut a);
    loaded.predict_batch(&x, 3, &mut b);
    assert_eq!(a, b);
}

/// Batch norm learns in f32 on a separable toy problem (GEMM path).
#[test]
fn batchnorm_model_learns() {
    let mut model = bn_f32::new(1);
    let mut x = vec![0.0f32; 16 * 20];
    let mut y = vec![0u32; 16];
    let mut first = None;
    let mut last = 0.0;
    for step in 0..300 {
        for r in 0..16 {
            let class = ((step * 16 + r) * 5 % 3) as u32;
            y[r] = class;
            for k in 0..20 {
                let noise = (((step * 16 + r) * 31 + k * 17) % 29) as f32 / 29.0 - 0.5;
                x[r * 20 + k] = if k % 3 == class as usize { 1.0 } else { 0.0 } + noise;
            }
        }
        let stats = netc::__private::train_step_on(&mut model, &x, netc::Targets::Classes(&y));
        first.get_or_insert(stats.loss);
        last = stats.loss;
    }
    let first = first.unwrap();
    assert!(last < 0.2 * first, "loss {first} -> {last}");
}

// ---------------------------------------------------------------- two dropouts in a row

netc::net! {
    model bn_two_dropouts {
        input 2
        dense 10000 init=normal(std=0.1)
        dropout 0.5
        dropout 0.2
        dense 2
        loss softmax
    }
    train { batch 1 }
}

/// Two inverted dropouts in a row keep a unit with probability (1−p₁)(1−p₂) = 0.4 and scale
/// it by 1/0.4; each p stays its own hyperparameter.
#[test]
fn two_dropouts_in_a_row_compose() {
    use netc::__private::Hyperparams;
    let names = bn_two_dropouts::Hyper::names();
    assert!(
        names.contains(&"dropout_1") && names.contains(&"dropout_2"),
        "{names:?}"
    );
    let rate = |hyper: bn_two_dropouts::Hyper| {
        let mut model = <bn_two_dropouts::Model as Network>::new(hyper, 11);
        netc::__private::train_step_on(&mut model, &[1.0, 1.0], netc::Targets::Classes(&[0]));
        let masks = model.dropout_masks();
        assert_eq!(masks.len(), 1, "one merged mask");
        let values: Vec<f32> = masks[0].data.to_vec();
        let nonzero: Vec<f32> = values.iter().copied().filter(|&m| m != 0.0).collect();
        (nonzero.len() as f64 / values.len() as f64, nonzero)
    };
    let (kept, values) = rate(bn_two_dropouts::Hyper::default());
    // σ = √(0.4·0.6/10000) ≈ 0.0049.
    assert!((kept - 0.4).abs() <= 4.0 * 0.0049, "kept fraction {kept}");
    assert!(
        values.iter().all(|&m| (m - 2.5).abs() < 1e-6),
        "scale 1/0.4"
    );
    let (kept, values) = rate(bn_two_dropouts::Hyper {
        dropout_2: 0.0,
        ..bn_two_dropouts::Hyper::default()
    });
    assert!((kept - 0.5).abs() <= 4.0 * 0.005, "kept fraction {kept}");
    assert!(values.iter().all(|&m| m == 2.0));
}

// ---------------------------------------------------------------- what is refused

/// Batch-norm placements the generated trainer cannot honour are refused at their span,
/// never silently ignored.
#[test]
fn unsupported_batchnorm_placements_are_refused() {
    use netc_syntax::{ErrorCode, SourceFile, render_plain};
    let cases = [
        (
            "input 4\n batchnorm\n dense 3\n loss softmax",
            "before the first dense layer",
        ),
        (
            "input 4\n dense 5\n batchnorm\n dropout 0.1\n batchnorm\n dense 3\n loss softmax",
            "a second `batchnorm`",
        ),
    ];
    for (body, expected) in cases {
        let text = format!("model m {{\n {body}\n}}\n");
        let src = SourceFile::new("m.net", text);
        let errors =
            netc_codegen::compile(&src, &netc_codegen::Options::default()).expect_err(body);
        let rendered = render_plain(&src, &errors);
        assert_eq!(errors.len(), 1, "{rendered}");
        assert_eq!(errors[0].code, ErrorCode::NotYetSupported, "{rendered}");
        assert!(rendered.contains(expected), "{rendered}");
        // Blamed on the offending `batchnorm`.
        let start = errors[0].primary_span().expect("a span").start as usize;
        assert!(src.text[start..].starts_with("batchnorm"), "{rendered}");
    }
}
