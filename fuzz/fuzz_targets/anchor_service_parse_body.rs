//! Fuzzes anchor request bodies, JSON and CAR (`ceramic_anchor_service::fuzzing::parse_body`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_anchor_service::fuzzing::parse_body(data));
