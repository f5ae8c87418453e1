//! Bounded resources: the spec, the generated `Hyper::set` and the trainer's flags share one
//! table of limits (`netc_limits`), so all three refuse the same values.

use netc::__private as rt;
use netc::Hyperparams;

netc::net! {
    model limits_small {
        input 4
        dense 3
        loss softmax
    }
    train { epochs 2 batch 2 optimizer adam }
}

fn args(line: &str) -> Vec<String> {
    line.split_whitespace().map(String::from).collect()
}

fn usage_error(line: &str) -> String {
    let cfg = limits_small::run_config();
    match rt::trainer::run::<limits_small::Model>(
        cfg,
        limits_small::Hyper::default(),
        limits_small::plan(),
        &args(line),
    ) {
        Err(rt::Error::Usage(message)) => message,
        other => panic!("`{line}`: expected a usage error, got {other:?}"),
    }
}

#[test]
fn epochs_beyond_the_spec_limit_are_usage_errors_everywhere() {
    let mut hyper = limits_small::Hyper::default();
    let error = hyper.set("epochs", 1e9).unwrap_err().to_string();
    assert_eq!(
        error,
        "hyperparameter `epochs` = 1000000000: expected a whole number between 1 and 1000000"
    );
    hyper.set("epochs", 1e6).unwrap();
    assert!(usage_error("train --set epochs=1e9").contains("between 1 and 1000000"));
    assert_eq!(
        usage_error("train --epochs 1000000000"),
        "--epochs must be between 1 and 1000000, got 1000000000"
    );
    assert_eq!(
        usage_error("bench --seconds 1e20"),
        "--seconds must be > 0 and at most 3600, got 100000000000000000000"
    );
}
