//! Fuzzes the model definition parser, from JSON text and from dag-cbor (`ceramic_doctype_model::fuzzing::model_definition_parse`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ceramic_doctype_model::fuzzing::model_definition_parse(data));
