//! Fuzzes did:key parsing (`ceramic_did::fuzzing::parse_did_key`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_did::fuzzing::parse_did_key(data));
