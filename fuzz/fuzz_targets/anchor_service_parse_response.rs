//! Fuzzes a remote CAS's answers as a node reads them (`ceramic_anchor_service::fuzzing::parse_response`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_anchor_service::fuzzing::parse_response(data));
