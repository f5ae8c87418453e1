//! The size limits the checker enforces (documented in `grammar/README.md`). Counts that
//! trainer flags and `--set` can change too come from the one shared table, `netc_limits`.

pub use netc_limits::{BATCH, EPOCHS, Limit, PATIENCE};

/// Largest layer width or input feature count.
pub const MAX_FEATURES: usize = netc_limits::FEATURES.max as usize;

/// Most layers (`dense`, `dropout`, `batchnorm`) in a model: each becomes code of its own in
/// the one generated training step, whose build time grows faster than linearly (layers of
/// 4 units: 50 build in about 45 s, 100 took 3× as long as 50, 200 over 10 minutes).
pub const MAX_LAYERS: usize = 50;

/// Largest model, in trainable parameters.
pub const MAX_PARAMS: usize = netc_limits::MAX_PARAMS as usize;

/// Largest model `newton` accepts: its exact Hessian has params² entries
/// (10,000 params → 10⁸ entries, 400 MB in f32), solved every step.
pub const NEWTON_MAX_PARAMS: usize = 10_000;
