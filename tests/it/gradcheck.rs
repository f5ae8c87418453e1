//! The all-combinations gradient check: for every layer stack × activation × loss ×
//! regularizer (`tests/gradcheck/combinations.rs`), the analytic gradient of data loss +
//! regularization against central differences in f64, relative error < 1e-6 for every
//! parameter; dropout with fixed masks (`Masks::Reuse`), batch norm in training mode (batch
//! statistics). The build script compiles one model per stack × loss × `include_bias` (the
//! four activations on its four hidden layers, l2 and l1 as hyperparameters); each model runs
//! once per l2/l1 choice, so every combination is checked on the model that contains it.
//! Also: the model's loss equals an independent f64 forward pass, and `train_step` computes
//! the gradient pass's gradient and applies data + penalty gradient.

use netc::__private::{Hyperparams, Masks, TargetKind, Targets};
use netc::Network;

#[path = "../gradcheck/combinations.rs"]
mod combinations;

use combinations::{Activation, Combination, L1, L2, Layer, Loss, ModelSpec};

/// Seed of every model (the parameters are overwritten; dropout masks come from it).
const SEED: u64 = 7;
/// The bound the issue sets, on |a − n| / max(|a|, |n|, 1e-8).
const MAX_RELATIVE_ERROR: f64 = 1e-6;
/// The absolute agreement a component too small for the relative bound must reach: the
/// resolution of the numeric derivative (see `check`), 1e-6 of a 1e-6 component.
const RESOLUTION: f64 = 1e-12;
/// No pre-activation lies closer than this to 0 (relu kinks) and no parameter closer than
/// PARAMETER_MARGIN (l1 kinks): several times the largest finite-difference step (1e-2,
/// times the largest activation it scales), so no difference crosses a kink.
const KINK_MARGIN: f64 = 0.05;
const PARAMETER_MARGIN: f64 = 0.02;

/// What the generic check needs beyond `Network` (implemented by generated glue).
trait Glue: Network<Float = f64> {
    fn with_learning_rate(learning_rate: f64) -> Self;
    /// The dropout masks of the last draw by name (`input.masked` is the masked input).
    fn masks(&self) -> Vec<(String, Vec<f64>)>;
}

/// One run of a model: the check at one (λ₂, λ₁).
type Run = fn(&ModelSpec, (f64, f64)) -> Report;

enum Model {
    Check(Run),
    /// Sema or codegen refused the spec: the rendered diagnostic. The build script writes it
    /// only for a refused combination (none today), so it may go unconstructed.
    #[allow(dead_code)]
    Refused(&'static str),
}

struct Entry {
    spec: ModelSpec,
    model: Model,
}

include!(concat!(env!("OUT_DIR"), "/gradcheck_models.rs"));

// ------------------------------------------------------------------ deterministic data

/// A value in [0, 1) from two integers (SplitMix64 finalizer).
fn unit(a: u64, b: u64) -> f64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// ±[lo, hi), sign and magnitude from (a, b).
fn signed(a: u64, b: u64, lo: f64, hi: f64) -> f64 {
    let magnitude = lo + (hi - lo) * unit(a, b);
    if unit(b, a ^ 0x55) < 0.5 {
        -magnitude
    } else {
        magnitude
    }
}

fn inputs(c: &ModelSpec) -> Vec<f64> {
    (0..c.batch() * c.input())
        .map(|i| signed(1, i as u64, 0.1, 1.0))
        .collect()
}

/// One batch's targets in both forms; the model's `TARGET_KIND` picks one.
struct Batch {
    x: Vec<f64>,
    kind: TargetKind,
    /// Class labels, every class present: softmax/one-vs-all 0..3, a single unit 0/1.
    labels: Vec<u32>,
    /// `outputs` values per sample: 0/1 for logistic (multi-label, rows differ), else ±[0.1, 1).
    values: Vec<f64>,
}

impl Batch {
    fn new(c: &ModelSpec, kind: TargetKind) -> Batch {
        let (rows, outputs) = (c.batch(), c.loss.outputs());
        let classes = if outputs == 1 { 2 } else { 3 };
        let values = (0..rows * outputs)
            .map(|i| match c.loss {
                Loss::LogisticMultiLabel => f64::from(u8::from((i * 5 + i / 3) % 3 != 0)),
                _ => signed(2, i as u64, 0.1, 1.0),
            })
            .collect();
        Batch {
            x: inputs(c),
            kind,
            labels: (0..rows as u32).map(|r| (r * 2 + 1) % classes).collect(),
            values,
        }
    }

    fn targets(&self) -> Targets<'_, f64> {
        match self.kind {
            TargetKind::Classes => Targets::Classes(&self.labels),
            TargetKind::Values => Targets::Values(&self.values),
        }
    }

    /// Target of output `k` of sample `r`, as the loss reads it.
    fn target(&self, r: usize, k: usize, outputs: usize) -> f64 {
        match self.kind {
            TargetKind::Values => self.values[r * outputs + k],
            TargetKind::Classes if outputs == 1 => f64::from(self.labels[r]),
            TargetKind::Classes => f64::from(u8::from(k == self.labels[r] as usize)),
        }
    }
}

/// Parameters in flat order (weights, bias, then γ, β of a following batch norm), none
/// within 0.05 of 0.
fn parameters(c: &ModelSpec) -> Vec<f64> {
    let mut theta = Vec::new();
    let mut width = 0;
    for (tensor, layer) in c.layers().into_iter().enumerate() {
        let tensor = tensor as u64;
        match layer {
            Layer::Dense { inputs, units, .. } => {
                let scale = 1.5 / (inputs as f64).sqrt();
                theta.extend(
                    (0..units * inputs).map(|i| scale * signed(tensor, i as u64, 0.2, 1.0)),
                );
                theta.extend((0..units).map(|i| signed(tensor + 100, i as u64, 0.05, 0.3)));
                width = units;
            }
            Layer::BatchNorm { .. } => {
                theta.extend((0..width).map(|i| 0.7 + 0.6 * unit(tensor + 200, i as u64)));
                theta.extend((0..width).map(|i| signed(tensor + 300, i as u64, 0.05, 0.2)));
            }
            Layer::Dropout { .. } => {}
        }
    }
    theta
}

// ------------------------------------------------------------------ reference forward pass

/// An independent f64 forward pass: every dense layer's pre-activations (rows × units) and
/// the mean data loss.
struct Forward {
    pre_activations: Vec<(usize, Vec<f64>)>,
    loss: f64,
}

fn activate(activation: Activation, z: f64) -> f64 {
    match activation {
        Activation::Identity => z,
        Activation::Relu => z.max(0.0),
        Activation::Tanh => z.tanh(),
        Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
    }
}

fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

fn mask<'a>(masks: &'a [(String, Vec<f64>)], name: &str) -> &'a [f64] {
    &masks
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("the model has no dropout mask {name}"))
        .1
}

fn forward(c: &ModelSpec, theta: &[f64], batch: &Batch, masks: &[(String, Vec<f64>)]) -> Forward {
    let rows = c.batch();
    let mut width = c.input();
    let mut a: Vec<f64> = batch.x.clone();
    let mut at = 0;
    let mut pre_activations = Vec::new();
    let mut z = Vec::new();
    for (index, layer) in c.layers().into_iter().enumerate() {
        match layer {
            Layer::Dense {
                inputs,
                units,
                activation,
            } => {
                assert_eq!(inputs, width);
                let (w, b) = (
                    &theta[at..at + units * inputs],
                    &theta[at + units * inputs..],
                );
                at += units * inputs + units;
                z = (0..rows * units)
                    .map(|i| {
                        let (r, o) = (i / units, i % units);
                        b[o] + (0..inputs)
                            .map(|k| w[o * inputs + k] * a[r * inputs + k])
                            .sum::<f64>()
                    })
                    .collect();
                a = z.iter().map(|&v| activate(activation, v)).collect();
                pre_activations.push((index, z.clone()));
                width = units;
            }
            Layer::Dropout { .. } if index == 0 => a = mask(masks, "input.masked").to_vec(),
            Layer::Dropout { .. } => {
                let m = mask(masks, &format!("layers.{}.mask", index - 1));
                a.iter_mut().zip(m).for_each(|(v, m)| *v *= m);
            }
            Layer::BatchNorm { eps } => {
                let (gamma, beta) = (&theta[at..at + width], &theta[at + width..at + 2 * width]);
                at += 2 * width;
                for j in 0..width {
                    let column = |r: usize| a[r * width + j];
                    let mean = (0..rows).map(column).sum::<f64>() / rows as f64;
                    let var =
                        (0..rows).map(|r| (column(r) - mean).powi(2)).sum::<f64>() / rows as f64;
                    let inv = 1.0 / (var + eps).sqrt();
                    for r in 0..rows {
                        a[r * width + j] = gamma[j] * (a[r * width + j] - mean) * inv + beta[j];
                    }
                }
            }
        }
    }
    assert_eq!(
        at,
        theta.len(),
        "the layer list accounts for every parameter"
    );
    let outputs = width;
    let per_row = |r: usize| -> f64 {
        let (z, y) = (&z[r * outputs..][..outputs], &a[r * outputs..][..outputs]);
        let target = |k: usize| batch.target(r, k, outputs);
        match c.loss {
            Loss::Softmax => {
                let max = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
                max + sum.ln() - z[batch.labels[r] as usize]
            }
            Loss::LogisticOneVsAll | Loss::LogisticSingle | Loss::LogisticMultiLabel => (0
                ..outputs)
                .map(|k| softplus(z[k]) - target(k) * z[k])
                .sum(),
            Loss::MseSingle | Loss::MseMulti => {
                (0..outputs).map(|k| 0.5 * (y[k] - target(k)).powi(2)).sum()
            }
        }
    };
    let loss = (0..rows).map(per_row).sum::<f64>() / rows as f64;
    Forward {
        pre_activations,
        loss,
    }
}

/// λ₂/2·Σθ² + λ₁·Σ|θ| over dense weights (and biases with `include_bias`).
fn reference_penalty(c: &ModelSpec, theta: &[f64], (l2, l1): (f64, f64)) -> f64 {
    let term = |p: &f64| 0.5 * l2 * p * p + l1 * p.abs();
    let (mut at, mut width, mut sum) = (0, 0, 0.0);
    for layer in c.layers() {
        match layer {
            Layer::Dense { inputs, units, .. } => {
                sum += theta[at..at + inputs * units].iter().map(term).sum::<f64>();
                at += inputs * units;
                if c.include_bias {
                    sum += theta[at..at + units].iter().map(term).sum::<f64>();
                }
                at += units;
                width = units;
            }
            Layer::BatchNorm { .. } => at += 2 * width,
            Layer::Dropout { .. } => {}
        }
    }
    sum
}

/// Moves each dense layer's biases (in layer order, the pass recomputed after each layer)
/// so that no pre-activation lies within 2·KINK_MARGIN of 0: a bias shift moves a unit's
/// pre-activation by the same amount in every row.
fn clear_kinks(c: &ModelSpec, theta: &mut [f64], batch: &Batch, masks: &[(String, Vec<f64>)]) {
    let dense: Vec<(usize, usize, usize)> = {
        let mut at = 0;
        let mut list = Vec::new();
        let mut width = 0;
        for (index, layer) in c.layers().into_iter().enumerate() {
            match layer {
                Layer::Dense { inputs, units, .. } => {
                    list.push((index, at + inputs * units, units));
                    at += inputs * units + units;
                    width = units;
                }
                Layer::BatchNorm { .. } => at += 2 * width,
                Layer::Dropout { .. } => {}
            }
        }
        list
    };
    for (index, bias_at, units) in dense {
        let pass = forward(c, theta, batch, masks);
        let z = &pass
            .pre_activations
            .iter()
            .find(|(i, _)| *i == index)
            .unwrap()
            .1;
        for o in 0..units {
            let column: Vec<f64> = z.iter().skip(o).step_by(units).copied().collect();
            let shift = (0..400)
                .map(|k| 0.01 * f64::from((k + 1) / 2) * if k % 2 == 0 { 1.0 } else { -1.0 })
                .find(|shift| {
                    column
                        .iter()
                        .all(|v| (v + shift).abs() >= 2.0 * KINK_MARGIN)
                        && (theta[bias_at + o] + shift).abs() >= 2.0 * PARAMETER_MARGIN
                })
                .expect("a bias shift clears the kinks");
            theta[bias_at + o] += shift;
        }
    }
}

// ------------------------------------------------------------------ the check

/// One run's result.
struct Report {
    /// Largest |a − n| / max(|a|, |n|, 1e-8) over the parameters, and where.
    max_error: f64,
    worst: String,
    /// The same with plain central differences at h = 1e-6·max(1, |θ|), for comparison.
    plain_max_error: f64,
    /// Parameters over the bound (index, analytic, numeric, error).
    failures: Vec<(usize, f64, f64, f64)>,
    params: usize,
    /// Parameters the data loss ignores (differenced over a large step).
    invariant: usize,
    /// Parameters over the relative bound but within RESOLUTION absolutely.
    at_resolution: usize,
    /// Everything else that went wrong (forward pass, penalty, train_step).
    problems: Vec<String>,
}

fn relative_error(a: f64, n: f64) -> f64 {
    (a - n).abs() / a.abs().max(n.abs()).max(1e-8)
}

/// A model with this learning rate and (λ₂, λ₁).
fn build<M: Glue>(learning_rate: f64, (l2, l1): (f64, f64)) -> M {
    let mut model = M::with_learning_rate(learning_rate);
    for (name, value) in [("l2", l2), ("l1", l1)] {
        model
            .hyper_mut()
            .set(name, value)
            .expect("l2 and l1 are hyperparameters");
    }
    model
}

/// Data loss (masks replayed) + penalty at `theta`.
fn objective<M: Glue>(model: &mut M, theta: &[f64], batch: &Batch) -> f64 {
    model.write_params(theta);
    let mut scratch = vec![0.0; M::PARAMS];
    let rows = M::BATCH;
    model.gradient(&batch.x, batch.targets(), rows, Masks::Reuse)
        + model.regularization(&mut scratch)
}

/// (L(θ + h·eᵢ) − L(θ − h·eᵢ)) / 2h.
fn central<M: Glue>(model: &mut M, theta: &[f64], batch: &Batch, i: usize, h: f64) -> f64 {
    let mut probe = theta.to_vec();
    probe[i] = theta[i] + h;
    let plus = objective(model, &probe, batch);
    probe[i] = theta[i] - h;
    let minus = objective(model, &probe, batch);
    (plus - minus) / (2.0 * h)
}

/// Ridders' method (Numerical Recipes 5.7, `dfridr`): central differences at h, h/1.4,
/// h/1.4², … extrapolated to h → 0 in a Neville tableau; returns the entry whose successive
/// extrapolations agree best, and stops once the error grows (rounding takes over).
fn ridders(mut difference: impl FnMut(f64) -> f64, h: f64) -> f64 {
    const SHRINK: f64 = 1.4;
    const STEPS: usize = 10;
    let mut tableau = [[0.0f64; STEPS]; STEPS];
    let mut step = h;
    tableau[0][0] = difference(step);
    let (mut best, mut error) = (tableau[0][0], f64::INFINITY);
    for i in 1..STEPS {
        step /= SHRINK;
        tableau[0][i] = difference(step);
        let mut factor = SHRINK * SHRINK;
        for j in 1..=i {
            tableau[j][i] = (tableau[j - 1][i] * factor - tableau[j - 1][i - 1]) / (factor - 1.0);
            factor *= SHRINK * SHRINK;
            let change = (tableau[j][i] - tableau[j - 1][i])
                .abs()
                .max((tableau[j][i] - tableau[j - 1][i - 1]).abs());
            if change <= error {
                error = change;
                best = tableau[j][i];
            }
        }
        if (tableau[i][i] - tableau[i - 1][i - 1]).abs() >= 2.0 * error {
            break;
        }
    }
    best
}

/// θᵢ is a direction the data loss does not depend on (a shift a batch norm subtracts again:
/// the bias of a linear unit before it, the β of a batch norm before such a layer): the
/// loss at θᵢ ± θᵢ/2 equals the loss at θ to rounding. Such a parameter is differenced over
/// that large step, which is exact for the penalty and has ~1e-15 of rounding.
fn data_loss_ignores<M: Glue>(
    model: &mut M,
    theta: &[f64],
    batch: &Batch,
    i: usize,
    loss: f64,
) -> bool {
    let mut probe = theta.to_vec();
    let flat = [1.5, 0.5].iter().all(|factor| {
        probe[i] = theta[i] * factor;
        model.write_params(&probe);
        let moved = model.gradient(&batch.x, batch.targets(), M::BATCH, Masks::Reuse);
        (moved - loss).abs() <= 1e-14 * loss.abs().max(1.0)
    });
    model.write_params(theta);
    flat
}

fn check<M: Glue>(c: &ModelSpec, coefficients: (f64, f64)) -> Report {
    let mut report = Report {
        max_error: 0.0,
        worst: String::new(),
        plain_max_error: 0.0,
        failures: Vec::new(),
        params: M::PARAMS,
        invariant: 0,
        at_resolution: 0,
        problems: Vec::new(),
    };
    let rows = c.batch();
    assert_eq!(M::BATCH, rows);
    let batch = Batch::new(c, M::TARGET_KIND);
    let mut model: M = build(0.1, coefficients);
    let mut theta = parameters(c);
    assert_eq!(theta.len(), M::PARAMS, "{}: the flat layout", c.name());

    // Draw the masks once; everything after replays them.
    model.write_params(&theta);
    model.gradient(&batch.x, batch.targets(), rows, Masks::Fresh);
    let masks = model.masks();
    clear_kinks(c, &mut theta, &batch, &masks);
    model.write_params(&theta);

    // Away from every kink, asserted on the pass that is differentiated.
    let reference = forward(c, &theta, &batch, &masks);
    for (index, z) in &reference.pre_activations {
        let closest = z.iter().map(|v| v.abs()).fold(f64::INFINITY, f64::min);
        assert!(
            closest >= KINK_MARGIN,
            "{}: layer {index} pre-activation {closest}",
            c.name()
        );
    }
    let smallest = theta.iter().map(|v| v.abs()).fold(f64::INFINITY, f64::min);
    assert!(
        smallest >= PARAMETER_MARGIN,
        "{}: parameter {smallest}",
        c.name()
    );

    // Analytic: data gradient + penalty gradient.
    let loss = model.gradient(&batch.x, batch.targets(), rows, Masks::Reuse);
    if (loss - reference.loss).abs() > 1e-12 * reference.loss.abs().max(1.0) {
        report.problems.push(format!(
            "loss {loss} vs reference forward pass {}",
            reference.loss
        ));
    }
    let mut analytic = vec![0.0; M::PARAMS];
    model.read_gradient(&mut analytic);
    let data_gradient = analytic.clone();
    let penalty = model.regularization(&mut analytic);
    let expected_penalty = reference_penalty(c, &theta, coefficients);
    if (penalty - expected_penalty).abs() > 1e-12 * expected_penalty.max(1.0) {
        report
            .problems
            .push(format!("penalty {penalty} vs {expected_penalty}"));
    }

    // Numeric: central differences of the same objective, masks replayed. Plain central
    // differences at h = 1e-6 carry ~ε·L/h ≈ 1e-10 of rounding, over the bound for any
    // component below ~1e-4; Ridders' extrapolation from h = 1e-2 down cancels the
    // truncation terms with ~1e-13 of rounding. A parameter the data loss does not depend
    // on is differenced over half its own size: exact for the penalty (quadratic and, on one
    // side of 0, linear), rounding ~1e-15.
    for i in 0..M::PARAMS {
        let scale = theta[i].abs().max(1.0);
        let plain = central(&mut model, &theta, &batch, i, 1e-6 * scale);
        report.plain_max_error = report
            .plain_max_error
            .max(relative_error(analytic[i], plain));
        let numeric = if data_loss_ignores(&mut model, &theta, &batch, i, loss) {
            report.invariant += 1;
            central(&mut model, &theta, &batch, i, 0.5 * theta[i].abs())
        } else {
            ridders(|h| central(&mut model, &theta, &batch, i, h), 1e-2 * scale)
        };
        let error = relative_error(analytic[i], numeric);
        if error > report.max_error || report.worst.is_empty() {
            report.max_error = report.max_error.max(error);
            report.worst = format!(
                "θ[{i}]: analytic {:.6e}, numeric {numeric:.6e}",
                analytic[i]
            );
        }
        if error < MAX_RELATIVE_ERROR {
            continue;
        }
        // Below the resolution of f64 differences of an O(1) loss (ε·L/h ≈ 1e-14 at h = 1e-2,
        // times Ridders' extrapolation weights) the relative bound cannot be decided: such a
        // component must agree to RESOLUTION absolutely, and is counted in the table.
        if (analytic[i] - numeric).abs() <= RESOLUTION {
            report.at_resolution += 1;
        } else {
            report.failures.push((i, analytic[i], numeric, error));
        }
    }

    check_train_step::<M>(
        coefficients,
        &theta,
        &batch,
        &data_gradient,
        &analytic,
        &mut report,
    );
    report
}

/// `train_step` shares the gradient pass's code: at learning rate 0 it leaves the gradient
/// the pass computes on its masks; at learning rate 1 (sgd) it moves θ by exactly
/// −(data gradient + penalty gradient).
fn check_train_step<M: Glue>(
    coefficients: (f64, f64),
    theta: &[f64],
    batch: &Batch,
    data_gradient: &[f64],
    full_gradient: &[f64],
    report: &mut Report,
) {
    let rows = M::BATCH;
    let mut still: M = build(0.0, coefficients);
    still.write_params(theta);
    let stats = netc::__private::train_step_on(&mut still, &batch.x, batch.targets());
    let mut from_step = vec![0.0; M::PARAMS];
    still.read_gradient(&mut from_step);
    let mut after = vec![0.0; M::PARAMS];
    still.read_params(&mut after);
    if after != theta {
        report
            .problems
            .push("train_step at learning rate 0 moved θ".into());
    }
    // Replays the step's masks: the same network the step differentiated.
    let loss = still.gradient(&batch.x, batch.targets(), rows, Masks::Reuse);
    let mut from_pass = vec![0.0; M::PARAMS];
    still.read_gradient(&mut from_pass);
    if from_step != from_pass {
        let worst = from_step
            .iter()
            .zip(&from_pass)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        report.problems.push(format!(
            "train_step gradient ≠ gradient pass on its masks (max |Δ| {worst:e})"
        ));
    }
    if (f64::from(stats.loss) - loss).abs() > 1e-6 * loss.max(1.0) {
        report.problems.push(format!(
            "train_step loss {} vs gradient pass {loss}",
            stats.loss
        ));
    }
    let penalty = still.regularization(&mut vec![0.0; M::PARAMS]);
    if (f64::from(stats.reg_loss) - penalty).abs() > 1e-6 * penalty.max(1.0) {
        report.problems.push(format!(
            "train_step reg_loss {} vs {penalty}",
            stats.reg_loss
        ));
    }
    // Without dropout the step's gradient is the one checked above.
    if still.masks().is_empty() && from_step != data_gradient {
        report
            .problems
            .push("train_step gradient ≠ the checked gradient".into());
    }

    let mut moving: M = build(1.0, coefficients);
    moving.write_params(theta);
    // The penalty gradient at θ, before the step moves it.
    let mut penalty_gradient = vec![0.0; M::PARAMS];
    moving.regularization(&mut penalty_gradient);
    netc::__private::train_step_on(&mut moving, &batch.x, batch.targets());
    let mut step_gradient = vec![0.0; M::PARAMS];
    moving.read_gradient(&mut step_gradient);
    step_gradient
        .iter_mut()
        .zip(&penalty_gradient)
        .for_each(|(g, p)| *g += p);
    // (data + penalty) summed in another order than in the check: equal to rounding.
    let apart = step_gradient
        .iter()
        .zip(full_gradient)
        .any(|(a, b)| (a - b).abs() > 1e-15 * a.abs().max(b.abs()).max(1.0));
    if moving.masks().is_empty() && apart {
        report
            .problems
            .push("the step's data + penalty gradient ≠ the checked one".into());
    }
    let mut moved = vec![0.0; M::PARAMS];
    moving.read_params(&mut moved);
    for i in 0..M::PARAMS {
        let expected = theta[i] - step_gradient[i];
        let tolerance = 1e-13 * theta[i].abs().max(step_gradient[i].abs()).max(1.0);
        if (moved[i] - expected).abs() > tolerance {
            report.problems.push(format!(
                "sgd step at learning rate 1: θ[{i}] {} → {}, expected {expected}",
                theta[i], moved[i]
            ));
            break;
        }
    }
}

// ------------------------------------------------------------------ tests

/// The (λ₂, λ₁) runs of every model: none, l2, l1, both.
fn runs() -> [(f64, f64); 4] {
    [(0.0, 0.0), (L2, 0.0), (0.0, L1), (L2, L1)]
}

fn run_name(spec: &ModelSpec, (l2, l1): (f64, f64)) -> String {
    format!("{} l2={l2} l1={l1}", spec.name())
}

/// The enumerated set, reviewed on change: the models (with their activations) and every
/// combination with the run that checks it, or the refusal of its model.
#[test]
fn the_enumerated_combinations() {
    let entries = entries();
    let combinations = Combination::all();
    let checked = combinations
        .iter()
        .filter(|c| {
            let entry = entries
                .iter()
                .find(|e| e.spec == c.model())
                .expect("a model per combination");
            matches!(entry.model, Model::Check(_))
        })
        .count();
    let mut text = format!(
        "{} combinations = {} stacks × {} activations × {} losses × {} regularizers: {checked} checked, {} refused\n\
         {} models × 4 (λ₂, λ₁) runs\n\nmodels (hidden activations in order → output activation):\n",
        combinations.len(),
        combinations::Stack::ALL.len(),
        Activation::ALL.len(),
        Loss::ALL.len(),
        combinations::Regularizer::all().len(),
        combinations.len() - checked,
        entries.len(),
    );
    for entry in &entries {
        let activations: Vec<&str> = entry
            .spec
            .layers()
            .iter()
            .filter_map(|l| match l {
                Layer::Dense { activation, .. } => Some(activation.name()),
                _ => None,
            })
            .collect();
        let status = match entry.model {
            Model::Check(_) => "compiled".to_owned(),
            Model::Refused(why) => format!("refused: {}", why.lines().next().unwrap_or_default()),
        };
        text.push_str(&format!(
            "  {} [{}]: {status}\n",
            entry.spec.name(),
            activations.join(" ")
        ));
    }
    text.push_str("\ncombinations → the run that checks them:\n");
    for c in &combinations {
        text.push_str(&format!(
            "  {} → {}\n",
            c.name(),
            run_name(&c.model(), c.coefficients())
        ));
    }
    insta::assert_snapshot!(text);
}

#[test]
fn analytic_gradients_match_central_differences() {
    let mut table = String::new();
    let mut failed = Vec::new();
    let mut passed_runs = Vec::new();
    for entry in entries() {
        let Model::Check(run) = entry.model else {
            continue;
        };
        for coefficients in runs() {
            let name = run_name(&entry.spec, coefficients);
            let report = run(&entry.spec, coefficients);
            let ok = report.failures.is_empty() && report.problems.is_empty();
            table.push_str(&format!(
                "{name:<58} {:>4} params ({:>3} invariant, {:>2} at resolution)  max rel error {:.2e} (plain h=1e-6: {:.2e})  {}  {}\n",
                report.params,
                report.invariant,
                report.at_resolution,
                report.max_error,
                report.plain_max_error,
                if ok { "ok" } else { "FAIL" },
                report.worst
            ));
            if ok {
                passed_runs.push(name);
                continue;
            }
            let mut why = String::new();
            for (i, a, n, e) in report.failures.iter().take(5) {
                why.push_str(&format!(
                    "\n    θ[{i}]: analytic {a:.9e}, numeric {n:.9e}, rel {e:.2e}"
                ));
            }
            if report.failures.len() > 5 {
                why.push_str(&format!(
                    "\n    … {} parameters over the bound",
                    report.failures.len()
                ));
            }
            for problem in &report.problems {
                why.push_str(&format!("\n    {problem}"));
            }
            failed.push(format!("{name}:{why}"));
        }
    }
    println!("{table}");
    let covered = Combination::all()
        .iter()
        .filter(|c| passed_runs.contains(&run_name(&c.model(), c.coefficients())))
        .count();
    println!(
        "{covered} of {} combinations pass",
        Combination::all().len()
    );
    assert!(
        failed.is_empty(),
        "{} runs failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
