//! Shared by the fuzz targets and the seed generator: the concrete models whose checkpoints
//! the `checkpoint` target loads, and a per-process scratch file (the runtime's loaders take
//! paths, so each input is written to a file first).

use std::path::{Path, PathBuf};

/// Three small generated models covering what a checkpoint can hold: f32 tensors with the
/// input stage (`input.shift`/`input.scale`) and batch-norm statistics, f64 tensors, and a
/// bagged ensemble (members under `members.N.` with the member count in the metadata).
/// The data paths are never read: the seeds are trained on data built in code.
pub mod models {
    netc::net! {
        model fuzz_bn {
            input     4
            dense     6 tanh  init=xavier
            batchnorm momentum=0.8
            dropout   0.1
            dense     3       init=xavier
            loss      softmax
        }
        data {
            train csv("unused.csv")
            preprocess standardize
        }
        train {
            epochs 3  batch 4  optimizer adam  learning_rate 0.01  seed 1
        }
    }

    netc::net! {
        model fuzz_f64 {
            input 3
            dense 4 relu  init=he
            dense 1
            loss  mse
        }
        train {
            epochs 3  batch 4  optimizer sgd  learning_rate 0.01  precision f64  seed 2
        }
    }

    netc::net! {
        model fuzz_bag {
            input 2
            dense 3 tanh  init=xavier
            dense 2       init=xavier
            loss  softmax
        }
        train {
            epochs 3  batch 4  optimizer momentum(mu=0.9)  learning_rate 0.1  seed 3
        }
        ensemble bagging 3 vote=majority
    }
}

/// Small generated models of every kind of run whose state the `state` target resumes
/// (`run_state`): minibatch (Adam with dropout, batch norm, early stopping that restores the
/// best epoch, a schedule counting epochs, ‖g‖ and curvature monitoring; and momentum in f64),
/// full-batch L-BFGS (f32, so the solver's f64 θ is rounded into the model) and Newton,
/// a random search and bagging. All train on [`state_splits`] for a few steps.
pub mod state_models {
    netc::net! {
        model state_adam {
            input     3
            dense     4 tanh  init=xavier
            batchnorm momentum=0.8
            dropout   0.2
            dense     2       init=xavier
            loss      softmax
        }
        train {
            epochs 2  batch 4
            optimizer adam(beta1=0.9, beta2=0.999, eps=1e-8)
            learning_rate 0.01 cosine(min=1e-4, period=2 epochs)
            early_stopping patience=1 monitor=val_loss restore_best
            monitor grad_norm curvature every=3 steps
            seed 1
        }
    }

    netc::net! {
        model state_momentum {
            input 3
            dense 3 relu  init=he
            dense 2       init=xavier
            loss  softmax
        }
        train {
            epochs 2  batch 4  optimizer momentum(mu=0.9)  learning_rate 0.05
            precision f64  seed 2
        }
    }

    netc::net! {
        model state_lbfgs {
            input 3
            dense 2  init=xavier
            loss  softmax
        }
        train {
            epochs 3  batch full  optimizer lbfgs(history=2, tolerance=1e-9)
            regularize l2(1e-3)  seed 3
        }
    }

    netc::net! {
        model state_newton {
            input 3
            dense 2 tanh  init=xavier
            dense 1
            loss  mse
        }
        train {
            epochs 2  batch full  optimizer newton(damping=1e-4)  precision f64  seed 4
        }
    }

    netc::net! {
        model state_search {
            input 3
            dense 3 tanh  init=xavier
            dropout 0.2
            dense 2       init=xavier
            loss  softmax
        }
        train {
            epochs 1  batch 4  optimizer momentum(mu=0.9)  learning_rate 0.05  seed 5
        }
        search {
            trials 2
            learning_rate log_uniform(1e-3, 1e-1)
            dropout       uniform(0.1, 0.5)
            coarse epochs=1   fine top=1 epochs=1
        }
    }

    netc::net! {
        model state_bag {
            input 3
            dense 3 tanh  init=xavier
            dense 2       init=xavier
            loss  softmax
        }
        train {
            epochs 1  batch 4  optimizer sgd  learning_rate 0.1  seed 6
        }
        ensemble bagging 2 vote=average
    }
}

/// The training data of every `state` run, built in code (a state file records a fingerprint
/// of it): 8 training rows of 3 features, 4 validation rows; classes 0/1, and for the `mse`
/// model (`values`) one target per row.
pub fn state_splits(values: bool) -> netc_runtime::Splits {
    use netc::ndarray::Array2;
    let dataset = |rows: usize, offset: usize| {
        let x = Array2::from_shape_fn((rows, 3), |(i, j)| {
            (((i + offset) * 7 + j * 3) % 5) as f32 / 2.0 - 1.0
        });
        let result = if values {
            let y = Array2::from_shape_fn((rows, 1), |(i, _)| ((i + offset) % 3) as f32 - 1.0);
            netc_runtime::Dataset::with_targets(x, y)
        } else {
            netc_runtime::Dataset::new(x, (0..rows).map(|i| ((i + offset) % 2) as u32).collect())
        };
        result.expect("fuzz harness: the state data is well formed")
    };
    netc_runtime::Splits {
        train: dataset(8, 0),
        validation: Some(dataset(4, 8)),
        test: None,
    }
}

/// One kind of run of the `state` target, on one model of [`state_models`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateRun {
    Adam,
    Momentum,
    Lbfgs,
    Newton,
    Search,
    Bagging,
}

impl StateRun {
    pub const ALL: [StateRun; 6] = [
        StateRun::Adam,
        StateRun::Momentum,
        StateRun::Lbfgs,
        StateRun::Newton,
        StateRun::Search,
        StateRun::Bagging,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StateRun::Adam => "adam",
            StateRun::Momentum => "momentum",
            StateRun::Lbfgs => "lbfgs",
            StateRun::Newton => "newton",
            StateRun::Search => "search",
            StateRun::Bagging => "bagging",
        }
    }

    /// Trains this kind's model the trainer's way (`search::train_model`, or
    /// `ensemble::train_ensemble` for bagging) on [`state_splits`], with the spec's settings
    /// and `save` (`--resume`, the state path, `--save-every`). `partial` replaces the
    /// search's trials or the ensemble's members (neither is part of the state's identity:
    /// the seeds use it to stop a search or bagging run part-way). Verbose, as the trainer
    /// is: the lines go to stdout (`-close_fd_mask=1` discards them).
    pub fn train(
        self,
        save: netc_runtime::SaveConfig,
        partial: Option<usize>,
    ) -> Result<(), netc_runtime::Error> {
        use state_models::*;
        match self {
            StateRun::Adam => train::<state_adam::Model>(
                state_adam::run_config(),
                state_adam::Hyper::default(),
                state_adam::plan(),
                save,
                partial,
            ),
            StateRun::Momentum => train::<state_momentum::Model>(
                state_momentum::run_config(),
                state_momentum::Hyper::default(),
                state_momentum::plan(),
                save,
                partial,
            ),
            StateRun::Lbfgs => train::<state_lbfgs::Model>(
                state_lbfgs::run_config(),
                state_lbfgs::Hyper::default(),
                state_lbfgs::plan(),
                save,
                partial,
            ),
            StateRun::Newton => train::<state_newton::Model>(
                state_newton::run_config(),
                state_newton::Hyper::default(),
                state_newton::plan(),
                save,
                partial,
            ),
            StateRun::Search => train::<state_search::Model>(
                state_search::run_config(),
                state_search::Hyper::default(),
                state_search::plan(),
                save,
                partial,
            ),
            StateRun::Bagging => train::<state_bag::Model>(
                state_bag::run_config(),
                state_bag::Hyper::default(),
                state_bag::plan(),
                save,
                partial,
            ),
        }
    }
}

fn train<M: netc_runtime::Network>(
    mut cfg: netc_runtime::RunConfig,
    hyper: M::Hyper,
    mut plan: netc::__private::Plan,
    save: netc_runtime::SaveConfig,
    partial: Option<usize>,
) -> Result<(), netc_runtime::Error> {
    cfg.save = save;
    cfg.verbose = true;
    if let Some(n) = partial {
        if let Some(search) = &mut plan.search {
            search.trials = n;
        }
        if let Some(ensemble) = &mut plan.ensemble {
            ensemble.models = n;
        }
    }
    let values = M::TARGET_KIND == netc_runtime::TargetKind::Values;
    let splits = state_splits(values);
    match plan.ensemble {
        Some(config) => netc::__private::bagging::train_ensemble::<M>(
            &cfg,
            hyper,
            &splits,
            config,
            plan.search.as_ref(),
        )
        .map(|_| ()),
        None => netc::__private::search::train_model::<M>(&cfg, hyper, &splits, plan.search.as_ref())
            .map(|_| ()),
    }
}

/// A scratch file unique to this process: `name` in `$NETC_FUZZ_SCRATCH`, else in `/dev/shm`
/// (memory, when there is one: a file is written per input), else the temporary directory.
pub fn scratch_path(name: &str) -> PathBuf {
    let dir = match std::env::var_os("NETC_FUZZ_SCRATCH") {
        Some(dir) => PathBuf::from(dir),
        None if Path::new("/dev/shm").is_dir() => PathBuf::from("/dev/shm"),
        None => std::env::temp_dir(),
    };
    dir.join(format!("netc-fuzz-{}-{name}", std::process::id()))
}

/// Writes `bytes` to `path`, overwriting it. A failure here is the harness's, not the
/// loader's: it aborts the run.
pub fn write_scratch(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes)
        .unwrap_or_else(|e| panic!("fuzz harness: cannot write {}: {e}", path.display()));
}

/// What every front end does with diagnostics, checked: there is at least one, each label lies
/// inside the text, and both renderings (plain for the macro, ANSI for the CLI) succeed.
pub fn check_diagnostics(src: &netc_syntax::SourceFile, diagnostics: &[netc_syntax::Diagnostic]) {
    assert!(!diagnostics.is_empty(), "Err without a diagnostic");
    let len = src.text.len();
    for diagnostic in diagnostics {
        for label in &diagnostic.labels {
            let (start, end) = (label.span.start as usize, label.span.end as usize);
            assert!(
                start <= end && end <= len,
                "{:?} label {start}..{end} outside the text (len {len}): {}",
                diagnostic.code,
                diagnostic.message
            );
        }
    }
    let _ = netc_syntax::render_plain(src, diagnostics);
    let _ = netc_syntax::render_ansi(src, diagnostics);
}
