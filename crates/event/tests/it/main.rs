//! Integration tests of `ceramic-event`: golden vectors (rust-ceramic's, and the
//! `@ceramic-sdk` ones of `xtask/js-ceramic-sdk`), refusals, and proptest round-trips.

mod props;
mod refusals;
mod rust_ceramic;
mod sdk;

use ceramic_event::Event;

/// The cases of `testdata/<name>`.
pub(crate) fn vectors(name: &str) -> Vec<serde_json::Value> {
    ceramic_streamid::test_utils::load_vectors(env!("CARGO_MANIFEST_DIR"), name)
}

/// Decodes multibase CAR text, panicking with the case name.
pub(crate) fn decode_text(name: &str, text: &str) -> Event {
    Event::decode_multibase(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}
