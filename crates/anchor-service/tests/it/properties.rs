//! Properties of the stored request record.

use ceramic_anchor_service::RequestRecord;
use ceramic_anchor_service::test_utils::arb_record;
use proptest::prelude::*;

proptest! {
    #[test]
    fn a_record_decodes_to_what_was_encoded(record in arb_record()) {
        let bytes = record.encode();
        prop_assert_eq!(RequestRecord::decode(b"key", &bytes).unwrap(), record);
    }

    #[test]
    fn truncated_or_flipped_records_never_panic(record in arb_record(), cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), bit in 0u8..8) {
        let bytes = record.encode();
        let _ = RequestRecord::decode(b"key", &bytes[..cut.index(bytes.len())]);
        let mut flipped = bytes.clone();
        let at = flip.index(flipped.len());
        flipped[at] ^= 1 << bit;
        if let Ok(decoded) = RequestRecord::decode(b"key", &flipped) {
            // A flip that still decodes re-encodes to a record that decodes to itself.
            prop_assert_eq!(RequestRecord::decode(b"key", &decoded.encode()).unwrap(), decoded);
        }
    }
}
