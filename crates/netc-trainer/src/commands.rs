//! What each trainer command does, given parsed flags.

use std::io::Write;
use std::path::Path;

use ndarray::Array2;

use crate::apply::{apply_data_args, apply_train_args, no_data_block};
use crate::args::{EvalArgs, PredictArgs, TrainArgs};
use crate::memory::{Budget, data_bytes, models_bytes};
use netc_procedures::Plan;
use netc_runtime::cluster;
use netc_runtime::config::{DataConfig, DataSource, RunConfig, SaveConfig};
use netc_runtime::data::{Dataset, Splits, load_csv_features, load_idx_features, load_splits};
use netc_runtime::ensemble::{Ensemble, load_ensemble};
use netc_runtime::error::Error;
use netc_runtime::load_checkpoint;
use netc_runtime::network::{Hyperparams, Network};
use netc_runtime::report::group_thousands;
use netc_runtime::{Evaluation, Real, Scalar, arg_max, check_dataset, evaluate, test_report};

fn models_needing(ensemble: bool) -> &'static str {
    if ensemble {
        "the ensemble's models"
    } else {
        "the model"
    }
}

pub fn train<M: Network>(
    cfg: RunConfig,
    hyper: M::Hyper,
    plan: Plan,
    args: &TrainArgs,
) -> Result<(), Error> {
    let (mut cfg, hyper) = apply_train_args::<M>(cfg, hyper, args)?;
    // Under MPI a search or bagging spreads its trials or members over the ranks; one model
    // is trained data-parallel: every step's batch split over them.
    cfg.data_parallel = cluster::size() > 1 && plan.search.is_none() && plan.ensemble.is_none();
    // Under MPI rank 0 prints and writes; the other ranks compute their share quietly.
    let cfg = if cluster::is_root() {
        cfg
    } else {
        helper_rank_config(cfg)
    };
    // One live run per checkpoint: a second one is refused instead of overwriting the first's.
    let _lock = cfg
        .checkpoint_path
        .as_deref()
        .map(netc_runtime::output_lock::OutputLock::take)
        .transpose()?;
    // From here a SIGINT/SIGTERM saves the run state and stops at the next step boundary.
    netc_runtime::interrupt::install();
    let data = cfg.data.as_ref().ok_or_else(no_data_block)?;
    // Measured before loading, so the data's share is not already gone from it.
    let budget = Budget::new(args.max_memory);
    let models = models_bytes::<M>(plan.ensemble);
    budget.check(models, models_needing(plan.ensemble.is_some()))?;
    let splits = load_splits::<M::Float>(data, cfg.seed)?;
    check_all::<M>(&splits)?;
    let needed = models.saturating_add(data_bytes::<M>(&splits, plan.ensemble.is_some()));
    budget.check(needed, "the model and its data")?;
    if args.batch_info && cluster::is_root() {
        say!("{}", batch_info::<M>(&splits));
    }
    let search = plan.search.as_ref();
    let steps = match plan.ensemble {
        Some(config) => {
            let (_, report) = netc_procedures::bagging::train_ensemble::<M>(
                &cfg, hyper, &splits, config, search,
            )?;
            report.members.iter().map(|m| m.report.steps).sum()
        }
        None => {
            netc_procedures::search::train_model::<M>(&cfg, hyper, &splits, search)?
                .1
                .steps
        }
    };
    if cfg.verbose {
        if let Some(path) = &cfg.checkpoint_path {
            let what = match plan.ensemble {
                Some(config) => format!("{} models' weights", config.models),
                None => "weights".to_string(),
            };
            say!("{what} saved to {} after {steps} steps", path.display());
        }
        if let Some(path) = &cfg.metrics_path {
            say!("metrics written to {}", path.display());
        }
    }
    Ok(())
}

/// What a rank other than 0 of an MPI job trains with: the same run, printing nothing and
/// writing no file (rank 0 writes the job's checkpoint, metrics and run state). It still reads
/// the data and a `--resume` state itself, as rank 0 does.
fn helper_rank_config(cfg: RunConfig) -> RunConfig {
    RunConfig {
        verbose: false,
        checkpoint_path: None,
        metrics_path: None,
        save: SaveConfig {
            state_path: None,
            ..cfg.save.clone()
        },
        ..cfg
    }
}

pub fn eval<M: Network>(
    cfg: RunConfig,
    hyper: M::Hyper,
    plan: Plan,
    args: &EvalArgs,
) -> Result<(), Error> {
    let data = apply_data_args(cfg.data, &args.data)?.ok_or_else(no_data_block)?;
    let seed = args.seed.unwrap_or(cfg.seed);
    let splits = load_splits::<M::Float>(&data, seed)?;
    let mut predictor = Predictor::<M>::load(hyper, plan, seed, &args.weights)?;
    let mut evaluated = false;
    if let Some(test) = &splits.test {
        let (_, report) = predictor.test_report(test)?;
        say!("{report}");
        evaluated = true;
    }
    if let Some(validation) = &splits.validation {
        let result = predictor.evaluate(validation)?;
        say!(
            "validation accuracy {:.2}% (loss {:.4})",
            100.0 * result.accuracy,
            result.loss
        );
        evaluated = true;
    }
    if !evaluated {
        let result = predictor.evaluate(&splits.train)?;
        say!(
            "train accuracy {:.2}% (loss {:.4}) (no test or validation data)",
            100.0 * result.accuracy,
            result.loss
        );
    }
    Ok(())
}

/// Checks every split before any search or bagging starts, so a bad row is found once and
/// named by its file and line, whichever bootstrap sample of the rows it would fall in (a
/// member's sample is rewritten in place, without its rows' origins).
fn check_all<M: Network>(splits: &Splits<M::Float>) -> Result<(), Error> {
    check_dataset::<M>(&splits.train, "training")?;
    for (data, role) in [(&splits.validation, "validation"), (&splits.test, "test")] {
        if let Some(data) = data {
            check_dataset::<M>(data, role)?;
        }
    }
    Ok(())
}

/// One line per sample: the arg-max class, then every output.
pub fn predict<M: Network>(
    cfg: RunConfig,
    hyper: M::Hyper,
    plan: Plan,
    args: &PredictArgs,
) -> Result<(), Error> {
    let x = load_inputs::<M>(&args.input, cfg.data.as_ref())?;
    let mut predictor = Predictor::<M>::load(hyper, plan, cfg.seed, &args.weights)?;
    let samples = netc_runtime::row_major(&x);
    let outputs = predictor.predict(&samples)?;
    let mut text = String::with_capacity(outputs.len() * 10);
    for row in outputs.chunks_exact(M::OUTPUT) {
        text += &arg_max(row).to_string();
        for value in row {
            text += &format!(" {value:.6}");
        }
        text.push('\n');
    }
    match &args.output {
        Some(path) => std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        }),
        None => match std::io::stdout().write_all(text.as_bytes()) {
            // `predict … | head` closes the pipe early: that is not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            result => result.map_err(|source| Error::Io {
                path: "<stdout>".into(),
                source,
            }),
        },
    }
}

/// What `eval` and `predict` run: the spec's one model, or its ensemble.
enum Predictor<M: Network> {
    Model(M),
    Ensemble(Ensemble<M>),
}

impl<M: Network> Predictor<M> {
    fn load(hyper: M::Hyper, plan: Plan, seed: u64, weights: &Path) -> Result<Predictor<M>, Error> {
        let models = models_bytes::<M>(plan.ensemble);
        Budget::new(None).check(models, models_needing(plan.ensemble.is_some()))?;
        match plan.ensemble {
            Some(config) => load_ensemble(&hyper, config, weights).map(Predictor::Ensemble),
            None => {
                let mut model = M::new(hyper, seed);
                load_checkpoint(&mut model, weights)?;
                Ok(Predictor::Model(model))
            }
        }
    }

    fn evaluate(&mut self, data: &Dataset<M::Float>) -> Result<Evaluation, Error> {
        match self {
            Predictor::Model(model) => evaluate(model, data),
            Predictor::Ensemble(ensemble) => ensemble.evaluate(data),
        }
    }

    fn test_report(&mut self, data: &Dataset<M::Float>) -> Result<(Evaluation, String), Error> {
        match self {
            Predictor::Model(model) => test_report(model, data),
            Predictor::Ensemble(ensemble) => ensemble.test_report(data),
        }
    }

    fn predict(&mut self, x: &[M::Float]) -> Result<Vec<M::Float>, Error> {
        match self {
            Predictor::Model(model) => netc_runtime::predict(model, x),
            Predictor::Ensemble(ensemble) => ensemble.predict(x),
        }
    }
}

pub fn bench<M: Network>(hyper: M::Hyper, seconds: f64, runs: usize) -> Result<(), Error> {
    Budget::new(None).check(M::MODEL_BYTES, "the model")?;
    let threads = netc_runtime::threads::threads();
    if threads > 1 {
        // Only when not the default, so the single-threaded output stays as it was.
        say!("threads: {threads} per large matrix product");
    }
    let report = crate::bench::bench::<M>(hyper, seconds, runs);
    for (i, run) in report.runs.iter().enumerate() {
        say!(
            "run {}: {} samples/s",
            i + 1,
            group_thousands(run.round() as u64)
        );
    }
    say!("{}", report.summary_line(seconds));
    Ok(())
}

/// `name = value`, one line per hyperparameter.
pub fn hyper_listing<H: Hyperparams>(hyper: &H) -> String {
    H::names()
        .iter()
        .map(|name| match hyper.get(name) {
            Some(value) => format!("{name} = {}\n", shortest(value)),
            None => format!("{name} = ?\n"),
        })
        .collect()
}

/// Hyperparameters are often f32 inside the model: print `0.1`, not `0.10000000149011612`.
/// Very small or large values in scientific notation (`1e-8`, not 0.00000001).
fn shortest(value: f64) -> String {
    let single = value as f32;
    let exact_in_f32 = f64::from(single) == value;
    let scientific = value != 0.0 && !(1e-4..1e16).contains(&value.abs());
    match (scientific, exact_in_f32) {
        (true, true) => format!("{single:e}"),
        (true, false) => format!("{value:e}"),
        (false, true) => single.to_string(),
        (false, false) => value.to_string(),
    }
}

/// Batch size, steps per epoch and the samples each epoch drops.
pub fn batch_info<M: Network>(splits: &Splits<M::Float>) -> String {
    let samples = splits.train.len();
    let mut line = format!(
        "batches of {}: {} step{} per epoch over {} training samples ({} dropped per epoch)",
        M::BATCH,
        samples / M::BATCH,
        if samples / M::BATCH == 1 { "" } else { "s" },
        samples,
        samples % M::BATCH
    );
    if let Some(validation) = &splits.validation {
        line += &format!(", {} validation", validation.len());
    }
    if let Some(test) = &splits.test {
        line += &format!(", {} test", test.len());
    }
    line
}

/// Reads `predict` input: `.csv` by name (the spec's CSV label column is dropped if present),
/// anything else as IDX; scaled like the training data (in the model's precision).
fn load_inputs<M: Network>(
    path: &Path,
    data: Option<&DataConfig>,
) -> Result<Array2<M::Float>, Error> {
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let mut x = if is_csv {
        let (label_column, header) = match data.map(|d| &d.train) {
            Some(DataSource::Csv {
                label_column,
                header,
                ..
            }) => (Some(*label_column), *header),
            _ => (None, false),
        };
        let table = load_csv_features(path, header)?;
        match label_column {
            Some(column) if table.ncols() == M::INPUT + 1 => drop_column(table, column),
            _ => table,
        }
    } else {
        load_idx_features(path)?
    };
    if x.ncols() != M::INPUT {
        return Err(Error::Data {
            path: path.to_path_buf(),
            message: format!(
                "samples have {} features, the model `{}` takes {}",
                x.ncols(),
                M::META.name,
                M::INPUT
            ),
        });
    }
    if let Some(scale) = data.map(|d| d.scale).filter(|&s| s != 1.0) {
        let scale = M::Float::from_f64(scale);
        x *= scale;
        // The loaders refuse NaN and infinite values; a huge scale can still overflow.
        if let Some(((row, feature), value)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::data(
                path,
                format!(
                    "data row {row}, feature {feature}: the value is {value} after scaling by \
                     {scale}; inputs must be finite numbers"
                ),
            ));
        }
    }
    Ok(x)
}

fn drop_column<V: Clone>(table: Array2<V>, column: i64) -> Array2<V> {
    let columns = table.ncols() as i64;
    let index = if column < 0 { columns + column } else { column };
    let keep: Vec<usize> = (0..table.ncols()).filter(|&c| c as i64 != index).collect();
    table.select(ndarray::Axis(1), &keep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run;
    use netc_runtime::config::{Sampling, ValidationSplit};
    use netc_runtime::test_model::{LogReg, LogRegHyper, separable_dataset, temp_path};

    /// A CSV of the separable problem, label first, with a header.
    fn write_training_csv(name: &str, rows: usize) -> std::path::PathBuf {
        let data = separable_dataset(rows, 4);
        let mut text = String::from("label,a,b,c,d\n");
        for (row, label) in data.x.to_floats().rows().into_iter().zip(&data.labels) {
            let values: Vec<String> = row.iter().map(|v| v.to_string()).collect();
            text += &format!("{label},{}\n", values.join(","));
        }
        let path = temp_path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn spec_config(train_csv: &Path) -> RunConfig {
        RunConfig {
            epochs: 3,
            sampling: Sampling::Shuffle,
            seed: 3,
            max_steps: None,
            data: Some(DataConfig {
                train: DataSource::Csv {
                    path: train_csv.to_path_buf(),
                    label_column: 0,
                    header: true,
                },
                test: None,
                validation: ValidationSplit::Fraction(0.2),
                scale: 1.0,
                base_dir: None,
            }),
            metrics_path: None,
            checkpoint_path: None,
            init_weights: None,
            verbose: false,
            early_stopping: None,
            monitor: netc_runtime::config::MonitorConfig::default(),
            save: netc_runtime::config::SaveConfig::default(),
            full_batch: None,
            preprocess: None,
            augment: None,
            data_parallel: false,
        }
    }

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn train_then_eval_then_predict() {
        let csv = write_training_csv("trainer-train.csv", 120);
        let weights = temp_path("trainer.safetensors");
        let metrics = temp_path("trainer.metrics.jsonl");
        let cfg = spec_config(&csv);
        let train = format!(
            "train --quiet --checkpoint {} --metrics {}",
            weights.display(),
            metrics.display()
        );
        run::<LogReg>(
            cfg.clone(),
            LogRegHyper::default(),
            Plan::default(),
            &args(&train),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&metrics).unwrap().lines().count(),
            3
        );

        let eval = format!("eval --weights {}", weights.display());
        run::<LogReg>(
            cfg.clone(),
            LogRegHyper::default(),
            Plan::default(),
            &args(&eval),
        )
        .unwrap();

        let predictions = temp_path("trainer-predictions.txt");
        let predict = format!(
            "predict --weights {} --input {} --output {}",
            weights.display(),
            csv.display(),
            predictions.display()
        );
        run::<LogReg>(
            cfg.clone(),
            LogRegHyper::default(),
            Plan::default(),
            &args(&predict),
        )
        .unwrap();
        let lines: Vec<String> = std::fs::read_to_string(&predictions)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(lines.len(), 120);
        // Labels cycle 0, 1, 2 and the trained model gets (almost) all of them right.
        let correct = lines
            .iter()
            .enumerate()
            .filter(|(i, l)| l.starts_with(&format!("{} ", i % 3)))
            .count();
        assert!(correct >= 114, "{correct} of 120: {:?}", &lines[..3]);
        assert_eq!(
            lines[0].split(' ').count(),
            4,
            "class then 3 outputs: {}",
            lines[0]
        );
    }

    #[test]
    fn errors_from_running_commands() {
        let cfg = spec_config(Path::new("no/such/file.csv"));
        let error = run::<LogReg>(
            cfg.clone(),
            LogRegHyper::default(),
            Plan::default(),
            &args("train --quiet"),
        )
        .unwrap_err();
        assert!(matches!(error, Error::Io { .. }), "{error:?}");
        let no_data = RunConfig { data: None, ..cfg };
        let error = run::<LogReg>(
            no_data,
            LogRegHyper::default(),
            Plan::default(),
            &args("train"),
        )
        .unwrap_err();
        assert!(
            matches!(&error, Error::Usage(m) if m.contains("no data block")),
            "{error:?}"
        );
    }

    /// A run that cannot fit is refused before anything is allocated: the model's own figure
    /// before the data is read (the data file here does not exist), then model plus data.
    #[test]
    fn a_run_over_max_memory_is_refused_before_allocating() {
        let missing = spec_config(Path::new("no/such/file.csv"));
        let error = run::<LogReg>(
            missing,
            LogRegHyper::default(),
            Plan::default(),
            &args("train --quiet --max-memory 100"),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "not enough memory for the model: 216 B needed, but --max-memory is 100 B; use a \
             smaller batch or model, or raise --max-memory"
        );
        let csv = write_training_csv("trainer-memory.csv", 120);
        let error = run::<LogReg>(
            spec_config(&csv),
            LogRegHyper::default(),
            Plan::default(),
            &args("train --quiet --max-memory 1K"),
        )
        .unwrap_err();
        assert!(matches!(error, Error::Memory(_)), "{error:?}");
        // 216 B of model, 120 rows × (4 features + label) × 4 B of data.
        assert!(
            error
                .to_string()
                .starts_with("not enough memory for the model and its data: 2.6 kB needed, but --max-memory is 1.0 kB"),
            "{error}"
        );
    }

    #[test]
    fn hyper_listing_and_batch_info() {
        assert_eq!(
            hyper_listing(&LogRegHyper::default()),
            "learning_rate = 0.5\ninit_std = 0.1\nepoch_decay = 1\n"
        );
        assert_eq!(shortest(f64::from(0.1f32)), "0.1");
        assert_eq!(shortest(0.1), "0.1");
        assert_eq!(shortest(2000.0), "2000");
        assert_eq!(shortest(1e-300), "1e-300");
        assert_eq!(shortest(f64::from(1e-8f32)), "1e-8");
        let splits = Splits {
            train: separable_dataset(21, 0),
            validation: Some(separable_dataset(5, 0)),
            test: None,
        };
        assert_eq!(
            batch_info::<LogReg>(&splits),
            "batches of 8: 2 steps per epoch over 21 training samples (5 dropped per epoch), 5 validation"
        );
    }

    #[test]
    fn nan_inputs_and_weights_are_refused_naming_where() {
        let input = temp_path("predict-nan.csv");
        std::fs::write(&input, "label,a,b,c,d\n1,2,4,6,8\n0,2,nan,6,8\n").unwrap();
        let mut data = spec_config(&input).data.unwrap();
        let error = load_inputs::<LogReg>(&input, Some(&data)).unwrap_err();
        let expected = format!("{}: line 3, column 3: `nan` is NaN", input.display());
        assert!(error.to_string().starts_with(&expected), "{error}");
        // Finite in the file, infinite once scaled.
        std::fs::write(&input, "label,a,b,c,d\n1,2,4,6,8\n").unwrap();
        data.scale = 1e38;
        let error = load_inputs::<LogReg>(&input, Some(&data)).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("data row 0, feature 1: the value is inf after scaling by"),
            "{error}"
        );

        // Weights with a NaN: refused by `predict`, `eval` and `train --init-weights`.
        let csv = write_training_csv("trainer-nan-weights.csv", 40);
        let weights = temp_path("trainer-nan.safetensors");
        let mut model = LogReg::new(LogRegHyper::default(), 1);
        model.tensors_mut()[0].data[5] = f32::NAN;
        netc_runtime::save_checkpoint(&model, &weights).unwrap();
        let w = weights.display();
        for command in [
            format!("predict --weights {w} --input {}", csv.display()),
            format!("eval --weights {w}"),
            format!("train --quiet --init-weights {w}"),
        ] {
            let error = run::<LogReg>(
                spec_config(&csv),
                LogRegHyper::default(),
                Plan::default(),
                &args(&command),
            )
            .unwrap_err();
            assert!(
                error
                    .to_string()
                    .contains("tensor `layers.0.weight` holds NaN at [1, 1]"),
                "{command}: {error}"
            );
        }
    }

    #[test]
    fn predict_input_drops_the_label_column_and_scales() {
        let path = temp_path("predict-input.csv");
        std::fs::write(&path, "label,a,b,c,d\n1,2,4,6,8\n").unwrap();
        let mut data = spec_config(&path).data.unwrap();
        data.scale = 0.5;
        let x = load_inputs::<LogReg>(&path, Some(&data)).unwrap();
        assert_eq!(x, ndarray::array![[1.0, 2.0, 3.0, 4.0]]);
        std::fs::write(&path, "1,2,3\n").unwrap();
        let error = load_inputs::<LogReg>(&path, None).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("samples have 3 features, the model `logreg` takes 4"),
            "{error}"
        );
    }
}
