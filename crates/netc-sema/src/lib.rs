//! Checks a parsed `.net` file and lowers it to the fully resolved IR ([`ir::Network`]).
//! Sans-IO: never prints, never reads files.
//!
//! One pass per concern: `model.rs` (names, shapes, parameter and FLOP counts), `data.rs`,
//! `train.rs`, `search.rs` (search and ensemble), all reading arguments through `args.rs`
//! and reporting into one [`ctx::Ctx`], so every semantic error is collected, not just the
//! first. `summary.rs` prints the result for people and snapshots.

mod args;
mod consistency;
mod ctx;
mod data;
pub mod ir;
mod items;
mod limits;
pub mod memory;
mod model;
mod names;
mod precision;
mod search;
mod spec;
mod summary;
#[cfg(test)]
mod tests;
mod train;

use netc_syntax::{Diagnostic, SourceFile, ast};

pub use limits::{MAX_FEATURES, MAX_LAYERS, MAX_PARAMS, NEWTON_MAX_PARAMS};
pub use summary::summary;

/// Checks one parsed file and lowers it to the IR, or returns every error found (sorted by
/// position, at most 50). The AST already carries its spans, so `src` is not read today; it
/// keeps the stage signature uniform for checks that may want the text.
pub fn analyze(src: &SourceFile, file: &ast::File) -> Result<ir::Network, Vec<Diagnostic>> {
    let _unused_for_now = src;
    spec::analyze(file)
}

/// Parses and checks: the one call the CLI and the macro need.
pub fn check(src: &SourceFile) -> Result<ir::Network, Vec<Diagnostic>> {
    let file = netc_syntax::parse(src).map_err(|diagnostic| vec![diagnostic])?;
    analyze(src, &file)
}
