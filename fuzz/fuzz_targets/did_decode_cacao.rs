//! Fuzzes CACAO decoding and checking (`ceramic_did::fuzzing::decode_cacao`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_did::fuzzing::decode_cacao(data));
