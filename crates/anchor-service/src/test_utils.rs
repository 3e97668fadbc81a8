//! Proptest strategies for request records.

use ceramic_streamid::test_utils::{arb_cid, arb_stream_id};
use proptest::prelude::*;

use crate::{RequestRecord, Status};

/// Any status.
pub fn arb_status() -> impl Strategy<Value = Status> {
    proptest::sample::select(Status::ALL.to_vec())
}

/// Any request record, with or without an anchor commit and witness CAR.
pub fn arb_record() -> impl Strategy<Value = RequestRecord> {
    (
        arb_cid(),
        arb_stream_id(),
        arb_status(),
        ".{0,40}",
        any::<[u64; 3]>(),
        proptest::option::of(arb_cid()),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
    )
        .prop_map(
            |(cid, stream_id, status, message, [t, c, u], anchor_commit, witness_car)| {
                RequestRecord {
                    cid,
                    stream_id,
                    status,
                    message,
                    timestamp: t,
                    created_at: c,
                    updated_at: u,
                    anchor_commit,
                    witness_car,
                }
            },
        )
}
