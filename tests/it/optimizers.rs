//! Every optimizer on a small real problem, and the claims about them: the `specs/opt_*.net`
//! reach their documented test accuracy; L-BFGS and Newton beat gradient descent on a convex
//! problem by far; the curvature monitor warns exactly when the rate overshoots; `maxnorm`
//! holds after every step; `l1` zeroes irrelevant inputs.

mod curvature;
mod regularization;
mod solvers;
mod specs;

use netc::__private as rt;

pub(crate) use crate::support::{repo_root, with_repo_data};

/// mnist7 (train: 10,000 images, test: 10,000) as a spec's data block loads it.
fn mnist7<V: rt::Real>(cfg: &rt::RunConfig) -> rt::Splits<V> {
    rt::load_splits(cfg.data.as_ref().expect("a data block"), cfg.seed).expect("mnist7 loads")
}

/// The first `n` samples of a dataset.
fn head<V: rt::Real>(data: &rt::Dataset<V>, n: usize) -> rt::Dataset<V> {
    data.select(&(0..n).collect::<Vec<_>>())
}

/// The mnist7 training images of digits 0, 1 and 2 (the first `n` of them), features scaled
/// to [0, 1]: a small softmax-regression problem (49 → 3, 150 parameters).
fn digits_012<V: rt::Real>(n: usize) -> rt::Dataset<V> {
    let train = mnist7_train::<V>();
    let picked: Vec<usize> = (0..train.len())
        .filter(|&i| train.labels[i] < 3)
        .take(n)
        .collect();
    assert_eq!(picked.len(), n, "mnist7 has {n} images of 0, 1 and 2");
    train.select(&picked)
}

/// mnist7's 10,000 training images, features scaled to [0, 1] in the model's precision `V`.
fn mnist7_train<V: rt::Real>() -> rt::Dataset<V> {
    let data = rt::DataConfig {
        train: rt::DataSource::Idx {
            images: "data/mnist7/train-images-idx3-ubyte.gz".into(),
            labels: "data/mnist7/train-labels-idx1-ubyte.gz".into(),
        },
        test: None,
        validation: rt::ValidationSplit::None,
        scale: 1.0 / 255.0,
        base_dir: Some(repo_root()),
    };
    rt::load_splits(&data, 0).expect("mnist7 loads").train
}

/// Row-major features of a dataset.
fn features<V: rt::Real>(data: &rt::Dataset<V>) -> Vec<V> {
    data.x.to_vec()
}
