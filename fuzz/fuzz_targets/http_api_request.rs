//! Fuzzes the HTTP API's request bodies (create, apply, multiquery) and serialized commits
//! (JSON → blocks), and their round trip back to JSON.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_http_api::fuzzing::request(data));
