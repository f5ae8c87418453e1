//! IR to Rust tokens.
