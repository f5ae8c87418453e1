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
