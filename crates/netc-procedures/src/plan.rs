//! What a trainer runs around [`netc_runtime::fit`], from the spec's `search` and `ensemble` blocks.
//! Generated beside the model (`plan()`), like its `run_config()`: run policy, not part of the
//! model's contract ([`netc_runtime::Network`]).

use netc_runtime::ensemble::EnsembleConfig;

use crate::search::SearchConfig;

/// The procedures a spec asks for; `Default`: one training run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Plan {
    /// Random search before training ([`crate::search::train_model`]).
    pub search: Option<SearchConfig>,
    /// Bagging: that many models trained and kept together ([`crate::bagging::train_ensemble`]).
    pub ensemble: Option<EnsembleConfig>,
}
