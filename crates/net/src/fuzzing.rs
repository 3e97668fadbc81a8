//! Bodies of the cargo-fuzz targets (`fuzz/fuzz_targets/net_*.rs`), kept here so that unit tests
//! replay the committed corpus on stable.

use crate::message::Message;

/// Parses a pubsub message; a success must re-encode to bytes that parse to the same message.
pub fn pubsub_message(data: &[u8]) {
    if let Ok(message) = Message::decode(data) {
        let again = Message::decode(&message.encode()).expect("an encoded message parses");
        assert_eq!(again, message);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("net_pubsub_message", super::pubsub_message)],
        );
    }
}
