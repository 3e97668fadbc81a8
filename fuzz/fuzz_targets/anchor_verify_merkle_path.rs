//! Fuzzes the Merkle-path check of anchor commits on real trees and hostile blocks.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_anchor::fuzzing::merkle_path(data));
