//! Properties: print∘parse = id for bytes and strings; parsers never panic on damaged input.

use ceramic_streamid::test_utils::{arb_cid, arb_commit_id, arb_stream_id, arb_stream_ref};
use ceramic_streamid::{
    CommitId, Error, MAX_CID_TEXT_LEN, MAX_ID_BYTES, MAX_ID_TEXT_LEN, MAX_REF_TEXT_LEN, StreamId,
    StreamRef, cid_from_str,
};
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

    #[test]
    fn every_valid_id_is_within_the_limits_and_round_trips(id in arb_stream_ref(), cid in arb_cid()) {
        let bytes = id.to_bytes();
        let text = id.to_string();
        prop_assert!(bytes.len() <= MAX_ID_BYTES);
        prop_assert!(text.len() <= MAX_ID_TEXT_LEN);
        prop_assert!(id.stream_id().to_url().len() + "?commit=".len() + MAX_CID_TEXT_LEN <= MAX_REF_TEXT_LEN);
        prop_assert_eq!(StreamRef::from_bytes(&bytes), Ok(id));
        prop_assert_eq!(text.parse::<StreamRef>(), Ok(id));
        prop_assert_eq!(format!("ceramic://{text}").parse::<StreamRef>(), Ok(id));
        let cid_text = cid.to_string();
        prop_assert!(cid_text.len() <= MAX_CID_TEXT_LEN);
        prop_assert_eq!(cid_from_str(&cid_text), Ok(cid));
    }

    #[test]
    fn any_text_never_panics_and_text_over_the_limit_is_too_long(
        text in prop_oneof![
            ".{0,600}",
            "k[0-9a-z]{0,600}",
            "(ceramic://)?k[0-9a-z]{0,300}(\\?commit=[bz][0-9a-zA-Z]{0,200})?",
        ],
    ) {
        let parsed = text.parse::<StreamRef>();
        if text.len() > MAX_REF_TEXT_LEN {
            prop_assert!(matches!(parsed, Err(Error::TooLong { .. })), "{parsed:?}");
        }
        if let Ok(id) = parsed {
            prop_assert_eq!(id.to_string().parse::<StreamRef>(), Ok(id));
        }
        let cid = cid_from_str(&text);
        if text.len() > MAX_CID_TEXT_LEN {
            prop_assert!(matches!(cid, Err(Error::TooLong { .. })), "{cid:?}");
        }
    }

    #[test]
    fn any_bytes_never_panic_and_bytes_over_the_limit_are_too_long(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let parsed = StreamRef::from_bytes(&bytes);
        if bytes.len() > MAX_ID_BYTES {
            prop_assert!(matches!(parsed, Err(Error::TooLong { .. })), "{parsed:?}");
        }
        if let Ok(id) = parsed {
            prop_assert_eq!(StreamRef::from_bytes(&id.to_bytes()), Ok(id));
        }
    }
}
