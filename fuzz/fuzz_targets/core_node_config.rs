//! Fuzzes the node's TOML configuration: parsing and the checks made at start.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_core::fuzzing::node_config(data));
