//! Trainer flags applied to the spec's configuration: pure functions from values to values.

use std::path::PathBuf;

use crate::args::{DataArgs, TrainArgs};
use netc_runtime::config::{DataConfig, DataSource, EarlyStopping, RunConfig, ValidationSplit};
use netc_runtime::error::Error;
use netc_runtime::network::{Hyperparams, Network};

/// The hyperparameter that mirrors `RunConfig::epochs`, when a model declares it.
const EPOCHS: &str = "epochs";

/// `cfg` and `hyper` with the `train` flags applied; defaults for the checkpoint
/// (`<model>.safetensors`) and metrics (`<model>.metrics.jsonl`) when neither spec nor flags
/// name them.
pub fn apply_train_args<M: Network>(
    mut cfg: RunConfig,
    mut hyper: M::Hyper,
    args: &TrainArgs,
) -> Result<(RunConfig, M::Hyper), Error> {
    for (name, value) in &args.set {
        hyper.set(name, *value)?;
        if name == EPOCHS {
            cfg.epochs = epochs(*value)?;
        }
    }
    if let Some(epochs) = args.epochs {
        cfg.epochs = epochs;
        if M::Hyper::names().contains(&EPOCHS) {
            hyper.set(EPOCHS, epochs as f64)?;
        }
    }
    if let Some(seed) = args.seed {
        cfg.seed = seed;
    }
    if args.max_steps.is_some() {
        cfg.max_steps = args.max_steps;
    }
    cfg.data = apply_data_args(cfg.data, &args.data)?;
    if args.init_weights.is_some() {
        cfg.init_weights = args.init_weights.clone();
    }
    let name = M::META.name;
    cfg.checkpoint_path = args
        .checkpoint
        .clone()
        .or(cfg.checkpoint_path)
        .or_else(|| Some(PathBuf::from(format!("{name}.safetensors"))));
    cfg.metrics_path = args
        .metrics
        .clone()
        .or(cfg.metrics_path)
        .or_else(|| Some(PathBuf::from(format!("{name}.metrics.jsonl"))));
    cfg.verbose = !args.quiet;
    cfg.early_stopping = apply_early_stopping_args(cfg.early_stopping, args)?;
    if args.save_every.is_some() {
        cfg.save.every = args.save_every;
    }
    cfg.save.resume = args.resume.clone();
    cfg.save.state_path = args
        .state
        .clone()
        .or_else(|| args.resume.clone())
        .or(cfg.save.state_path)
        .or_else(|| Some(PathBuf::from(format!("{name}.state.safetensors"))));
    Ok((cfg, hyper))
}

/// `--no-early-stopping` turns it off; `--patience N` changes the spec's patience.
fn apply_early_stopping_args(
    early_stopping: Option<EarlyStopping>,
    args: &TrainArgs,
) -> Result<Option<EarlyStopping>, Error> {
    if args.no_early_stopping {
        if args.patience.is_some() {
            return Err(Error::Usage(
                "--patience and --no-early-stopping exclude each other".into(),
            ));
        }
        return Ok(None);
    }
    match (early_stopping, args.patience) {
        (_, Some(0)) => Err(Error::Usage("--patience must be ≥ 1".into())),
        (Some(early), Some(patience)) => Ok(Some(EarlyStopping { patience, ..early })),
        (None, Some(_)) => Err(Error::Usage(
            "--patience needs a spec with `early_stopping` (it says what to monitor)".into(),
        )),
        (early, None) => Ok(early),
    }
}

/// The spec's data configuration with data flags applied. A model without a data block gets
/// one from the flags (no validation split, scale 1).
pub fn apply_data_args(
    data: Option<DataConfig>,
    args: &DataArgs,
) -> Result<Option<DataConfig>, Error> {
    let train = train_source(data.as_ref(), args)?;
    let test = pair("test", &args.test_images, &args.test_labels)?
        .map(|(images, labels)| DataSource::Idx { images, labels });
    let Some(mut data) = data.or_else(|| {
        train.clone().map(|train| DataConfig {
            train,
            test: None,
            validation: ValidationSplit::None,
            scale: 1.0,
            base_dir: None,
        })
    }) else {
        if args.data_dir.is_some() || test.is_some() {
            return Err(no_data_block());
        }
        return Ok(None);
    };
    if let Some(train) = train {
        data.train = train;
    }
    if test.is_some() {
        data.test = test;
    }
    if args.data_dir.is_some() {
        data.base_dir = args.data_dir.clone();
    }
    Ok(Some(data))
}

/// The error for `train`/`eval` of a model whose spec names no data and no flag does either.
pub fn no_data_block() -> Error {
    Error::Usage(
        "this model's spec has no data block: pass --train-images FILE --train-labels FILE or --train-csv FILE"
            .into(),
    )
}

fn train_source(data: Option<&DataConfig>, args: &DataArgs) -> Result<Option<DataSource>, Error> {
    let idx = pair("train", &args.train_images, &args.train_labels)?;
    match (idx, &args.train_csv) {
        (Some(_), Some(_)) => Err(Error::Usage(
            "--train-csv and --train-images/--train-labels exclude each other".into(),
        )),
        (Some((images, labels)), None) => Ok(Some(DataSource::Idx { images, labels })),
        (None, Some(path)) => {
            // Keep the spec's CSV layout when it has one; otherwise the label is last.
            let (label_column, header) = match data.map(|d| &d.train) {
                Some(DataSource::Csv {
                    label_column,
                    header,
                    ..
                }) => (*label_column, *header),
                _ => (-1, false),
            };
            Ok(Some(DataSource::Csv {
                path: path.clone(),
                label_column,
                header,
            }))
        }
        (None, None) => Ok(None),
    }
}

fn pair(
    role: &str,
    images: &Option<PathBuf>,
    labels: &Option<PathBuf>,
) -> Result<Option<(PathBuf, PathBuf)>, Error> {
    match (images, labels) {
        (Some(images), Some(labels)) => Ok(Some((images.clone(), labels.clone()))),
        (None, None) => Ok(None),
        _ => Err(Error::Usage(format!(
            "--{role}-images and --{role}-labels go together"
        ))),
    }
}

/// `--set epochs=N`, held to the spec's range (the model's own `Hyper::set` should agree; this
/// keeps the run's per-epoch bookkeeping bounded whatever a model accepts).
fn epochs(value: f64) -> Result<usize, Error> {
    let limit = netc_limits::EPOCHS;
    if limit.contains_f64(value) {
        Ok(value as usize)
    } else {
        Err(Error::Usage(format!(
            "`epochs` must be a whole number {}, not {value}",
            limit.range_text()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netc_runtime::config::{Metric, Sampling, SaveConfig};
    use netc_runtime::test_model::{LogReg, LogRegHyper};

    fn spec_config() -> RunConfig {
        RunConfig {
            epochs: 10,
            sampling: Sampling::Shuffle,
            seed: 1,
            max_steps: None,
            data: Some(DataConfig {
                train: DataSource::Csv {
                    path: "train.csv".into(),
                    label_column: 0,
                    header: true,
                },
                test: None,
                validation: ValidationSplit::Count(5),
                scale: 0.5,
                base_dir: None,
            }),
            ..RunConfig::default()
        }
    }

    /// `--set epochs=1e9` once set 10⁹ epochs and aborted reserving a report per epoch.
    #[test]
    fn set_epochs_is_held_to_the_shared_limit() {
        assert_eq!(epochs(1e6).unwrap(), 1_000_000);
        for value in [1e9, 0.0, 2.5, f64::INFINITY] {
            let error = epochs(value).unwrap_err().to_string();
            assert!(
                error.contains("`epochs` must be a whole number between 1 and 1000000"),
                "{error}"
            );
        }
    }

    #[test]
    fn no_flags_give_the_spec_values_and_default_outputs() {
        let (cfg, hyper) = apply_train_args::<LogReg>(
            spec_config(),
            LogRegHyper::default(),
            &TrainArgs::default(),
        )
        .unwrap();
        assert_eq!(hyper, LogRegHyper::default());
        assert_eq!(
            cfg.checkpoint_path,
            Some(PathBuf::from("logreg.safetensors"))
        );
        assert_eq!(
            cfg.metrics_path,
            Some(PathBuf::from("logreg.metrics.jsonl"))
        );
        assert!(cfg.verbose);
        assert_eq!(
            cfg.save.state_path,
            Some(PathBuf::from("logreg.state.safetensors")),
            "a signal saves the run state there"
        );
        assert_eq!(
            RunConfig {
                checkpoint_path: None,
                metrics_path: None,
                verbose: false,
                save: SaveConfig::default(),
                ..cfg
            },
            spec_config()
        );
    }

    #[test]
    fn flags_override_the_spec() {
        let args = TrainArgs {
            epochs: Some(3),
            seed: Some(7),
            max_steps: Some(50),
            set: vec![("learning_rate".into(), 0.25)],
            data: DataArgs {
                data_dir: Some("/data".into()),
                train_csv: Some("other.csv".into()),
                ..DataArgs::default()
            },
            checkpoint: Some("w.safetensors".into()),
            quiet: true,
            ..TrainArgs::default()
        };
        let (cfg, hyper) =
            apply_train_args::<LogReg>(spec_config(), LogRegHyper::default(), &args).unwrap();
        assert_eq!(
            (cfg.epochs, cfg.seed, cfg.max_steps, cfg.verbose),
            (3, 7, Some(50), false)
        );
        assert_eq!(hyper.learning_rate, 0.25);
        let data = cfg.data.unwrap();
        // The spec's CSV layout is kept for the replacement file.
        assert_eq!(
            data.train,
            DataSource::Csv {
                path: "other.csv".into(),
                label_column: 0,
                header: true
            }
        );
        assert_eq!(data.base_dir, Some(PathBuf::from("/data")));
        assert_eq!(
            (data.validation, data.scale),
            (ValidationSplit::Count(5), 0.5)
        );
        assert_eq!(cfg.checkpoint_path, Some(PathBuf::from("w.safetensors")));
    }

    #[test]
    fn a_bad_hyperparameter_is_a_usage_error() {
        let args = TrainArgs {
            set: vec![("momentum".into(), 0.9)],
            ..TrainArgs::default()
        };
        let error =
            apply_train_args::<LogReg>(spec_config(), LogRegHyper::default(), &args).unwrap_err();
        assert!(
            matches!(&error, Error::Usage(m) if m.contains("unknown hyperparameter `momentum`")),
            "{error}"
        );
    }

    #[test]
    fn data_flags_without_a_data_block() {
        assert_eq!(apply_data_args(None, &DataArgs::default()).unwrap(), None);
        let idx = DataArgs {
            train_images: Some("i".into()),
            train_labels: Some("l".into()),
            ..DataArgs::default()
        };
        let data = apply_data_args(None, &idx).unwrap().unwrap();
        assert_eq!(
            data.train,
            DataSource::Idx {
                images: "i".into(),
                labels: "l".into()
            }
        );
        assert_eq!((data.validation, data.scale), (ValidationSplit::None, 1.0));
        let half = DataArgs {
            train_images: Some("i".into()),
            ..DataArgs::default()
        };
        assert!(apply_data_args(None, &half).is_err());
        let only_dir = DataArgs {
            data_dir: Some("d".into()),
            ..DataArgs::default()
        };
        assert!(
            matches!(apply_data_args(None, &only_dir), Err(Error::Usage(m)) if m.contains("no data block"))
        );
    }

    #[test]
    fn early_stopping_flags() {
        let spec = RunConfig {
            early_stopping: Some(EarlyStopping {
                patience: 5,
                monitor: Metric::ValLoss,
                min_delta: 0.0,
                restore_best: true,
            }),
            ..spec_config()
        };
        let apply = |cfg: &RunConfig, args: TrainArgs| {
            apply_train_args::<LogReg>(cfg.clone(), LogRegHyper::default(), &args)
                .map(|(cfg, _)| cfg.early_stopping)
        };
        let patience = |n| TrainArgs {
            patience: Some(n),
            ..TrainArgs::default()
        };
        let off = TrainArgs {
            no_early_stopping: true,
            ..TrainArgs::default()
        };
        assert_eq!(
            apply(&spec, TrainArgs::default()).unwrap(),
            spec.early_stopping
        );
        let changed = apply(&spec, patience(2)).unwrap().unwrap();
        assert_eq!((changed.patience, changed.restore_best), (2, true));
        assert_eq!(apply(&spec, off.clone()).unwrap(), None);
        assert_eq!(apply(&spec_config(), off).unwrap(), None);
        let errors = [
            apply(&spec_config(), patience(2)),
            apply(&spec, patience(0)),
            apply(
                &spec,
                TrainArgs {
                    no_early_stopping: true,
                    ..patience(2)
                },
            ),
        ];
        for error in errors {
            assert!(matches!(error, Err(Error::Usage(_))), "{error:?}");
        }
    }
}
