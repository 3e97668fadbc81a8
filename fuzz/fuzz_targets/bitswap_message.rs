//! Fuzzes Bitswap message decoding (length-prefixed frames and bare bodies), that a decoded
//! message re-encodes to the same value, and block prefix -> CID reconstruction.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_bitswap::fuzzing::message(data));
