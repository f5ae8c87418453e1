//! Seeds for the `checkpoint` target: trains the three models of `src/lib.rs` for a few epochs
//! on small data built in code and saves their checkpoints into `corpus/checkpoint/`, plus a
//! fresh (untrained) checkpoint of each.
//!
//! `cargo +nightly run --example checkpoint_seeds` (from `fuzz/`).

use std::path::Path;

use netc::ndarray::Array2;
use netc::{Dataset, Error, Splits};
use netc_fuzz::models::{fuzz_bag, fuzz_bn, fuzz_f64};

fn splits(features: usize, classes: u32) -> Result<Splits, Error> {
    let rows = 16;
    let x = Array2::from_shape_fn((rows, features), |(i, j)| ((i * 7 + j * 3) % 5) as f32 - 2.0);
    let labels = (0..rows as u32).map(|i| i % classes).collect();
    Ok(Splits {
        train: Dataset::new(x, labels)?,
        validation: None,
        test: None,
    })
}

fn main() -> Result<(), Error> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/checkpoint");
    std::fs::create_dir_all(&dir).map_err(|e| Error::Usage(e.to_string()))?;

    let (model, _) = fuzz_bn::train_on(&splits(4, 3)?)?;
    fuzz_bn::save(&model, dir.join("bn_trained.safetensors"))?;
    fuzz_bn::save(&fuzz_bn::new(7), dir.join("bn_fresh.safetensors"))?;

    let (model, _) = fuzz_f64::train_on(&splits(3, 1)?)?;
    fuzz_f64::save(&model, dir.join("f64_trained.safetensors"))?;
    fuzz_f64::save(&fuzz_f64::new(7), dir.join("f64_fresh.safetensors"))?;

    let (ensemble, _) = fuzz_bag::train_on(&splits(2, 2)?)?;
    fuzz_bag::save(&ensemble, dir.join("bag_trained.safetensors"))?;
    println!("seeds written to {}", dir.display());
    Ok(())
}
