//! One integration-test binary (matklad, "Delete Cargo Integration Tests"); one module per
//! surface. Each module owns its own file.

mod batchnorm;
mod check;
mod cli;
mod codegen;
mod data_parallel;
mod durable;
mod early_stopping;
mod ensemble;
mod formulas;
mod fuzz;
mod gradcheck;
mod layers;
mod limits;
mod losses;
mod optimizers;
mod parse;
mod precision;
mod preprocess;
mod search;
mod support;
mod train;
mod ui;
