//! Integration tests of `ceramic-anchor` through its public API: the rust-ceramic anchor
//! vectors, tree shapes, properties, and an anchor applied through the engine.

mod engine;
mod properties;
mod tree;
mod vectors;
