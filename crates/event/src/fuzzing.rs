//! Body of the cargo-fuzz target `fuzz/fuzz_targets/event_decode_car.rs`, kept here so that
//! unit tests replay the committed corpus on stable.

use crate::Event;

/// Decodes an event CAR; a success must re-encode to a CAR that decodes to the same event, and
/// whose encoding is stable.
pub fn decode_car(data: &[u8]) {
    if let Ok(event) = Event::decode_car(data) {
        let bytes = event.encode_car().expect("a decoded event encodes");
        let again = Event::decode_car(&bytes).expect("an encoded event decodes");
        assert_eq!(again, event);
        assert_eq!(again.encode_car().expect("encodes"), bytes);
        assert!(event.blocks().iter().any(|b| b.cid() == event.cid()));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("event_decode_car", super::decode_car)],
        );
    }
}
