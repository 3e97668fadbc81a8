//! Fuzzes the query strings of the HTTP API's `/api/v0` loads, and their round trip.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_http_api::fuzzing::query(data));
