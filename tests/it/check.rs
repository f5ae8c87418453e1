//! check tests.
