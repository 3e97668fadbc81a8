//! Proptest strategies for the pubsub messages (feature `test-utils`).

use ceramic_streamid::test_utils::{arb_cid, arb_stream_id};
use proptest::prelude::*;

use crate::message::{Keepalive, Message, Query, Response, Update};

/// Any valid pubsub message.
pub fn arb_message() -> impl Strategy<Value = Message> {
    let text = "[ -~]{0,40}";
    prop_oneof![
        (arb_stream_id(), arb_cid(), proptest::option::of(arb_stream_id()))
            .prop_map(|(stream, tip, model)| Message::Update(Update { stream, tip, model })),
        (text, arb_stream_id()).prop_map(|(id, stream)| Message::Query(Query { id, stream })),
        (text, proptest::collection::btree_map(arb_stream_id(), arb_cid(), 0..4))
            .prop_map(|(id, tips)| Message::Response(Response { id, tips })),
        (any::<u64>(), text, text).prop_map(|(ts, ver, ipfs_ver)| {
            Message::Keepalive(Keepalive { ts: ts >> 12, ver, ipfs_ver })
        }),
    ]
}
