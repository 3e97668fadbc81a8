//! Fuzzes StreamID/CommitID parsing from bytes, and its byte and string round trips.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_streamid::fuzzing::from_bytes(data));
