//! Proptest round-trips: every kind of event through its CAR and its multibase text, and
//! EventIDs through bytes and text.

use ceramic_event::test_utils::{arb_event, arb_event_id};
use ceramic_event::{CarBase, Event, EventId};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn events_round_trip_through_their_car(event in arb_event()) {
        let bytes = event.encode_car().unwrap();
        let decoded = Event::decode_car(&bytes).unwrap();
        prop_assert_eq!(&decoded, &event);
        prop_assert_eq!(decoded.encode_car().unwrap(), bytes);
        for base in [CarBase::Base64, CarBase::Base64Url] {
            let text = event.encode_multibase(base).unwrap();
            prop_assert_eq!(&Event::decode_multibase(&text).unwrap(), &event);
        }
        // The commit the engine sees is the payload block (unsigned: the event block).
        let block = event.payload_block().unwrap_or(event.event_block());
        prop_assert_eq!(ceramic_codecs::Payload::decode(block.data()).unwrap(), event.commit());
    }

    #[test]
    fn event_ids_round_trip_through_bytes_and_text(id in arb_event_id()) {
        prop_assert_eq!(&EventId::from_bytes(id.as_bytes()).unwrap(), &id);
        prop_assert_eq!(&id.to_hex().parse::<EventId>().unwrap(), &id);
        prop_assert_eq!(&id.to_multibase().parse::<EventId>().unwrap(), &id);
        prop_assert_eq!(&id.to_string().parse::<EventId>().unwrap(), &id);
    }

    #[test]
    fn event_ids_sort_by_network_first(a in arb_event_id(), b in arb_event_id()) {
        if a.network_id() < b.network_id() && a.network_id() < 0x80 && b.network_id() < 0x80 {
            prop_assert!(a < b);
        }
    }
}
