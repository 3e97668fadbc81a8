//! Fuzzes CAIP-10 link-proof reading and EIP-191 verification (`ceramic_doctype_caip10::fuzzing::link_proof`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_doctype_caip10::fuzzing::link_proof(data));
