//! codegen tests.
