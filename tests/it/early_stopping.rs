//! `early_stopping` end to end: the spec item reaches `run_config()` and the driver stops,
//! restores and reports as the spec says.

use netc::__private as rt;
use netc::ndarray::Array2;

netc::net! {
    model xor_early {
        input 2
        dense 8 tanh init=xavier
        dense 2      init=xavier
        loss  softmax
    }
    train {
        epochs 2000  batch 4  sampling sequential
        optimizer momentum(mu=0.9)  learning_rate 0.1
        early_stopping patience=25 monitor=train_accuracy restore_best
        seed 1
    }
}

netc::net! {
    model xor_val {
        input 2
        dense 2 init=xavier
        loss  softmax
    }
    train { epochs 5  batch 4  early_stopping monitor=val_loss min_delta=0.001 }
}

fn xor_splits() -> rt::Splits {
    let x = Array2::from_shape_vec((4, 2), vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0]).unwrap();
    rt::Splits {
        train: rt::Dataset::new(x, vec![0, 1, 1, 0]).unwrap(),
        validation: None,
        test: None,
    }
}

#[test]
fn the_spec_item_reaches_run_config() {
    assert_eq!(
        xor_early::run_config().early_stopping,
        Some(rt::EarlyStopping {
            patience: 25,
            monitor: rt::Metric::TrainAccuracy,
            min_delta: 0.0,
            restore_best: true,
        })
    );
    assert_eq!(
        xor_val::run_config().early_stopping,
        Some(rt::EarlyStopping {
            patience: 5,
            monitor: rt::Metric::ValLoss,
            min_delta: 0.001,
            restore_best: false,
        })
    );
    assert_eq!(xor_val::run_config().monitor, rt::MonitorConfig::default());
}

#[test]
fn xor_stops_once_train_accuracy_stops_improving() {
    let (mut model, report) = xor_early::train_on(&xor_splits()).unwrap();
    let early_stop = report.early_stop.expect("early stopping is on");
    let best_epoch = early_stop.best_epoch.expect("some epoch was best");
    assert_eq!(early_stop.best, Some(1.0), "XOR is learnt: {early_stop:?}");
    // Accuracy cannot beat 100%: patience runs out 25 epochs after the first perfect one.
    assert_eq!(early_stop.stopped_after, Some(best_epoch + 25));
    assert_eq!(report.epochs.len(), best_epoch + 25);
    assert!(report.epochs.len() < 2000, "{} epochs", report.epochs.len());
    assert_eq!(early_stop.restored_epoch, Some(best_epoch));
    let accuracy = xor_early::evaluate(&mut model, &xor_splits().train)
        .unwrap()
        .accuracy;
    assert_eq!(accuracy, 1.0, "the restored weights of the best epoch");

    // The restored weights are the best epoch's, bit for bit: the same run stopped after
    // `best_epoch` epochs (sequential sampling, same seed: the same trajectory up to there)
    // ends with them, and the run's last epoch had moved on from them.
    let run_for = |epochs: usize| {
        let cfg = rt::RunConfig {
            epochs,
            early_stopping: None,
            verbose: false,
            ..xor_early::run_config()
        };
        let (model, _) = rt::search::train_model::<xor_early::Model>(
            &cfg,
            xor_early::Hyper::default(),
            &xor_splits(),
            None,
        )
        .unwrap();
        tensors(&model)
    };
    assert_eq!(
        tensors(&model),
        run_for(best_epoch),
        "the best epoch's weights"
    );
    assert_ne!(
        tensors(&model),
        run_for(best_epoch + 25),
        "training went on after the best epoch, so restoring changed the weights"
    );
}

fn tensors(model: &xor_early::Model) -> Vec<Vec<f32>> {
    use netc::Network;
    model.tensors().iter().map(|t| t.data.to_vec()).collect()
}

#[test]
fn a_validation_metric_without_a_split_is_an_error() {
    let Err(error) = xor_val::train_on(&xor_splits()) else {
        panic!("val_loss without a validation split must be refused");
    };
    assert!(
        error
            .to_string()
            .contains("early stopping monitors `val_loss`, but there is no validation split"),
        "{error}"
    );
}
