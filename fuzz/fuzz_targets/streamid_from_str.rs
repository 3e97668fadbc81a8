//! Fuzzes stream reference parsing from strings (ids, URLs, `?commit=`), and its round trips.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_streamid::fuzzing::from_str(data));
