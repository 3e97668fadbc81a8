//! Properties of the message codec.

use ceramic_bitswap::{Message, test_utils};
use proptest::prelude::*;

proptest! {
    #[test]
    fn decode_inverts_encode(msg in test_utils::message()) {
        prop_assert_eq!(Message::decode(&msg.encode()).unwrap(), msg.clone());
        let frame = msg.encode_frame();
        let (again, rest) = Message::decode_frame(&frame).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(again, msg);
    }

    #[test]
    fn split_frames_carry_everything(msg in test_utils::message()) {
        let mut blocks = Vec::new();
        let frames = msg.encode_frames();
        for (i, frame) in frames.iter().enumerate() {
            let (m, _) = Message::decode_frame(frame).unwrap();
            if i == 0 {
                prop_assert_eq!(&m.wants, &msg.wants);
                prop_assert_eq!(&m.presences, &msg.presences);
            }
            blocks.extend(m.blocks);
        }
        prop_assert_eq!(blocks, msg.blocks);
    }

    #[test]
    fn truncated_or_flipped_frames_never_panic(
        msg in test_utils::message(),
        cut in any::<prop::sample::Index>(),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let frame = msg.encode_frame();
        let _ = Message::decode_frame(&frame[..cut.index(frame.len())]);
        let mut flipped = frame.clone();
        let at = flip.index(flipped.len());
        flipped[at] ^= 1 << bit;
        let _ = Message::decode_frame(&flipped);
        ceramic_bitswap::fuzzing::message(&flipped);
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Message::decode(&bytes);
        ceramic_bitswap::fuzzing::message(&bytes);
    }
}
