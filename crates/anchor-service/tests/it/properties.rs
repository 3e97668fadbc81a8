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

/// An operation on the service, for the model test.
#[derive(Debug, Clone)]
enum Step {
    /// A request for a new commit of stream `stream` with client time `timestamp`.
    Request { stream: u8, timestamp: u64 },
    /// A repeat of an earlier request (by index, modulo the number made).
    Repeat(usize),
    /// The manual trigger.
    Trigger,
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..4, 0u64..6).prop_map(|(stream, timestamp)| Step::Request { stream, timestamp }),
        1 => any::<usize>().prop_map(Step::Repeat),
        1 => Just(Step::Trigger),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The service matches a model of replacement and batching: per stream one PENDING
    /// request, the newest by client timestamp (a newcomer wins ties); a trigger completes
    /// exactly the PENDING requests; a repeat changes nothing.
    #[test]
    fn requests_and_batches_follow_the_model(steps in proptest::collection::vec(arb_step(), 1..40)) {
        use ceramic_anchor_service::{Policy, Status};
        use std::collections::HashMap;
        let f = crate::fixture(Policy::default());
        let mut made: Vec<(u8, u8, u64)> = Vec::new(); // (stream, commit, timestamp)
        let mut status: HashMap<(u8, u8), Status> = HashMap::new();
        let mut pending: HashMap<u8, (u64, u8)> = HashMap::new(); // stream → (timestamp, commit)
        let mut height = 0;
        for step in steps {
            match step {
                Step::Request { stream, timestamp } => {
                    let m = u8::try_from(made.len()).unwrap();
                    let submitted = f.cas.request(&crate::new_request(stream, m, Some(timestamp))).unwrap();
                    prop_assert!(submitted.created);
                    made.push((stream, m, timestamp));
                    match pending.get(&stream).copied() {
                        Some((old_ts, _)) if old_ts > timestamp => {
                            status.insert((stream, m), Status::Replaced);
                        }
                        old => {
                            if let Some((_, old_m)) = old {
                                status.insert((stream, old_m), Status::Replaced);
                            }
                            pending.insert(stream, (timestamp, m));
                            status.insert((stream, m), Status::Pending);
                        }
                    }
                }
                Step::Repeat(i) if !made.is_empty() => {
                    let (stream, m, _) = made[i % made.len()];
                    let before = f.cas.get(&crate::commit(stream, m)).unwrap().unwrap();
                    let again = f.cas.request(&crate::new_request(stream, m, Some(99))).unwrap();
                    prop_assert!(!again.created);
                    prop_assert_eq!(again.record, before);
                }
                Step::Repeat(_) => {}
                Step::Trigger => {
                    let outcome = f.cas.trigger().unwrap();
                    prop_assert_eq!(outcome.as_ref().map_or(0, |o| o.requests.len()), pending.len());
                    if outcome.is_some() {
                        height += 1;
                    }
                    for (stream, (_, m)) in pending.drain() {
                        status.insert((stream, m), Status::Completed);
                    }
                }
            }
            for (&(stream, m), expected) in &status {
                let record = f.cas.get(&crate::commit(stream, m)).unwrap().unwrap();
                prop_assert_eq!(record.status, *expected, "stream {} commit {}", stream, m);
            }
            prop_assert_eq!(f.chain.height(), height);
        }
    }
}
