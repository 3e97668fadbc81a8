//! Proptest strategies for IPLD values, commits and envelopes (feature `test-utils`).

use std::collections::BTreeMap;

use ceramic_streamid::test_utils::arb_cid;
use proptest::prelude::*;
use serde_bytes::ByteBuf;

use crate::{
    AnchorCommit, AnchorProof, DataCommit, Envelope, GenesisCommit, Header, Ipld, Payload,
    Signature, Unique,
};

/// Any IPLD value dag-cbor can hold (finite floats, integers in the 64-bit ranges), nested up to
/// a few levels.
pub fn arb_ipld() -> impl Strategy<Value = Ipld> {
    let leaf = prop_oneof![
        Just(Ipld::Null),
        any::<bool>().prop_map(Ipld::Bool),
        any::<i64>().prop_map(|n| Ipld::Integer(n.into())),
        any::<u64>().prop_map(|n| Ipld::Integer(n.into())),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Ipld::Float),
        ".{0,12}".prop_map(Ipld::String),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(Ipld::Bytes),
        arb_cid().prop_map(Ipld::Link),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Ipld::List),
            prop::collection::btree_map(".{0,8}", inner, 0..6).prop_map(Ipld::Map),
        ]
    })
}

/// JSON-like content (what a Tile holds): maps, lists, strings, integers, bools, null.
pub fn arb_json_ipld() -> impl Strategy<Value = Ipld> {
    let leaf = prop_oneof![
        Just(Ipld::Null),
        any::<bool>().prop_map(Ipld::Bool),
        any::<i32>().prop_map(|n| Ipld::Integer(n.into())),
        "[a-z ]{0,12}".prop_map(Ipld::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Ipld::List),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..5).prop_map(Ipld::Map),
        ]
    })
}

fn arb_did() -> impl Strategy<Value = String> {
    "did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44}"
}

/// Any header, fields present or not.
pub fn arb_header() -> impl Strategy<Value = Header> {
    (
        prop::option::of(prop::collection::vec(arb_did(), 0..3)),
        prop::option::of("[a-z0-9-]{0,10}"),
        prop::option::of("k[0-9a-z]{10}"),
        prop::option::of(prop::collection::vec("[a-z]{1,5}", 0..3)),
        prop::option::of(prop_oneof![
            "[A-Za-z0-9+/]{16}".prop_map(Unique::Text),
            prop::collection::vec(any::<u8>(), 0..13).prop_map(Unique::Bytes)
        ]),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..40).prop_map(ByteBuf::from)),
        prop::option::of(Just("model".to_string())),
        prop::option::of(any::<bool>()),
        prop::option::of(arb_cid()),
    )
        .prop_map(
            |(
                controllers,
                family,
                schema,
                tags,
                unique,
                forbid,
                model,
                sep,
                should_index,
                model_version,
            )| {
                Header {
                    controllers,
                    family,
                    schema,
                    tags,
                    unique,
                    forbid_controller_change: forbid,
                    model,
                    sep,
                    context: None,
                    should_index,
                    model_version,
                }
            },
        )
}

/// Any genesis commit.
pub fn arb_genesis() -> impl Strategy<Value = GenesisCommit> {
    (arb_header(), prop::option::of(arb_ipld()))
        .prop_map(|(header, data)| GenesisCommit { header, data })
}

/// Any data commit.
pub fn arb_data_commit() -> impl Strategy<Value = DataCommit> {
    (arb_cid(), arb_cid(), prop::option::of(arb_header()), prop::option::of(arb_ipld()))
        .prop_map(|(id, prev, header, data)| DataCommit { id, prev, header, data })
}

/// A Merkle path such as `"0/1/1"` (possibly empty).
pub fn arb_path() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof![Just("0"), Just("1")], 0..24)
        .prop_map(|steps| steps.join("/"))
}

/// Any anchor commit.
pub fn arb_anchor_commit() -> impl Strategy<Value = AnchorCommit> {
    (prop::option::of(arb_cid()), arb_cid(), arb_cid(), arb_path())
        .prop_map(|(id, prev, proof, path)| AnchorCommit { id, prev, proof, path })
}

/// Any anchor proof.
pub fn arb_anchor_proof() -> impl Strategy<Value = AnchorProof> {
    (
        "eip155:[0-9]{1,8}",
        arb_cid(),
        arb_cid(),
        prop::option::of(prop_oneof![Just("f(bytes32)".to_string()), Just("raw".to_string())]),
    )
        .prop_map(|(chain_id, root, tx_hash, tx_type)| AnchorProof {
            chain_id,
            root,
            tx_hash,
            tx_type,
        })
}

/// Any payload of any kind.
pub fn arb_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        arb_genesis().prop_map(Payload::Genesis),
        arb_data_commit().prop_map(Payload::Data),
        arb_anchor_commit().prop_map(Payload::Anchor),
    ]
}

/// Any envelope with one to three signatures.
pub fn arb_envelope() -> impl Strategy<Value = Envelope> {
    let signature = (
        prop::option::of(prop::collection::btree_map("[a-z]{1,4}", arb_json_ipld(), 0..3)),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..120).prop_map(ByteBuf::from)),
        prop::collection::vec(any::<u8>(), 0..72).prop_map(ByteBuf::from),
    )
        .prop_map(|(header, protected, signature): (Option<BTreeMap<String, Ipld>>, _, _)| {
            Signature { header, protected, signature }
        });
    (arb_cid(), prop::collection::vec(signature, 1..4)).prop_map(|(link, signatures)| {
        Envelope::new(link, signatures).expect("at least one signature")
    })
}
