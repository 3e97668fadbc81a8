//! Fuzzes CAR v1 reading, and that a written CAR reads back to the same value.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_codecs::fuzzing::read_car_bytes(data));
