//! netc facade.
