//! Properties: print∘parse = id for bytes and strings; parsers never panic on damaged input.

use ceramic_streamid::test_utils::{arb_commit_id, arb_stream_id, arb_stream_ref};
use ceramic_streamid::{CommitId, StreamId, StreamRef};
use proptest::prelude::*;

proptest! {
    #[test]
    fn stream_id_string_and_bytes_round_trip(id in arb_stream_id()) {
        prop_assert_eq!(id.to_string().parse::<StreamId>(), Ok(id));
        prop_assert_eq!(StreamId::from_bytes(&id.to_bytes()), Ok(id));
        prop_assert_eq!(id.to_url().parse::<StreamId>(), Ok(id));
        prop_assert_eq!(format!("/ceramic/{id}").parse::<StreamId>(), Ok(id));
        prop_assert!(id.to_string().parse::<CommitId>().is_err());
    }

    #[test]
    fn commit_id_string_and_bytes_round_trip(id in arb_commit_id()) {
        prop_assert_eq!(id.to_string().parse::<CommitId>(), Ok(id));
        prop_assert_eq!(CommitId::from_bytes(&id.to_bytes()), Ok(id));
        prop_assert_eq!(id.to_url().parse::<CommitId>(), Ok(id));
        let query = format!("{}?commit={}", id.stream_id(), if id.is_genesis() { "0".to_string() } else { id.commit().to_string() });
        prop_assert_eq!(query.parse::<CommitId>(), Ok(id));
        prop_assert!(id.to_string().parse::<StreamId>().is_err());
    }

    #[test]
    fn truncated_or_bit_flipped_bytes_never_panic(id in arb_stream_ref(), cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), bit in 0u8..8) {
        let bytes = id.to_bytes();
        let cut = cut.index(bytes.len());
        // A strict prefix never parses to the same id (a CommitID's prefix may be its StreamID).
        if let Ok(prefix) = StreamRef::from_bytes(&bytes[..cut]) {
            prop_assert!(matches!(id, StreamRef::Commit(c) if StreamRef::Stream(c.stream_id()) == prefix), "prefix parsed to {prefix:?}");
        }
        let mut flipped = bytes.clone();
        let at = flip.index(flipped.len());
        flipped[at] ^= 1 << bit;
        if let Ok(parsed) = StreamRef::from_bytes(&flipped) {
            // Whatever parses must re-encode to something that parses to itself.
            prop_assert_eq!(StreamRef::from_bytes(&parsed.to_bytes()), Ok(parsed));
        }
    }

    #[test]
    fn damaged_strings_never_panic(id in arb_stream_ref(), cut in any::<prop::sample::Index>(), replace in any::<prop::sample::Index>(), ch in any::<char>()) {
        let text = id.to_string();
        let cut = cut.index(text.len());
        let _ = text[..cut].parse::<StreamRef>();
        let mut chars: Vec<char> = text.chars().collect();
        let at = replace.index(chars.len());
        chars[at] = ch;
        let damaged: String = chars.into_iter().collect();
        if let Ok(parsed) = damaged.parse::<StreamRef>() {
            prop_assert_eq!(parsed.to_string().parse::<StreamRef>(), Ok(parsed));
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        let _ = StreamRef::from_bytes(&bytes);
        let mut prefixed = vec![0xce, 0x01];
        prefixed.extend_from_slice(&bytes);
        let _ = StreamRef::from_bytes(&prefixed);
    }
}
