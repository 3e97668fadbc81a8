//! Fuzzes dag-jose envelope decoding, and its byte-exact re-encoding.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_codecs::fuzzing::decode_envelope(data));
