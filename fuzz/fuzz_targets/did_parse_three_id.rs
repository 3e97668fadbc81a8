//! Fuzzes did:3 DID URL / `kid` parsing and 3ID document building
//! (`ceramic_did::fuzzing::parse_three_id`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_did::fuzzing::parse_three_id(data));
