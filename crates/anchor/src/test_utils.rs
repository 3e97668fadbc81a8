//! Proptest strategies for leaves and requests, for this crate's tests and other crates'.

use ceramic_codecs::{Cid, Codec};
use cid::multihash::Multihash;
use proptest::prelude::*;

use crate::Request;

/// A CIDv1 with a random sha2-256 digest, dag-cbor or dag-jose (the codecs of commits).
pub fn arb_cid() -> impl Strategy<Value = Cid> {
    let codec = prop_oneof![Just(Codec::DagCbor.code()), Just(Codec::DagJose.code())];
    (codec, any::<[u8; 32]>()).prop_map(|(codec, digest)| {
        let hash = Multihash::<64>::wrap(0x12, &digest).expect("32 bytes fit");
        Cid::new_v1(codec, hash)
    })
}

/// Between 1 and `max` distinct leaves, in no particular order.
pub fn arb_leaves(max: usize) -> impl Strategy<Value = Vec<Cid>> {
    proptest::collection::hash_set(arb_cid(), 1..=max.max(1))
        .prop_map(|set| set.into_iter().collect())
}

/// Between 1 and `max` requests with distinct tips.
pub fn arb_requests(max: usize) -> impl Strategy<Value = Vec<Request>> {
    arb_leaves(max).prop_flat_map(|tips| {
        let n = tips.len();
        (Just(tips), proptest::collection::vec(arb_cid(), n)).prop_map(|(tips, geneses)| {
            tips.into_iter().zip(geneses).map(|(tip, genesis)| Request { genesis, tip }).collect()
        })
    })
}
