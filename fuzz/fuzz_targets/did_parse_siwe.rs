//! Fuzzes the SIWE / CAIP-122 message parser (`ceramic_did::fuzzing::parse_siwe`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_did::fuzzing::parse_siwe(data));
