//! Integration tests: two Rust nodes, a hand-driven raw peer, the helia interop test, and the
//! codec properties.

mod harness;
mod helia;
mod properties;
mod raw_peer;
mod rust_rust;
mod vectors;
