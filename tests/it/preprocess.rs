//! `preprocess`: statistics from the training split, applied as the model's input stage in
//! training and prediction, carried by checkpoints.

use netc::__private as rt;
use netc::{Dataset, Network, Splits};

netc::net! {
    model standardized {
        input 3
        dense 4 tanh
        dense 2
        loss softmax
    }
    data {
        train csv("unused.csv", label=-1)
        preprocess standardize
    }
    train { epochs 3 batch 4 optimizer sgd learning_rate 0.1 seed 3 }
}

netc::net! {
    model centred {
        input 2x2x2
        dense 3
        loss softmax
    }
    data {
        train csv("unused.csv", label=-1)
        preprocess channel_mean
    }
    train { epochs 1 batch 2 optimizer sgd learning_rate 0.1 }
}

// The same network without an input stage, to compare against by hand.
netc::net! {
    model plain {
        input 3
        dense 4 tanh
        dense 2
        loss softmax
    }
    train { epochs 1 batch 4 optimizer sgd learning_rate 0.1 seed 3 }
}

fn dataset(rows: &[[f32; 3]], labels: &[u32]) -> Dataset {
    let x = netc::ndarray::Array2::from_shape_fn((rows.len(), 3), |(r, c)| rows[r][c]);
    Dataset::new(x, labels.to_vec()).unwrap()
}

fn tensor<M: Network<Float = f32>>(model: &M, name: &str) -> Vec<f32> {
    let tensors = model.tensors();
    let t = tensors
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no {name}"));
    t.data.to_vec()
}

const TRAIN: [[f32; 3]; 4] = [
    [1.0, 10.0, 5.0],
    [3.0, 10.0, 7.0],
    [1.0, 10.0, 9.0],
    [3.0, 10.0, 11.0],
];

#[test]
fn standardize_uses_training_statistics_only_and_feeds_the_layers_normalized_inputs() {
    // The test set is far away: if its statistics leaked in, the shift would move.
    let splits = Splits {
        train: dataset(&TRAIN, &[0, 1, 0, 1]),
        validation: None,
        test: Some(dataset(&[[100.0, 100.0, 100.0]; 4], &[0, 0, 0, 0])),
    };
    let mut cfg = standardized::run_config();
    cfg.data = None;
    let mut model = <standardized::Model as Network>::new(standardized::Hyper::default(), 3);
    rt::fit(&mut model, &cfg, &splits).unwrap();
    // means 2, 10, 8; population stds 1, 0 (constant: scale 1), √5.
    assert_eq!(tensor(&model, "input.shift"), vec![2.0, 10.0, 8.0]);
    let scale = tensor(&model, "input.scale");
    assert_eq!(&scale[..2], &[1.0, 1.0]);
    assert!((scale[2] - 1.0 / 5f32.sqrt()).abs() < 1e-7, "{scale:?}");

    // Same weights in a model without the stage, fed the normalized rows by hand.
    let mut reference = <plain::Model as Network>::new(plain::Hyper::default(), 3);
    for (dst, src) in reference.tensors_mut().into_iter().zip(
        model
            .tensors()
            .into_iter()
            .filter(|t| !t.name.starts_with("input.")),
    ) {
        assert_eq!(dst.name, src.name);
        dst.data.copy_from_slice(src.data);
    }
    let raw: Vec<f32> = TRAIN.iter().flatten().copied().collect();
    let normalized: Vec<f32> = TRAIN
        .iter()
        .flat_map(|r| {
            [
                (r[0] - 2.0) * 1.0,
                (r[1] - 10.0) * 1.0,
                (r[2] - 8.0) * scale[2],
            ]
        })
        .collect();
    let (mut a, mut b) = (vec![0.0f32; 8], vec![0.0f32; 8]);
    model.predict_batch(&raw, 4, &mut a);
    reference.predict_batch(&normalized, 4, &mut b);
    for (p, q) in a.iter().zip(&b) {
        assert!((p - q).abs() < 1e-6, "{a:?} vs {b:?}");
    }
}

#[test]
fn the_input_stage_travels_in_the_checkpoint() {
    let splits = Splits {
        train: dataset(&TRAIN, &[0, 1, 0, 1]),
        validation: None,
        test: None,
    };
    let mut cfg = standardized::run_config();
    cfg.data = None;
    let mut model = <standardized::Model as Network>::new(standardized::Hyper::default(), 3);
    rt::fit(&mut model, &cfg, &splits).unwrap();
    let path = std::env::temp_dir().join(format!(
        "netc-preprocess-{}.safetensors",
        std::process::id()
    ));
    rt::save_checkpoint(&model, &path).unwrap();
    let mut loaded = <standardized::Model as Network>::new(standardized::Hyper::default(), 9);
    assert_eq!(
        tensor(&loaded, "input.shift"),
        vec![0.0; 3],
        "fresh model: identity stage"
    );
    rt::load_checkpoint(&mut loaded, &path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        tensor(&loaded, "input.shift"),
        tensor(&model, "input.shift")
    );
    assert_eq!(
        tensor(&loaded, "input.scale"),
        tensor(&model, "input.scale")
    );
}

#[test]
fn channel_mean_averages_each_channel_over_every_pixel() {
    // 2×2 pixels × 2 channels, channels fastest: channel 0 = features 0, 2, 4, 6.
    let rows: Vec<[f32; 8]> = vec![[1.0, 10.0, 3.0, 30.0, 5.0, 50.0, 7.0, 70.0]; 2];
    let x = netc::ndarray::Array2::from_shape_fn((2, 8), |(r, c)| rows[r][c]);
    let splits = Splits {
        train: Dataset::new(x, vec![0, 1]).unwrap(),
        validation: None,
        test: None,
    };
    let mut cfg = centred::run_config();
    cfg.data = None;
    let mut model = <centred::Model as Network>::new(centred::Hyper::default(), 1);
    rt::fit(&mut model, &cfg, &splits).unwrap();
    assert_eq!(
        tensor(&model, "input.shift"),
        vec![4.0, 40.0, 4.0, 40.0, 4.0, 40.0, 4.0, 40.0]
    );
    assert_eq!(tensor(&model, "input.scale"), vec![1.0; 8]);
}
