//! Fuzzes the verdict a hook (untrusted WebAssembly) answers, and its round trip.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_hooks::fuzzing::verdict(data));
