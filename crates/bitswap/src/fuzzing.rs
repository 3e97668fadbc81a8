//! Body of the cargo-fuzz target `bitswap_message`, kept here so that unit tests replay the
//! committed corpus on stable.

use crate::{Message, block_from_prefix};

/// Decodes `data` as one length-prefixed Bitswap message; a success must re-encode to a
/// message that decodes to the same value. Also reads `data` as a block prefix (first byte:
/// prefix length) followed by block bytes, and checks that a rebuilt CID hashes the bytes.
pub fn message(data: &[u8]) {
    if let Ok((msg, _rest)) = Message::decode_frame(data) {
        let frame = msg.encode_frame();
        let (again, rest) = Message::decode_frame(&frame).expect("an encoded message decodes");
        assert!(rest.is_empty());
        assert_eq!(again, msg);
    }
    if let Ok(msg) = Message::decode(data) {
        assert_eq!(Message::decode(&msg.encode()).expect("re-encoded decodes"), msg);
    }
    if let Some((&n, rest)) = data.split_first() {
        let n = usize::from(n).min(rest.len());
        let (prefix, bytes) = rest.split_at(n);
        if let Ok(block) = block_from_prefix(prefix, bytes.to_vec()) {
            assert_eq!(block.data(), bytes);
            assert_eq!(crate::prefix_of(block.cid()), prefix);
            ceramic_codecs::Block::check(block.cid(), bytes).expect("a rebuilt CID checks");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("bitswap_message", super::message)],
        );
    }
}
