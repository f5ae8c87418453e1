//! XOR with the spec written inline in Rust and the data built in code.
//!
//! `cargo run -p netc --example xor_macro`

use netc::ndarray::Array2;

netc::net! {
    model xor_inline {
        input 2
        dense 8 tanh init=xavier
        dense 2      init=xavier
        loss  softmax
    }
    train {
        epochs 2000  batch 4  sampling sequential
        optimizer momentum(mu=0.9)  learning_rate 0.1
        seed 1
    }
}

/// The four XOR rows.
pub fn xor_data() -> Result<netc::Dataset, netc::Error> {
    let x = Array2::from_shape_vec((4, 2), vec![0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0])
        .map_err(|error| netc::Error::Usage(error.to_string()))?;
    netc::Dataset::new(x, vec![0, 1, 1, 0])
}

/// Trains on XOR and returns the accuracy on the four rows.
pub fn run() -> Result<f32, netc::Error> {
    let splits = netc::Splits {
        train: xor_data()?,
        validation: None,
        test: None,
    };
    let (mut model, _report) = xor_inline::train_on(&splits)?;
    Ok(xor_inline::evaluate(&mut model, &splits.train)?.accuracy)
}

#[allow(dead_code)]
fn main() -> Result<(), netc::Error> {
    let accuracy = run()?;
    println!("XOR accuracy: {:.0}%", accuracy * 100.0);
    Ok(())
}
