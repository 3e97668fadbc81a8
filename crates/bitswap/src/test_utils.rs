//! Proptest strategies for Bitswap messages.

use ceramic_codecs::{Block, Cid, cid_of};
use proptest::prelude::*;

use crate::{Message, Presence, Want, WantType};

/// A CIDv1 sha2-256 of some codec.
pub fn cid() -> impl Strategy<Value = Cid> {
    (prop_oneof![Just(0x71u64), Just(0x85), Just(0x55), Just(0x70)], any::<Vec<u8>>())
        .prop_map(|(codec, bytes)| cid_of(codec, &bytes))
}

/// A dag-cbor (or raw) block of up to 2 KiB.
pub fn block() -> impl Strategy<Value = Block> {
    (prop_oneof![Just(0x71u64), Just(0x55)], proptest::collection::vec(any::<u8>(), 0..2048))
        .prop_map(|(codec, data)| {
            Block::new(cid_of(codec, &data), data).expect("a fresh sha2-256 CID checks")
        })
}

/// A wantlist entry.
pub fn want() -> impl Strategy<Value = Want> {
    (cid(), any::<i32>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(cid, priority, cancel, have, send_dont_have)| Want {
            cid,
            priority,
            cancel,
            want_type: if have { WantType::Have } else { WantType::Block },
            send_dont_have,
        },
    )
}

/// A message with everything in it.
pub fn message() -> impl Strategy<Value = Message> {
    (
        proptest::collection::vec(want(), 0..8),
        any::<bool>(),
        proptest::collection::vec(block(), 0..4),
        proptest::collection::vec((cid(), any::<bool>()), 0..8),
        any::<i32>(),
    )
        .prop_map(|(wants, full, blocks, presences, pending_bytes)| Message {
            wants,
            full,
            blocks,
            presences: presences.into_iter().map(|(cid, have)| Presence { cid, have }).collect(),
            pending_bytes,
        })
}
