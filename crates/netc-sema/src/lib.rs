//! Checks a parsed `.net` file and lowers it to the fully resolved IR ([`ir::Network`]).
//! Sans-IO: never prints, never reads files.

pub mod ir;
