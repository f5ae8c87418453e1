//! `search`: random search, coarse to fine, through the generated model's `Hyper` fields.

use netc::__private as rt;
use netc::{Dataset, Hyperparams, Splits};

netc::net! {
    model searched {
        input 2
        dense 8 tanh
        dropout 0.1
        dense 2
        loss softmax
    }
    train { epochs 1 batch 4 optimizer momentum(mu=0.5) learning_rate 0.1 regularize l2(1e-4) seed 5 }
    search {
        trials 6
        learning_rate log_uniform(1e-3, 1)
        l2            log_uniform(1e-6, 1e-3)
        dropout       uniform(0.0, 0.3)
        momentum      uniform(0.5, 0.9)
        coarse epochs=2   fine top=2 epochs=5
    }
}

fn xor(copies: usize) -> Dataset {
    let rows = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let labels = [0, 1, 1, 0];
    let x = netc::ndarray::Array2::from_shape_fn((4 * copies, 2), |(r, c)| rows[r % 4][c]);
    Dataset::new(x, (0..4 * copies).map(|r| labels[r % 4]).collect()).unwrap()
}

/// The spec's search on XOR (validation: two more copies), as the trainer would run it.
fn run_search() -> (searched::Model, rt::search::SearchReport) {
    let splits = Splits {
        train: xor(8),
        validation: Some(xor(2)),
        test: None,
    };
    let mut cfg = searched::run_config();
    cfg.data = None;
    let config = searched::plan()
        .search
        .expect("the spec has a search block");
    rt::search::search::<searched::Model>(&cfg, &searched::Hyper::default(), &splits, &config)
        .unwrap()
}

#[test]
fn every_trial_draws_in_range_and_the_best_fine_trial_wins() {
    let (model, outcome) = run_search();
    assert_eq!(outcome.trials.len(), 6);
    for trial in &outcome.trials {
        let [lr, l2, dropout, mu] = trial.values[..] else {
            panic!("four values per trial")
        };
        assert!((1e-3..=1.0).contains(&lr) && (1e-6..=1e-3).contains(&l2));
        assert!((0.0..=0.3).contains(&dropout) && (0.5..=0.9).contains(&mu));
    }
    // Exactly the two best coarse trials went to the fine stage, and the winner is the best.
    let fine: Vec<usize> = (0..6)
        .filter(|&t| outcome.trials[t].fine_score.is_some())
        .collect();
    assert_eq!(fine.len(), 2);
    let worst_fine = fine
        .iter()
        .map(|&t| outcome.trials[t].coarse_score)
        .fold(f32::INFINITY, f32::min);
    for t in (0..6).filter(|t| !fine.contains(t)) {
        assert!(outcome.trials[t].coarse_score <= worst_fine);
    }
    let best = outcome.trials[outcome.best].fine_score.unwrap();
    assert!(
        fine.iter()
            .all(|&t| outcome.trials[t].fine_score.unwrap() <= best)
    );
    // The returned model carries the winner's hyperparameters, set by name.
    let values = &outcome.trials[outcome.best].values;
    let hyper = netc::Network::hyper(&model);
    assert_eq!(hyper.get("learning_rate").unwrap(), values[0] as f32 as f64);
    assert_eq!(hyper.get("momentum").unwrap(), values[3] as f32 as f64);
    assert_eq!(outcome.report.epochs.len(), 5);
}

#[test]
fn same_seed_same_search() {
    assert_eq!(run_search().1.trials, run_search().1.trials);
}

netc::net! {
    model two_dropouts {
        input 2
        dropout 0.2
        dense 8 relu
        dropout 0.4
        dense 2
        loss softmax
    }
    train { epochs 1 batch 4 optimizer adam(beta1=0.8, beta2=0.95) learning_rate 0.1 }
}

/// What a search draw sets is generated from the model's fields, typed: every dropout layer's
/// p, the optimizer's β₁ (not β₂), with the same range checks as `--set`; a target the model
/// lacks is an error naming it.
#[test]
fn a_search_target_sets_exactly_its_generated_fields() {
    use rt::SearchTarget;
    let base = two_dropouts::Hyper::default();
    let mut hyper = base.clone();
    hyper.set_searched(SearchTarget::Dropout, 0.25).unwrap();
    let dropouts: Vec<&str> = two_dropouts::Hyper::names()
        .iter()
        .copied()
        .filter(|n| n.starts_with("dropout"))
        .collect();
    assert_eq!(dropouts.len(), 2, "{dropouts:?}");
    for name in &dropouts {
        assert_eq!(hyper.get(name), Some(0.25_f32 as f64), "{name}");
    }
    hyper.set_searched(SearchTarget::Momentum, 0.5).unwrap();
    assert_eq!(hyper.get("beta1"), Some(0.5));
    assert_eq!(hyper.get("beta2"), base.get("beta2"));
    hyper
        .set_searched(SearchTarget::LearningRate, 0.03)
        .unwrap();
    assert_eq!(hyper.get("learning_rate"), Some(0.03_f32 as f64));

    let out_of_range = hyper.set_searched(SearchTarget::Dropout, 1.5).unwrap_err();
    assert!(
        out_of_range.to_string().contains("[0, 1)"),
        "{out_of_range}"
    );
    let absent = hyper.set_searched(SearchTarget::L1, 1e-4).unwrap_err();
    assert!(
        absent.to_string().contains("search varies `l1`")
            && absent.to_string().contains("two_dropouts"),
        "{absent}"
    );
}
