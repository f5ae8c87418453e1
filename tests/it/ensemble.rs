//! Bagging (`ensemble bagging D vote=…`), proven against its definition: every member is the
//! spec's model fitted on its own bootstrap sample (n rows drawn uniformly with replacement,
//! reproduced here independently); the majority vote and the average are recomputed here from
//! the members' own predictions; the ensemble beats each of its members on held-out data; the
//! checkpoint round-trips; the trainer's commands train, evaluate and predict an ensemble.
//!
//! `specs/bagging.net` (9 perceptrons 49-64-10 on mnist7, 20 epochs each), measured with
//! `cargo test -p netc-tests --test it ensemble:: -- --nocapture`: members 93.10–93.59%,
//! majority vote of the 9: 94.27% test accuracy.

use std::path::PathBuf;

use netc::__private as rt;
use netc::{Network, Vote};

use crate::support::with_repo_data;

netc::net!(include "../specs/bagging.net");

fn scratch_dir(name: &str) -> PathBuf {
    crate::support::scratch_dir("ensemble", name)
}

fn test_split() -> rt::Dataset {
    let cfg = with_repo_data(bagging::run_config());
    rt::load_splits(cfg.data.as_ref().expect("a data block"), cfg.seed)
        .expect("mnist7 loads")
        .test
        .expect("a test split")
}

/// Every member's outputs on `data`, `OUTPUT` per sample.
fn member_outputs(ensemble: &mut bagging::Trained, data: &rt::Dataset) -> Vec<Vec<f32>> {
    let x: Vec<f32> = data.x.to_vec();
    ensemble
        .members
        .iter_mut()
        .map(|member| rt::predict(member, &x).expect("predict"))
        .collect()
}

const OUTPUT: usize = <bagging::Model as Network>::OUTPUT;

#[test]
fn the_bagging_spec_beats_every_member_and_votes_as_defined() {
    let (mut ensemble, report) =
        bagging::train_with(&with_repo_data(bagging::run_config())).expect("bagging trains");
    assert_eq!(report.members.len(), 9);
    let member_accuracies: Vec<f32> = report
        .members
        .iter()
        .map(|m| m.report.test_accuracy.expect("members are tested"))
        .collect();
    let test = report.test.expect("the ensemble is tested");
    println!(
        "members: {member_accuracies:?}; majority vote: {:.4} (loss {:.4})",
        test.accuracy, test.loss
    );
    // A bootstrap sample of n = 10,000 holds 1 − 1/e ≈ 63.2% distinct rows (σ ≈ 0.3%).
    for member in &report.members {
        assert!((6_100..6_550).contains(&member.distinct_rows), "{member:?}");
    }
    assert!(
        test.accuracy >= 0.939,
        "ensemble test accuracy {}",
        test.accuracy
    );
    for accuracy in &member_accuracies {
        assert!(
            test.accuracy > *accuracy,
            "{} ≤ a member's {accuracy}",
            test.accuracy
        );
    }

    // The majority vote recomputed from the members' own predictions: each votes for its
    // arg-max class, the most votes win (ties: the lower class), the output is the vote share.
    let data = test_split();
    let outputs = member_outputs(&mut ensemble, &data);
    let (mut correct, mut loss) = (0usize, 0.0f64);
    for (row, &label) in data.labels.iter().enumerate() {
        let mut votes = [0usize; OUTPUT];
        for member in &outputs {
            votes[rt::arg_max(&member[row * OUTPUT..(row + 1) * OUTPUT])] += 1;
        }
        let most = *votes.iter().max().unwrap();
        let winner = votes.iter().position(|&v| v == most).unwrap();
        correct += usize::from(winner == label as usize);
        let share = votes[label as usize] as f64 / 9.0;
        loss -= share.max(1e-12).ln();
    }
    let samples = data.len() as f64;
    assert_eq!(correct, (test.accuracy as f64 * samples).round() as usize);
    let loss = loss / samples;
    assert!(
        (test.loss as f64 - loss).abs() < 1e-4 * loss,
        "{} vs {loss}",
        test.loss
    );

    // The average: mean probabilities, then arg-max; loss −ln of the mean probability.
    let mut averaged = rt::Ensemble::new(ensemble.members, Vote::Average).expect("members");
    let by_average = averaged.evaluate(&data).expect("evaluate");
    let (mut correct, mut loss) = (0usize, 0.0f64);
    for (row, &label) in data.labels.iter().enumerate() {
        let mean: Vec<f32> = (0..OUTPUT)
            .map(|j| outputs.iter().map(|m| m[row * OUTPUT + j]).sum::<f32>() / 9.0)
            .collect();
        correct += usize::from(rt::arg_max(&mean) == label as usize);
        loss -= f64::from(mean[label as usize].max(1e-12)).ln();
    }
    println!("average of the 9: {by_average:?}");
    assert_eq!(
        correct,
        (by_average.accuracy as f64 * samples).round() as usize
    );
    let loss = loss / samples;
    assert!(
        (by_average.loss as f64 - loss).abs() < 1e-4 * loss,
        "{by_average:?} vs {loss}"
    );
    for accuracy in &member_accuracies {
        assert!(
            by_average.accuracy > *accuracy,
            "{by_average:?} ≤ a member's {accuracy}"
        );
    }

    // The checkpoint keeps every member: the loaded ensemble predicts bit-identically.
    let dir = scratch_dir("round_trip");
    let path = dir.join("bagging.safetensors");
    bagging::save(&averaged, &path).expect("save");
    let mut loaded = bagging::load(&path).expect("load");
    loaded.vote = Vote::Average;
    let x: Vec<f32> = data.x.to_vec().into_iter().take(300 * 49).collect();
    let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
    assert_eq!(
        bits(averaged.predict(&x).unwrap()),
        bits(loaded.predict(&x).unwrap())
    );
    // Another member count, or one model's checkpoint, is refused with the reason.
    let three = rt::EnsembleConfig {
        models: 3,
        vote: Vote::Majority,
    };
    let error = rt::load_ensemble::<bagging::Model>(&Default::default(), three, &path)
        .err()
        .expect("3 ≠ 9 members");
    assert!(
        error
            .to_string()
            .contains("an ensemble of 9 models, the spec bags 3"),
        "{error}"
    );
    let single = dir.join("one.safetensors");
    rt::save_checkpoint(&averaged.members[0], &single).expect("save one");
    let error = bagging::load(&single)
        .err()
        .expect("one model is not an ensemble");
    assert!(
        error
            .to_string()
            .contains("holds one model, not an ensemble of 9"),
        "{error}"
    );
}

/// Each member is exactly the spec's model fitted, from its own seed, on n rows drawn
/// uniformly with replacement: both drawn here from the seed's ensemble stream and compared
/// bit for bit (on 2,000 training rows, one epoch, to stay quick).
#[test]
fn each_member_is_the_model_fitted_on_its_bootstrap_sample() {
    let mut cfg = with_repo_data(bagging::run_config());
    cfg.epochs = 1;
    cfg.verbose = false;
    let mut splits = rt::load_splits(cfg.data.as_ref().unwrap(), cfg.seed).unwrap();
    splits.train = splits.train.select(&(0..2_000).collect::<Vec<_>>());
    let config = rt::EnsembleConfig {
        models: 3,
        vote: Vote::Majority,
    };
    let (ensemble, report) = rt::bagging::train_ensemble::<bagging::Model>(
        &cfg,
        Default::default(),
        &splits,
        config,
        None,
    )
    .expect("trains");

    let mut rng = rt::Rng::new(cfg.seed, rt::streams::ENSEMBLE);
    let mut seeds = Vec::new();
    for (member, member_report) in ensemble.members.iter().zip(&report.members) {
        let seed = rng.next_u64();
        let rows: Vec<usize> = (0..2_000).map(|_| rng.below(2_000)).collect();
        assert_eq!(member_report.seed, seed);
        let mut distinct = rows.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(member_report.distinct_rows, distinct.len());

        let alone = rt::Splits {
            train: splits.train.select(&rows),
            validation: None,
            test: splits.test.clone(),
        };
        let member_cfg = rt::RunConfig {
            seed,
            ..cfg.clone()
        };
        let mut expected = bagging::Model::new(Default::default(), seed);
        rt::fit(&mut expected, &member_cfg, &alone).expect("fits");
        let params = |m: &bagging::Model| {
            let mut p = vec![0.0f64; <bagging::Model as Network>::PARAMS];
            m.read_params(&mut p);
            p.into_iter().map(f64::to_bits).collect::<Vec<_>>()
        };
        assert_eq!(params(member), params(&expected), "member with seed {seed}");
        seeds.push(seed);
    }
    seeds.dedup();
    assert_eq!(seeds.len(), 3, "every member has its own seed");
}

/// The standalone trainer's commands on an ensemble spec: `train` writes one checkpoint with
/// every member and a metrics summary (one line per member, one for the ensemble, each
/// member's epochs in its own file); `eval` loads it; `predict` writes vote shares (k/9).
#[test]
fn trainer_commands_train_eval_and_predict_an_ensemble() {
    let dir = scratch_dir("trainer");
    let (weights, metrics, predictions) = (
        dir.join("bagging.safetensors"),
        dir.join("bagging.metrics.jsonl"),
        dir.join("predictions.txt"),
    );
    let run = |command: String| {
        let args: Vec<String> = command.split(' ').map(String::from).collect();
        rt::trainer::run::<bagging::Model>(
            with_repo_data(bagging::run_config()),
            Default::default(),
            bagging::plan(),
            &args,
        )
    };
    run(format!(
        "train --quiet --epochs 1 --checkpoint {} --metrics {}",
        weights.display(),
        metrics.display()
    ))
    .expect("train");
    let summary = std::fs::read_to_string(&metrics).expect("metrics");
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(lines.len(), 10, "{summary}");
    assert!(lines[0].starts_with("{\"member\":1,"), "{}", lines[0]);
    assert!(
        lines[9].starts_with("{\"ensemble\":\"bagging\",\"models\":9,\"vote\":\"majority\""),
        "{}",
        lines[9]
    );
    for member in 1..=9 {
        let epochs = dir.join(format!("bagging.metrics.member-{member}.jsonl"));
        assert_eq!(
            std::fs::read_to_string(&epochs)
                .expect("member metrics")
                .lines()
                .count(),
            1
        );
    }

    run(format!("eval --weights {}", weights.display())).expect("eval");
    let images = with_repo_data(bagging::run_config())
        .data
        .unwrap()
        .base_dir
        .unwrap()
        .join("data/mnist7/test-images-idx3-ubyte.gz");
    run(format!(
        "predict --weights {} --input {} --output {}",
        weights.display(),
        images.display(),
        predictions.display()
    ))
    .expect("predict");
    let text = std::fs::read_to_string(&predictions).expect("predictions");
    assert_eq!(text.lines().count(), 10_000);
    for line in text.lines().take(50) {
        let values: Vec<f32> = line
            .split(' ')
            .skip(1)
            .map(|v| v.parse().unwrap())
            .collect();
        assert_eq!(values.len(), OUTPUT);
        let votes: f32 = values.iter().map(|v| v * 9.0).sum();
        assert!((votes - 9.0).abs() < 1e-3, "{line}");
        assert!(
            values
                .iter()
                .all(|v| ((v * 9.0) - (v * 9.0).round()).abs() < 1e-3),
            "{line}"
        );
    }
}

/// A member that diverges (here: its bootstrap sample holds a row of `f32::MAX`, the first
/// member's does not) fails the run with an error naming it, and the members trained before it
/// are saved as an ensemble of that many: nothing finished is lost.
#[test]
fn a_diverging_member_keeps_the_finished_ones() {
    const ROWS: usize = 64; // two full batches of 32: every drawn row is trained on
    let poisoned = 0;
    let seed = second_member_draws_alone(poisoned, ROWS);
    let mut x =
        netc::ndarray::Array2::from_shape_fn((ROWS, 49), |(i, j)| ((i * 7 + j) % 11) as f32 / 11.0);
    x.row_mut(poisoned).fill(f32::MAX); // finite (NaN is refused as data), but overflows
    let labels = (0..ROWS).map(|i| (i % 10) as u32).collect();
    let splits = rt::Splits {
        train: rt::Dataset::new(x, labels).unwrap(),
        validation: None,
        test: None,
    };
    let dir = scratch_dir("diverging");
    let checkpoint = dir.join("bagging.safetensors");
    // Beside the checkpoint, which a failed run leaves alone.
    let path = dir.join("bagging.last-good.safetensors");
    let mut cfg = bagging::run_config();
    cfg.seed = seed;
    cfg.epochs = 1;
    cfg.verbose = false;
    cfg.checkpoint_path = Some(checkpoint.clone());
    let config = rt::EnsembleConfig {
        models: 3,
        vote: Vote::Majority,
    };
    let error = rt::bagging::train_ensemble::<bagging::Model>(
        &cfg,
        Default::default(),
        &splits,
        config,
        None,
    )
    .err()
    .expect("member 2 diverges");
    let message = error.to_string();
    assert!(matches!(error, rt::Error::Diverged { .. }), "{message}");
    assert!(message.contains("member 2/3: the loss became"), "{message}");
    assert!(
        message.contains(&format!(
            "the member trained before it was saved to {} (an ensemble of 1)",
            path.display()
        )),
        "{message}"
    );
    assert!(!checkpoint.exists(), "the checkpoint path is never written");
    let one = rt::EnsembleConfig {
        models: 1,
        ..config
    };
    let mut kept =
        rt::load_ensemble::<bagging::Model>(&Default::default(), one, &path).expect("kept");
    let outputs = kept.predict(&[0.5; 49]).unwrap();
    assert!(outputs.iter().all(|v| v.is_finite()), "{outputs:?}");
}

/// A bad row is named by its file and line even when the first member's bootstrap sample
/// misses it and a later member's draws it (each member's sample is rewritten in place).
#[test]
fn a_bad_row_is_named_by_its_line_whichever_member_draws_it() {
    const ROWS: usize = 64;
    let bad = 5;
    let seed = second_member_draws_alone(bad, ROWS);
    let dir = scratch_dir("bad-row");
    let path = dir.join("train.csv");
    let mut text = String::from("label,pixels…\n");
    for row in 0..ROWS {
        let label = if row == bad { 10 } else { row % 10 };
        text += &format!("{label}{}\n", ",0.5".repeat(49));
    }
    std::fs::write(&path, text).unwrap();
    let mut cfg = bagging::run_config();
    cfg.seed = seed;
    cfg.data = Some(rt::DataConfig {
        train: rt::DataSource::Csv {
            path: path.clone(),
            label_column: 0,
            header: true,
        },
        test: None,
        validation: rt::ValidationSplit::None,
        scale: 1.0,
        base_dir: None,
    });
    let args: Vec<String> = ["train", "--quiet", "--epochs", "1"]
        .map(String::from)
        .to_vec();
    let error = rt::trainer::run::<bagging::Model>(cfg, Default::default(), bagging::plan(), &args)
        .expect_err("label 10 is refused");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: line {}: label 10 out of range: the model has 10 outputs, so labels go from 0 to 9",
            path.display(),
            bad + 2
        )
    );
}

netc::net! {
    model searched_bagging {
        input 7x7x1
        dense 16 relu init=he
        dense 10      init=xavier
        loss  softmax
    }
    data {
        train idx("data/mnist7/train-images-idx3-ubyte.gz", "data/mnist7/train-labels-idx1-ubyte.gz")
        validation 500
        scale 1/255
    }
    train { epochs 1  batch 32  optimizer adam(beta1=0.9, beta2=0.999, eps=1e-8)  learning_rate 3e-3  seed 4 }
    search {
        trials 3
        learning_rate log_uniform(1e-4, 1e-1)
        coarse epochs=1   fine top=1 epochs=1
    }
    ensemble bagging 2 vote=average
}

/// With a `search` block the search runs first (the same draws as a search alone) and every
/// member trains with the winner's hyperparameters.
#[test]
fn search_then_bagging_uses_the_winners_hyperparameters() {
    use netc::Hyperparams;
    let mut cfg = with_repo_data(searched_bagging::run_config());
    cfg.verbose = false;
    let mut splits = rt::load_splits(cfg.data.as_ref().unwrap(), cfg.seed).unwrap();
    splits.train = splits.train.select(&(0..2_000).collect::<Vec<_>>());
    let search = searched_bagging::plan().search.expect("a search block");
    let (winner, _) =
        rt::search::search::<searched_bagging::Model>(&cfg, &Default::default(), &splits, &search)
            .expect("search runs");
    let best = winner.hyper().get("learning_rate").unwrap();
    assert_ne!(best, 3e-3, "the search moved the learning rate");

    let (ensemble, report) = searched_bagging::train_on(&splits).expect("bagging runs");
    assert_eq!(report.members.len(), 2);
    for member in &ensemble.members {
        assert_eq!(member.hyper().get("learning_rate"), Some(best));
    }
    assert_eq!(ensemble.vote, Vote::Average);
}

/// The first seed whose bagging member 1 never draws `row` of `rows` in its bootstrap sample
/// and member 2 does (each member draws its seed, then `rows` indices).
fn second_member_draws_alone(row: usize, rows: usize) -> u64 {
    let draws = |rng: &mut rt::Rng| {
        let _member_seed = rng.next_u64();
        (0..rows).map(|_| rng.below(rows)).collect::<Vec<_>>()
    };
    (0..1_000u64)
        .find(|&seed| {
            let mut rng = rt::Rng::new(seed, rt::streams::ENSEMBLE);
            let (first, second) = (draws(&mut rng), draws(&mut rng));
            !first.contains(&row) && second.contains(&row)
        })
        .expect("such a seed exists (probability ≈ 0.37 · 0.63 each)")
}
