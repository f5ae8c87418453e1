//! The net! macro.
