//! From a [`DataConfig`] to train / validation / test sets.

use std::path::{Path, PathBuf};

use crate::config::{DataConfig, DataSource, ValidationSplit};
use crate::data::{Dataset, load_csv, load_csv_targets, load_idx};
use crate::error::Error;
use crate::features::keep_matrix_rows;
use crate::real::Real;
use crate::rng::{Rng, streams};

/// The data one run uses. Validation rows are held out of the training file.
#[derive(Clone, Debug, PartialEq)]
pub struct Splits<V = f32> {
    pub train: Dataset<V>,
    pub validation: Option<Dataset<V>>,
    pub test: Option<Dataset<V>>,
}

/// Loads train (+ test) in the model's precision `V`, multiplies every value by `cfg.scale`
/// (rounded to `V` once, and the product in `V`; bytes of a u8 file as their
/// rows are read: [`crate::data::Features`]), and holds out validation rows
/// from train: a permutation seeded by `seed` on [`streams::SPLIT`] picks them, and both parts
/// keep file order. Relative paths are resolved against `cfg.base_dir`.
pub fn load_splits<V: Real>(cfg: &DataConfig, seed: u64) -> Result<Splits<V>, Error> {
    let base = cfg.base_dir.as_deref();
    let mut train = load_source(&cfg.train, base)?;
    let mut test = cfg
        .test
        .as_ref()
        .map(|source| load_source(source, base))
        .transpose()?;
    if cfg.scale != 1.0 {
        let scale = V::from_f64(cfg.scale);
        train.x.scale_by(scale);
        if let Some(test) = &mut test {
            test.x.scale_by(scale);
        }
    }
    let held_out = validation_count(cfg.validation, train.len())?;
    if held_out == 0 {
        return Ok(Splits {
            train,
            validation: None,
            test,
        });
    }
    let (train, validation) = hold_out(train, held_out, seed);
    Ok(Splits {
        train,
        validation: Some(validation),
        test,
    })
}

/// Loads one source, its paths resolved against `base` (`None`: the working directory).
pub fn load_source<V: Real>(source: &DataSource, base: Option<&Path>) -> Result<Dataset<V>, Error> {
    match source {
        DataSource::Idx { images, labels } => {
            load_idx(&resolve_path(images, base), &resolve_path(labels, base))
        }
        DataSource::Csv {
            path,
            label_column,
            header,
        } => load_csv(&resolve_path(path, base), *label_column, *header),
        DataSource::CsvTargets {
            path,
            first,
            last,
            header,
        } => load_csv_targets(&resolve_path(path, base), *first, *last, *header),
    }
}

/// `path` if absolute, else `base/path`.
pub fn resolve_path(path: &Path, base: Option<&Path>) -> PathBuf {
    match base {
        Some(base) if path.is_relative() => base.join(path),
        _ => path.to_path_buf(),
    }
}

fn validation_count(split: ValidationSplit, available: usize) -> Result<usize, Error> {
    let count = match split {
        ValidationSplit::None => 0,
        ValidationSplit::Count(count) => count,
        ValidationSplit::Fraction(fraction) => {
            if !(0.0..1.0).contains(&fraction) {
                return Err(Error::Usage(format!(
                    "validation fraction {fraction} must be at least 0 and below 1"
                )));
            }
            (fraction * available as f64).round() as usize
        }
    };
    if count >= available && count > 0 {
        return Err(Error::Usage(format!(
            "a validation split of {count} samples leaves no training data (the training set has {available})"
        )));
    }
    Ok(count)
}

/// Splits `data` into (train, validation) with `count` validation rows chosen by a seeded
/// permutation; each part keeps the original row order. Train rows are compacted in place
/// (no second copy of the training set), which keeps peak memory near one data set.
fn hold_out<V: Real>(data: Dataset<V>, count: usize, seed: u64) -> (Dataset<V>, Dataset<V>) {
    let mut order: Vec<usize> = (0..data.len()).collect();
    Rng::new(seed, streams::SPLIT).shuffle(&mut order);
    let (validation, train) = order.split_at_mut(count);
    validation.sort_unstable();
    train.sort_unstable();
    let held_out = data.select(validation);
    (keep_rows(data, train), held_out)
}

/// `data` reduced to the rows `kept` (ascending), reusing its buffers.
fn keep_rows<V: Real>(data: Dataset<V>, kept: &[usize]) -> Dataset<V> {
    if !data.targets.is_standard_layout() {
        return data.select(kept);
    }
    let Dataset {
        x,
        labels,
        targets,
        origin,
    } = data;
    let mut labels = labels;
    if !labels.is_empty() {
        for (j, &i) in kept.iter().enumerate() {
            labels[j] = labels[i];
        }
        labels.truncate(kept.len());
    }
    Dataset {
        x: x.keep_rows(kept),
        labels,
        targets: keep_matrix_rows(targets, kept),
        origin: origin.map(|o| o.keep(kept)),
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;

    /// A CSV whose only feature is the row index, so rows can be traced through the split.
    fn indexed_csv(rows: usize) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "netc-runtime-split-{rows}-{}.csv",
            std::process::id()
        ));
        let text: String = (0..rows).map(|i| format!("{i},{}\n", i % 3)).collect();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn config(path: PathBuf, validation: ValidationSplit) -> DataConfig {
        DataConfig {
            train: DataSource::Csv {
                path,
                label_column: -1,
                header: false,
            },
            test: None,
            validation,
            scale: 1.0,
            base_dir: None,
        }
    }

    fn row_ids(data: &Dataset) -> Vec<usize> {
        data.x
            .to_floats()
            .column(0)
            .iter()
            .map(|&v| v as usize)
            .collect()
    }

    #[test]
    fn count_and_fraction_hold_out_disjoint_rows() {
        let path = indexed_csv(100);
        for (split, expected) in [
            (ValidationSplit::Count(30), 30),
            (ValidationSplit::Fraction(0.25), 25),
        ] {
            let splits = load_splits::<f32>(&config(path.clone(), split), 7).unwrap();
            let validation = splits.validation.unwrap();
            assert_eq!(
                (splits.train.len(), validation.len()),
                (100 - expected, expected)
            );
            let mut all = row_ids(&splits.train);
            all.extend(row_ids(&validation));
            all.sort_unstable();
            assert_eq!(all, (0..100).collect::<Vec<_>>(), "every row exactly once");
            // Rows and labels stay together, and file order is kept.
            assert!(
                validation
                    .labels
                    .iter()
                    .zip(row_ids(&validation))
                    .all(|(&l, id)| l as usize == id % 3)
            );
            assert!(row_ids(&splits.train).is_sorted());
            // The training rows are compacted in place: their labels must move with them.
            assert!(
                splits
                    .train
                    .labels
                    .iter()
                    .zip(row_ids(&splits.train))
                    .all(|(&l, id)| l as usize == id % 3)
            );
        }
    }

    #[test]
    fn value_targets_stay_with_their_rows_through_the_split() {
        let path = std::env::temp_dir().join(format!(
            "netc-runtime-split-targets-{}.csv",
            std::process::id()
        ));
        let text: String = (0..40)
            .map(|i| format!("{i},{},{}\n", i * 2, i * 3))
            .collect();
        std::fs::write(&path, text).unwrap();
        let cfg = DataConfig {
            train: DataSource::CsvTargets {
                path,
                first: -2,
                last: -1,
                header: false,
            },
            ..config(PathBuf::new(), ValidationSplit::Count(10))
        };
        let splits = load_splits::<f32>(&cfg, 3).unwrap();
        let validation = splits.validation.unwrap();
        assert_eq!((splits.train.len(), validation.len()), (30, 10));
        for data in [&splits.train, &validation] {
            assert!(data.labels.is_empty());
            for (id, targets) in row_ids(data).into_iter().zip(data.targets.rows()) {
                assert_eq!(targets.to_vec(), vec![id as f32 * 2.0, id as f32 * 3.0]);
            }
        }
    }

    #[test]
    fn the_split_depends_on_the_seed_only() {
        let cfg = config(indexed_csv(50), ValidationSplit::Count(10));
        let a = load_splits::<f32>(&cfg, 1).unwrap();
        assert_eq!(a, load_splits::<f32>(&cfg, 1).unwrap());
        assert_ne!(
            a.validation,
            load_splits::<f32>(&cfg, 2).unwrap().validation
        );
    }

    #[test]
    fn no_validation_and_scale() {
        let mut cfg = config(indexed_csv(10), ValidationSplit::None);
        cfg.scale = 0.5;
        let splits = load_splits::<f32>(&cfg, 0).unwrap();
        assert!(splits.validation.is_none());
        assert_eq!(
            splits.train.x.to_floats().column(0).to_vec(),
            (0..10).map(|i| i as f32 * 0.5).collect::<Vec<_>>()
        );
    }

    #[test]
    fn real_idx_files_relative_to_a_base_dir_scaled() {
        let cfg = DataConfig {
            train: DataSource::Idx {
                images: "data/mnist/t10k-images-idx3-ubyte.gz".into(),
                labels: "data/mnist/t10k-labels-idx1-ubyte.gz".into(),
            },
            test: None,
            validation: ValidationSplit::Fraction(0.1),
            scale: 1.0 / 255.0,
            base_dir: Some(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))),
        };
        let splits = load_splits::<f32>(&cfg, 42).unwrap();
        let validation = splits.validation.unwrap();
        assert_eq!((splits.train.len(), validation.len()), (9000, 1000));
        assert_eq!(splits.train.features(), 784);
        let max = splits.train.x.to_vec().into_iter().fold(0.0f32, f32::max);
        assert_eq!(max, 1.0);
    }

    #[test]
    fn u8_images_stay_bytes_through_the_split_and_read_as_the_f32_conversion_did() {
        let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let images = root.join("data/mnist/t10k-images-idx3-ubyte.gz");
        let labels = root.join("data/mnist/t10k-labels-idx1-ubyte.gz");
        let cfg = DataConfig {
            train: DataSource::Idx {
                images: images.clone(),
                labels: labels.clone(),
            },
            test: Some(DataSource::Idx {
                images: images.clone(),
                labels,
            }),
            validation: ValidationSplit::Count(1000),
            scale: 1.0 / 255.0,
            base_dir: None,
        };
        let splits = load_splits::<f32>(&cfg, 5).unwrap();
        let validation = splits.validation.as_ref().unwrap();
        let test = splits.test.as_ref().unwrap();
        for (data, rows) in [(&splits.train, 9000), (validation, 1000), (test, 10_000)] {
            assert!(data.x.is_bytes());
            assert_eq!(data.x.stored_bytes(), rows * 784);
        }
        // The values the loader computed before: every pixel to f32, times the scale in f32.
        let mut converted = crate::data::load_idx_features::<f32>(&images).unwrap();
        converted *= cfg.scale as f32;
        let bits = |values: Vec<f32>| values.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        assert_eq!(
            bits(test.x.to_vec()),
            bits(converted.iter().copied().collect())
        );
        // The split's permutation put each validation row somewhere; its row of the file is
        // the one it reads as.
        let file_row = |data: &Dataset, row: usize| {
            let place = data.origin().unwrap().place(row);
            place
                .trim_start_matches("record ")
                .parse::<usize>()
                .unwrap()
        };
        for (data, row) in [(validation, 0), (validation, 999), (&splits.train, 4321)] {
            let mut values = vec![0.0; 784];
            data.x.view().copy_row(row, &mut values);
            let expected = converted.row(file_row(data, row)).to_vec();
            assert_eq!(bits(values), bits(expected));
        }
    }

    #[test]
    fn a_split_that_takes_everything_is_refused() {
        let cfg = config(indexed_csv(10), ValidationSplit::Count(10));
        assert!(matches!(load_splits::<f32>(&cfg, 0), Err(Error::Usage(_))));
        let cfg = config(indexed_csv(10), ValidationSplit::Fraction(1.5));
        assert!(matches!(load_splits::<f32>(&cfg, 0), Err(Error::Usage(_))));
    }

    #[test]
    fn relative_paths_resolve_against_the_base_dir() {
        let path = indexed_csv(4);
        let mut cfg = config(
            PathBuf::from(path.file_name().unwrap()),
            ValidationSplit::None,
        );
        cfg.base_dir = Some(path.parent().unwrap().to_path_buf());
        assert_eq!(
            load_splits::<f32>(&cfg, 0).unwrap().train.x,
            Array2::from_shape_fn((4, 1), |(r, _)| r as f32)
        );
    }
}
