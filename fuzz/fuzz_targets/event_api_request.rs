//! Fuzzes the `/ceramic` API's request parsing: query strings (feed parameters, resume
//! tokens), the `POST /events` body (multibase, CAR, the event in it), interests and ids.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_event_api::fuzzing::request(data));
