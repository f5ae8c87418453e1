//! A person-readable dump of the IR: a Keras-like layer table, then every resolved setting
//! with defaults filled in. `netc check` prints it and IR snapshots record it; spans never
//! appear, so moving text around does not churn snapshots.

use std::fmt::Write;

use crate::ir::*;
use crate::memory::human_bytes;

pub fn summary(net: &Network) -> String {
    let mut out = String::new();
    model(&mut out, &net.model);
    match &net.data {
        Some(data) => data_block(&mut out, data),
        None => out.push_str("\ndata: none (supplied in code)\n"),
    }
    train(&mut out, &net.train);
    if let Some(search) = &net.search {
        search_block(&mut out, search);
    }
    if let Some(ensemble) = &net.ensemble {
        let vote = match ensemble.vote {
            Vote::Majority => "majority",
            Vote::Average => "average",
        };
        let models = ensemble.models as u64;
        let _ = writeln!(
            out,
            "\nensemble: bagging {models} models on bootstrap samples, vote={vote} \
             ({models} × {} = {} params to train and store)",
            thousands(net.model.total_params as u64),
            thousands(models * net.model.total_params as u64)
        );
    }
    memory_block(&mut out, net);
    out
}

/// What training needs in memory besides the data set (the trainer adds the data's size and
/// refuses a run that cannot fit).
fn memory_block(out: &mut String, net: &Network) {
    let memory = crate::memory::estimate(net);
    let (b, f) = (memory.float_bytes, memory.float_bytes * 8);
    let slots = match memory.copies - 2 {
        0 => String::new(),
        1 => ", 1 optimizer slot".to_string(),
        n => format!(", {n} optimizer slots"),
    };
    out.push_str(
        "
memory (estimate, besides the data set):
",
    );
    let _ = writeln!(
        out,
        "  parameters:  {} (each value ×{}: itself, its gradient{slots}; f{f})",
        human_bytes(memory.parameters),
        memory.copies,
    );
    let _ = writeln!(
        out,
        "  activations: {} ({} rows of {b}-byte values)",
        human_bytes(memory.activations),
        memory.batch
    );
    if memory.solver > 0 {
        let _ = writeln!(out, "  solver:      {}", human_bytes(memory.solver));
    }
    let model = memory.model();
    match &net.ensemble {
        Some(ensemble) => {
            let models = ensemble.models as u64;
            let _ = writeln!(
                out,
                "  total:       {} ({models} models × {})",
                human_bytes(model.saturating_mul(models)),
                human_bytes(model)
            );
        }
        None => {
            let _ = writeln!(out, "  total:       {}", human_bytes(model));
        }
    }
}

/// `1234567` → `1,234,567`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn model(out: &mut String, model: &Model) {
    let _ = writeln!(out, "model {}", model.name);
    let dims: Vec<String> = model.input.dims.iter().map(ToString::to_string).collect();
    let mut rows = vec![(
        "input".to_string(),
        dims.join("x"),
        "0".to_string(),
        "0".to_string(),
    )];
    for layer in &model.layers {
        rows.push((
            layer_label(&layer.kind),
            layer.outputs.to_string(),
            thousands(layer.params as u64),
            thousands(layer.flops),
        ));
    }
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(5);
    let rule = "-".repeat(width + 42);
    let _ = writeln!(
        out,
        "{:<width$} {:>12} {:>13} {:>14}",
        "layer", "output", "params", "flops/sample"
    );
    let _ = writeln!(out, "{rule}");
    for (label, output, params, flops) in &rows {
        let _ = writeln!(out, "{label:<width$} {output:>12} {params:>13} {flops:>14}");
    }
    let _ = writeln!(out, "{rule}");
    let loss = match model.loss.kind {
        LossKind::Softmax => "softmax cross-entropy",
        LossKind::Logistic => "logistic (one-vs-all binary cross-entropy)",
        LossKind::Mse => "mean squared error",
    };
    let _ = writeln!(out, "loss:                 {loss}");
    let _ = writeln!(
        out,
        "total params:         {}",
        thousands(model.total_params as u64)
    );
    let _ = writeln!(
        out,
        "forward flops/sample: {}",
        thousands(model.forward_flops)
    );
    let _ = writeln!(
        out,
        "train flops/sample:   {} (matmul: forward + backward)",
        thousands(model.train_flops)
    );
}

fn layer_label(kind: &LayerKind) -> String {
    match kind {
        LayerKind::Dense {
            units,
            activation,
            init,
            bias_init,
            ..
        } => {
            let activation = match activation {
                Activation::Identity => "identity",
                Activation::Relu => "relu",
                Activation::Tanh => "tanh",
                Activation::Sigmoid => "sigmoid",
            };
            format!(
                "dense {units} {activation} init={} bias={}",
                init_label(init),
                init_label(bias_init)
            )
        }
        LayerKind::Dropout { p } => format!("dropout p={p}"),
        LayerKind::BatchNorm { momentum, eps } => {
            format!("batchnorm momentum={momentum} eps={eps:e}")
        }
    }
}

fn init_label(init: &Init) -> String {
    match init {
        Init::Zeros => "zeros".into(),
        Init::Normal { std } => format!("normal({std})"),
        Init::Uniform { a } => format!("uniform({a})"),
        Init::Xavier => "xavier".into(),
        Init::Glorot => "glorot".into(),
        Init::He => "he".into(),
    }
}

fn source(src: &Source) -> String {
    match &src.kind {
        SourceKind::Idx { images, labels } => format!("idx(images={images:?}, labels={labels:?})"),
        SourceKind::Csv {
            path,
            label_column,
            header,
            targets: None,
        } => {
            format!("csv({path:?}, label={label_column}, header={header})")
        }
        SourceKind::Csv {
            path,
            header,
            targets: Some(columns),
            ..
        } => format!(
            "csv({path:?}, targets={}..{} ({} columns), header={header})",
            columns.first,
            columns.last,
            columns.width()
        ),
    }
}

fn data_block(out: &mut String, data: &Data) {
    out.push_str("\ndata:\n");
    let _ = writeln!(out, "  train:      {}", source(&data.train));
    let _ = writeln!(
        out,
        "  test:       {}",
        data.test.as_ref().map_or("none".into(), source)
    );
    let validation = match data.validation.size {
        ValidationSize::None => "none".to_string(),
        ValidationSize::Count(n) => format!("{n} samples"),
        ValidationSize::Fraction(f) => format!("{}% of train", f * 100.0),
    };
    let _ = writeln!(out, "  validation: {validation}");
    let _ = writeln!(out, "  scale:      {}", data.scale);
    let preprocess = match data.preprocess.kind {
        PreprocessKind::None => "none",
        PreprocessKind::MeanImage => "mean_image",
        PreprocessKind::ChannelMean => "channel_mean",
        PreprocessKind::Standardize => "standardize",
    };
    let _ = writeln!(out, "  preprocess: {preprocess}");
    let augment = match &data.augment {
        None => "none".to_string(),
        Some(a) => {
            let mut parts = Vec::new();
            if a.shift > 0 {
                parts.push(format!("shift {}px", a.shift));
            }
            if a.rotate_deg != 0.0 {
                parts.push(format!("rotate {}deg", a.rotate_deg));
            }
            if a.scale != (1.0, 1.0) {
                parts.push(format!("scale {}..{}", a.scale.0, a.scale.1));
            }
            if let Some(f) = a.flip {
                parts.push(format!("flip {f:?}").to_lowercase());
            }
            if parts.is_empty() {
                "none".to_string()
            } else {
                parts.join(", ")
            }
        }
    };
    let _ = writeln!(out, "  augment:    {augment}");
}

fn duration(d: Duration) -> String {
    match d {
        Duration::Steps(n) => format!("{n} steps"),
        Duration::Epochs(n) => format!("{n} epochs"),
    }
}

fn mu(m: &MomentumSchedule) -> String {
    match m.over {
        None => format!("{}", m.start),
        Some(over) => format!("{}->{} over {}", m.start, m.end, duration(over)),
    }
}

fn optimizer(kind: &OptimizerKind) -> String {
    match kind {
        OptimizerKind::Sgd => "sgd".into(),
        OptimizerKind::Momentum { mu: m } => format!("momentum(mu={})", mu(m)),
        OptimizerKind::Nesterov { mu: m } => format!("nesterov(mu={})", mu(m)),
        OptimizerKind::Adagrad { eps } => format!("adagrad(eps={eps:e})"),
        OptimizerKind::Rmsprop { decay, eps } => format!("rmsprop(decay={decay}, eps={eps:e})"),
        OptimizerKind::Adam { beta1, beta2, eps } => {
            format!("adam(beta1={beta1}, beta2={beta2}, eps={eps:e})")
        }
        OptimizerKind::Lbfgs { history, tolerance } => {
            format!("lbfgs(history={history}, tolerance={tolerance:e})")
        }
        OptimizerKind::Newton { damping } => format!("newton(damping={damping:e})"),
    }
}

fn schedule(kind: &ScheduleKind) -> String {
    match kind {
        ScheduleKind::Constant => "constant".into(),
        ScheduleKind::Linear { to, until } => {
            format!("linear(to={to:e}, until={})", duration(*until))
        }
        ScheduleKind::Step { gamma, every } => {
            format!("step(gamma={gamma}, every={})", duration(*every))
        }
        ScheduleKind::Exponential { gamma, per } => {
            format!("exponential(gamma={gamma}, per={})", duration(*per))
        }
        ScheduleKind::Cosine { min, period } => {
            format!("cosine(min={min:e}, period={})", duration(*period))
        }
    }
}

fn train(out: &mut String, t: &Train) {
    out.push_str("\ntrain:\n");
    let solver = full_batch_solver(&t.optimizer.kind);
    match solver {
        Some((name, _)) => {
            let _ = writeln!(out, "  epochs:         {} (iterations of {name})", t.epochs);
        }
        None => {
            let _ = writeln!(out, "  epochs:         {}", t.epochs);
        }
    }
    let batch = match t.batch.size {
        BatchSize::Size(n) => n.to_string(),
        BatchSize::Full => "full".into(),
    };
    let _ = writeln!(out, "  batch:          {batch}");
    let sampling = match t.sampling.kind {
        SamplingKind::Shuffle => "shuffle",
        SamplingKind::WithReplacement => "with_replacement",
        SamplingKind::Sequential => "sequential",
    };
    let _ = writeln!(out, "  sampling:       {sampling}");
    let _ = writeln!(out, "  optimizer:      {}", optimizer(&t.optimizer.kind));
    match solver {
        Some((name, steps)) => {
            let _ = writeln!(out, "  learning_rate:  not used ({name} takes {steps})");
        }
        None => {
            let _ = writeln!(
                out,
                "  learning_rate:  {} {}",
                t.learning_rate.base,
                schedule(&t.learning_rate.schedule)
            );
        }
    }
    let r = &t.regularize;
    let mut terms = Vec::new();
    if let Some(l2) = r.l2 {
        terms.push(format!("l2({l2})"));
    }
    if let Some(l1) = r.l1 {
        terms.push(format!("l1({l1})"));
    }
    if let Some(c) = r.maxnorm {
        terms.push(format!("maxnorm({c})"));
    }
    if terms.is_empty() {
        terms.push("none".into());
    }
    let bias = if r.include_bias {
        "biases included"
    } else {
        "biases excluded"
    };
    let _ = writeln!(out, "  regularize:     {} ({bias})", terms.join(" "));
    let early = match &t.early_stopping {
        None => "none".to_string(),
        Some(e) => format!(
            "patience={} monitor={} min_delta={} restore_best={}",
            e.patience,
            metric(e.monitor),
            e.min_delta,
            e.restore_best
        ),
    };
    let _ = writeln!(out, "  early_stopping: {early}");
    let monitor = if t.monitor.grad_norm || t.monitor.curvature {
        let mut what = Vec::new();
        if t.monitor.grad_norm {
            what.push("grad_norm");
        }
        if t.monitor.curvature {
            what.push("curvature");
        }
        format!("{} every {}", what.join(" "), duration(t.monitor.every))
    } else {
        "none".to_string()
    };
    let _ = writeln!(out, "  monitor:        {monitor}");
    let precision = match t.precision.kind {
        PrecisionKind::F32 => "f32",
        PrecisionKind::F64 => "f64",
    };
    let _ = writeln!(out, "  precision:      {precision}");
    let _ = writeln!(out, "  seed:           {}", t.seed);
    if let Some(every) = t.save_every {
        // A full-batch solver's step and epoch are both one iteration.
        let every = match (full_batch_solver(&t.optimizer.kind), every) {
            (Some((name, _)), Duration::Steps(n) | Duration::Epochs(n)) => {
                let plural = if n == 1 { "" } else { "s" };
                format!("{n} iteration{plural} of {name}")
            }
            (None, every) => duration(every),
        };
        let _ = writeln!(
            out,
            "  save_every:     {every} (the whole run state, resumable)"
        );
    }
}

/// The full-batch solvers choose their own step and run one iteration per "epoch" (the runtime
/// bounds their iterations by `epochs` and never reads the learning rate): their name and how
/// they step, or `None` for a minibatch optimizer.
fn full_batch_solver(kind: &OptimizerKind) -> Option<(&'static str, &'static str)> {
    match kind {
        OptimizerKind::Lbfgs { .. } => Some(("lbfgs", "line-search steps")),
        OptimizerKind::Newton { .. } => Some(("newton", "damped Newton steps")),
        _ => None,
    }
}

fn metric(m: Metric) -> &'static str {
    match m {
        Metric::ValLoss => "val_loss",
        Metric::ValAccuracy => "val_accuracy",
        Metric::TrainLoss => "train_loss",
        Metric::TrainAccuracy => "train_accuracy",
    }
}

fn search_block(out: &mut String, s: &Search) {
    out.push_str("\nsearch:\n");
    let _ = writeln!(
        out,
        "  trials: {} (coarse: {} epochs; fine: top {} for {} epochs)",
        s.trials, s.coarse_epochs, s.fine_top, s.fine_epochs
    );
    for p in &s.params {
        let target = match p.target {
            Hyperparameter::LearningRate => "learning_rate",
            Hyperparameter::L2 => "l2",
            Hyperparameter::L1 => "l1",
            Hyperparameter::MaxNorm => "maxnorm",
            Hyperparameter::Dropout => "dropout",
            Hyperparameter::Momentum => "momentum",
        };
        let dist = match p.distribution {
            Distribution::LogUniform { lo, hi } => format!("log_uniform({lo:e}, {hi:e})"),
            Distribution::Uniform { lo, hi } => format!("uniform({lo}, {hi})"),
        };
        let _ = writeln!(out, "  {target}: {dist}");
    }
}
