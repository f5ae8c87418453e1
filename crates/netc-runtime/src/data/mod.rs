//! Loading, splitting and batching training data.

mod alloc;
mod batcher;
mod csv;
mod dataset;
mod idx;
mod origin;
mod split;

pub use crate::features::{FeatureView, Features};
pub use batcher::Batcher;
pub use csv::{load_csv, load_csv_features, load_csv_targets};
pub use dataset::Dataset;
pub use idx::{load_idx, load_idx_features};
pub use origin::Origin;
pub use split::{Splits, load_source, load_splits, resolve_path};
