//! Fuzzes Ceramic pubsub message parsing, and that a parsed message re-encodes to the same value.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_net::fuzzing::pubsub_message(data));
