//! `precision f64` from the file on: a CSV's 17-digit values, the `scale` and the value
//! targets reach an f64 model unrounded, so a training run on them is an exact f64
//! computation up to the order of its sums. (Before the data path followed the model's
//! precision, every value went through f32 first and the same run ended 2.8e-9 away.)

use netc::__private as rt;
use netc::Network;

use crate::support::scratch_dir;

netc::net! {
    model exact_f64 {
        input 3
        dense 2
        loss  mse
    }
    data {
        train csv("rows.csv", targets=-2..-1)
        scale 0.1
    }
    train {
        epochs 1 batch 4 sampling sequential optimizer sgd learning_rate 0.3
        precision f64 seed 11
    }
}

const ROWS: usize = 12;
const FEATURES: usize = 3;
const OUTPUTS: usize = 2;

/// Row `r`'s 5 values: irrational-looking numbers that print with 16–17 significant digits
/// and that no f32 holds.
fn row(r: usize) -> [f64; FEATURES + OUTPUTS] {
    std::array::from_fn(|c| ((r * 5 + c + 1) as f64 * 0.713_170_315_191_841_8).sin() * 3.0)
}

/// One sgd step of mean ½‖Wx + b − t‖² over `rows`, in f64: θ ← θ − η·(1/B)·Σ (y − t)·[x; 1].
fn reference_step(theta: &mut [f64], rows: &[([f64; FEATURES], [f64; OUTPUTS])], rate: f64) {
    let mut grad = vec![0.0; theta.len()];
    let batch = rows.len() as f64;
    for (x, t) in rows {
        for o in 0..OUTPUTS {
            let w = &theta[o * FEATURES..(o + 1) * FEATURES];
            let y = theta[OUTPUTS * FEATURES + o] + (0..FEATURES).map(|k| w[k] * x[k]).sum::<f64>();
            let dz = (y - t[o]) / batch;
            for k in 0..FEATURES {
                grad[o * FEATURES + k] += dz * x[k];
            }
            grad[OUTPUTS * FEATURES + o] += dz;
        }
    }
    for (p, g) in theta.iter_mut().zip(&grad) {
        *p -= rate * g;
    }
}

/// The three sequential batches of the epoch from `theta`, each row as (scaled features,
/// targets) computed from `values` by `round` (identity: exact f64; else through f32).
fn reference_run(theta0: &[f64], round: fn(f64) -> f64) -> Vec<f64> {
    let mut theta = theta0.to_vec();
    let rows: Vec<_> = (0..ROWS)
        .map(|r| {
            let v = row(r).map(round);
            let scale = round(0.1);
            let x = std::array::from_fn(|k| round(v[k] * scale));
            (x, [v[FEATURES], v[FEATURES + 1]])
        })
        .collect();
    for batch in rows.chunks(exact_f64::BATCH) {
        reference_step(&mut theta, batch, 0.3);
    }
    theta
}

#[test]
fn an_f64_run_on_17_digit_csv_values_is_the_exact_f64_computation() {
    let dir = scratch_dir("precision", "csv17");
    let path = dir.join("rows.csv");
    let mut text = String::from("x1,x2,x3,t1,t2\n");
    for r in 0..ROWS {
        let values: Vec<String> = row(r).iter().map(|v| format!("{v}")).collect();
        text += &(values.join(",") + "\n");
    }
    // Shortest round-trip printing: these need 16 or 17 digits.
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .split(',')
            .all(|v| v.len() >= 17),
        "{text}"
    );
    std::fs::write(&path, text).unwrap();

    let mut cfg = exact_f64::run_config();
    cfg.data.as_mut().unwrap().base_dir = Some(dir);
    let cfg = rt::RunConfig {
        verbose: false,
        checkpoint_path: None,
        metrics_path: None,
        ..cfg
    };
    let splits = rt::load_splits::<f64>(cfg.data.as_ref().unwrap(), cfg.seed).unwrap();
    // The loaded values are the file's, and the features are scaled in f64.
    let features = splits.train.x.to_floats();
    for r in 0..ROWS {
        let v = row(r);
        let scaled: Vec<u64> = v[..FEATURES].iter().map(|x| (x * 0.1).to_bits()).collect();
        let loaded: Vec<u64> = features.row(r).iter().map(|x| x.to_bits()).collect();
        assert_eq!(loaded, scaled, "row {r}");
        assert_eq!(splits.train.targets.row(r).to_vec(), v[FEATURES..].to_vec());
    }

    let mut model = exact_f64::new(cfg.seed);
    let mut theta0 = vec![0.0; exact_f64::Model::PARAMS];
    model.read_params(&mut theta0);
    let report = rt::fit(&mut model, &cfg, &splits).unwrap();
    assert_eq!(report.steps, 3);
    let mut trained = vec![0.0; theta0.len()];
    model.read_params(&mut trained);

    let distance = |expected: &[f64]| {
        trained
            .iter()
            .zip(expected)
            .map(|(a, e)| (a - e).abs())
            .fold(0.0f64, f64::max)
    };
    let exact = distance(&reference_run(&theta0, |v| v));
    assert!(exact < 1e-15, "{exact:e} from the exact f64 computation");
    // The same run on the values rounded through f32, as the data path once read them, is
    // far away: the check above can tell the two apart.
    let through_f32 = distance(&reference_run(&theta0, |v| f64::from(v as f32)));
    assert!(through_f32 > 1e-9, "{through_f32:e}");
}
