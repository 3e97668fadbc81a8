//! Fuzzes the node-to-node block protocol (`/ceramic-rs/blocks/1.0.0`): requests served from a
//! store and peers' responses checked, through the wire codec.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_net::fuzzing::block_protocol(data));
