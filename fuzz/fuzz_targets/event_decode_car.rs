//! Fuzzes event CAR decoding (`ceramic_event::Event::decode_car`), and that a decoded event
//! re-encodes to a CAR that decodes to the same event.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_event::fuzzing::decode_car(data));
