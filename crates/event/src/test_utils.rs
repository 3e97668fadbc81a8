//! Proptest strategies for event payloads, events of every kind and EventIDs (feature
//! `test-utils`).

use ceramic_codecs::test_utils::{arb_anchor_proof, arb_ipld};
use ceramic_codecs::{Block, Codec, Ipld};
use ceramic_did::{KeySigner, KeyType, Signer};
use ceramic_streamid::test_utils::{arb_cid, arb_stream_id};
use proptest::prelude::*;

use crate::{
    DataHeader, DataPayload, Event, EventId, EventPayload, InitHeader, InitPayload, Network,
    TimePayload,
};

/// Any network.
pub fn arb_network() -> impl Strategy<Value = Network> {
    prop_oneof![
        Just(Network::Mainnet),
        Just(Network::TestnetClay),
        Just(Network::DevUnstable),
        Just(Network::InMemory),
        any::<u32>().prop_map(Network::Local),
    ]
}

/// Any init header (controller a short DID-like string).
pub fn arb_init_header() -> impl Strategy<Value = InitHeader> {
    (
        "did:key:z[1-9A-Za-z]{1,48}",
        prop::option::of(prop_oneof![Just("model".to_owned()), "[a-z]{0,8}"]),
        arb_stream_id(),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..24)),
        prop::option::of(arb_stream_id()),
        prop::option::of(any::<bool>()),
        prop::option::of(arb_cid()),
    )
        .prop_map(|(controller, sep, model, unique, context, should_index, model_version)| {
            InitHeader { controller, sep, model, unique, context, should_index, model_version }
        })
}

/// Any init payload; `signed` allows content (an unsigned one has none or null).
pub fn arb_init_payload(signed: bool) -> impl Strategy<Value = InitPayload> {
    let data = if signed {
        prop::option::of(arb_ipld()).boxed()
    } else {
        prop_oneof![Just(None), Just(Some(Ipld::Null))].boxed()
    };
    (arb_init_header(), data).prop_map(|(header, data)| InitPayload { header, data })
}

/// Any data payload.
pub fn arb_data_payload() -> impl Strategy<Value = DataPayload> {
    let header = prop::option::of(
        (prop::option::of(any::<bool>()), prop::option::of(arb_cid()))
            .prop_map(|(should_index, model_version)| DataHeader { should_index, model_version }),
    );
    (arb_cid(), arb_cid(), header, prop::option::of(arb_ipld()))
        .prop_map(|(id, prev, header, data)| DataPayload { id, prev, header, data })
}

/// A signer from an arbitrary Ed25519 seed.
pub fn arb_signer() -> impl Strategy<Value = KeySigner> {
    prop::array::uniform32(any::<u8>())
        .prop_map(|seed| KeySigner::from_seed(KeyType::Ed25519, &seed).expect("any 32 bytes"))
}

/// A time event over `prev` whose Merkle path has the given steps: the nodes are built from
/// the leaf up, with arbitrary siblings.
fn time_event(
    id: cid::Cid,
    prev: cid::Cid,
    steps: &[bool],
    siblings: &[cid::Cid],
    proof: &ceramic_codecs::AnchorProof,
) -> Event {
    let mut nodes = Vec::new();
    let mut below = prev;
    for (right, sibling) in steps.iter().zip(siblings).rev() {
        let pair = if *right {
            vec![Ipld::Link(*sibling), Ipld::Link(below)]
        } else {
            vec![Ipld::Link(below), Ipld::Link(*sibling)]
        };
        let block = Block::encode(Codec::DagCbor, &Ipld::List(pair)).expect("small node");
        below = *block.cid();
        nodes.push(block);
    }
    nodes.reverse();
    let path = steps.iter().map(|r| if *r { "1" } else { "0" }).collect::<Vec<_>>().join("/");
    let mut proof = proof.clone();
    proof.root = below;
    let proof_cid = *Block::encode(Codec::DagCbor, &proof).expect("small proof").cid();
    Event::time(TimePayload { id, prev, proof: proof_cid, path }, &proof, nodes)
        .expect("a consistent time event")
}

/// Any event: signed init or data events (did:key), unsigned init events, time events with
/// paths of 0 to 8 steps.
pub fn arb_event() -> impl Strategy<Value = Event> {
    let signed = (
        arb_signer(),
        prop_oneof![
            arb_init_payload(true).prop_map(EventPayload::Init),
            arb_data_payload().prop_map(EventPayload::Data),
        ],
    )
        .prop_filter_map("encodable", |(signer, payload)| Event::sign(&signer, payload).ok());
    let unsigned = arb_init_payload(false)
        .prop_filter_map("encodable", |payload| Event::unsigned_init(payload).ok());
    let time = (
        arb_cid(),
        arb_cid(),
        prop::collection::vec((any::<bool>(), arb_cid()), 0..8),
        arb_anchor_proof(),
    )
        .prop_map(|(id, prev, path, proof)| {
            let (steps, siblings): (Vec<bool>, Vec<cid::Cid>) = path.into_iter().unzip();
            time_event(id, prev, &steps, &siblings, &proof)
        });
    prop_oneof![signed, unsigned, time]
}

/// Any EventID.
pub fn arb_event_id() -> impl Strategy<Value = EventId> {
    (
        arb_network(),
        "[a-z]{0,8}",
        prop::collection::vec(any::<u8>(), 0..40),
        ".{0,40}",
        arb_cid(),
        arb_cid(),
    )
        .prop_map(|(network, sep, value, controller, init, event)| {
            EventId::new(network, &sep, &value, &controller, &init, &event)
        })
}

/// The did:key signer every fixed test uses: Ed25519 seed `[7; 32]`.
pub fn fixed_signer() -> KeySigner {
    KeySigner::from_seed(KeyType::Ed25519, &[7; 32]).expect("a valid seed")
}

/// A signed data event of about `content_len` bytes of content, for benches.
pub fn signed_data_event(content_len: usize) -> Event {
    let signer = fixed_signer();
    let id = *Block::from_data(Codec::DagJose, vec![1]).expect("small").cid();
    let patch = Ipld::List(vec![Ipld::Map(
        [
            ("op".to_owned(), Ipld::String("replace".into())),
            ("path".to_owned(), Ipld::String("/text".into())),
            ("value".to_owned(), Ipld::String("x".repeat(content_len))),
        ]
        .into_iter()
        .collect(),
    )]);
    let payload = DataPayload { id, prev: id, header: None, data: Some(patch) };
    let event = Event::sign(&signer, payload.into()).expect("signs");
    debug_assert_eq!(event.signature().map(|s| s.signer_did()), Some(signer.did()));
    event
}
