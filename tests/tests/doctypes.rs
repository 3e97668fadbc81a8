//! Doctypes written against the SDK alone, run by the engine on the in-memory store: the
//! example third-party counter (stream type 1000) and the CAIP-10 account link.

use std::collections::BTreeMap;
use std::sync::Arc;

use ceramic_codecs::{Block, Codec, DataCommit, GenesisCommit, Header, Ipld, Payload};
use ceramic_did::{KeySigner, KeyType, Signer, sign_commit};
use ceramic_doctype::Registry;
use ceramic_doctype_caip10::{Caip10Link, LinkProof, genesis_for_account};
use ceramic_doctype_counter::{Counter, STREAM_TYPE as COUNTER};
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_engine::{ApplyError, Engine};
use ceramic_storage::MemoryStorage;
use ceramic_streamid::{StreamId, StreamType};
use serde_json::json;

fn engine() -> Engine {
    let registry = Registry::new().with(Counter).unwrap().with(Caip10Link).unwrap();
    Engine::new(
        Arc::new(MemoryStorage::new()),
        registry,
        Arc::new(FakeAnchorVerifier::default()),
        Arc::new(RecordingPublisher::default()),
    )
}

fn signed(signer: &KeySigner, payload: Payload) -> (ceramic_codecs::Cid, Vec<Block>) {
    let c = sign_commit(signer, &payload).unwrap();
    (*c.envelope_block().cid(), vec![c.envelope_block().clone(), c.payload_block().clone()])
}

#[test]
fn the_example_third_party_doctype_runs_in_the_engine() {
    let engine = engine();
    let alice = KeySigner::from_seed(KeyType::Ed25519, &[1; 32]).unwrap();
    let genesis = GenesisCommit {
        header: Header { controllers: Some(vec![alice.did().into()]), ..Header::default() },
        data: None,
    };
    let (g, blocks) = signed(&alice, genesis.into());
    engine.apply_commit(COUNTER, g, &blocks).unwrap();
    let stream = StreamId::new(COUNTER, g).unwrap();
    let mut tip = g;
    for k in [5, 7] {
        let add = Ipld::Map(BTreeMap::from([("add".to_string(), Ipld::Integer(k))]));
        let update = DataCommit { id: g, prev: tip, header: None, data: Some(add) };
        let (cid, blocks) = signed(&alice, update.into());
        engine.apply_commit(COUNTER, cid, &blocks).unwrap();
        tip = cid;
    }
    assert_eq!(engine.load(&stream).unwrap().current_content(), &json!({"count": 12}));

    // Someone else's update is refused by the doctype's own rule, and nothing changes.
    let mallory = KeySigner::from_seed(KeyType::Ed25519, &[2; 32]).unwrap();
    let add = Ipld::Map(BTreeMap::from([("add".to_string(), Ipld::Integer(1))]));
    let (cid, blocks) =
        signed(&mallory, DataCommit { id: g, prev: tip, header: None, data: Some(add) }.into());
    let err = engine.apply_commit(COUNTER, cid, &blocks).unwrap_err();
    let ApplyError::Rejected { source, .. } = &err else { panic!("{err}") };
    assert_eq!(source.doctype(), "counter", "{err}");
    assert!(source.downcast_ref::<ceramic_doctype_counter::Error>().is_some(), "{err}");
    assert_eq!(engine.load(&stream).unwrap().tip(), tip);
}

#[test]
fn a_caip10_link_runs_in_the_engine() {
    let engine = engine();
    let key = ceramic_doctype_caip10::test_utils::key(7);
    let account = ceramic_doctype_caip10::test_utils::account_of(7, 1);
    let genesis =
        Block::encode(Codec::DagCbor, &Payload::Genesis(genesis_for_account(&account).unwrap()))
            .unwrap();
    let state = engine
        .apply_commit(StreamType::CAIP10_LINK, *genesis.cid(), std::slice::from_ref(&genesis))
        .unwrap();
    let stream = state.stream_id();

    let did = "did:key:z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd";
    let proof = LinkProof::sign_eoa(&key, did, 1, 1_700_000_000);
    let link = DataCommit {
        id: *genesis.cid(),
        prev: *genesis.cid(),
        header: None,
        data: Some(proof.to_ipld()),
    };
    let link = Block::encode(Codec::DagCbor, &Payload::Data(link)).unwrap();
    let state = engine
        .apply_commit(StreamType::CAIP10_LINK, *link.cid(), std::slice::from_ref(&link))
        .unwrap();
    assert_eq!(state.current_content(), &json!(did));

    // A proof signed by another account's key is refused.
    let forged =
        LinkProof::sign_eoa(&ceramic_doctype_caip10::test_utils::key(8), did, 1, 1_700_000_100);
    let forged = DataCommit {
        id: *genesis.cid(),
        prev: *link.cid(),
        header: None,
        data: Some(forged.to_ipld()),
    };
    let forged = Block::encode(Codec::DagCbor, &Payload::Data(forged)).unwrap();
    let err = engine
        .apply_commit(StreamType::CAIP10_LINK, *forged.cid(), std::slice::from_ref(&forged))
        .unwrap_err();
    assert!(matches!(err, ApplyError::Rejected { .. }), "{err}");
    assert_eq!(engine.load(&stream).unwrap().tip(), *link.cid());
}
