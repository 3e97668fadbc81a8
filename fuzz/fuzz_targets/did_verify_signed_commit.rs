//! Fuzzes protected-header parsing and signed-commit verification (`ceramic_did::fuzzing::verify_signed_commit`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_did::fuzzing::verify_signed_commit(data));
