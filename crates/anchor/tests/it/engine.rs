//! End to end with the engine: a signed stream's tip is anchored in a batch with other
//! requests on the dev chain, and the anchor commit, read back from its witness CAR, is
//! applied through `Engine::apply_commit` with the dev chain as the engine's anchor verifier.

use std::sync::Arc;

use ceramic_anchor::{
    AnchorError, Batch, DEV_CHAIN_ID, DevChain, ManualClock, Request, TX_TYPE_V1, Witness,
    tx_hash_cid,
};
use ceramic_codecs::{Block, cid_of};
use ceramic_did::{KeySigner, KeyType};
use ceramic_doctype::{AnchorStatus, CommitKind, Registry};
use ceramic_engine::memory::RecordingPublisher;
use ceramic_engine::test_utils::{ADDER, Adder, Made, add};
use ceramic_engine::{ApplyError, Engine};
use ceramic_storage::MemoryStorage;
use ceramic_streamid::StreamId;
use serde_json::json;

fn genesis(author: &KeySigner) -> (StreamId, Made) {
    ceramic_engine::test_utils::genesis(author, "anchor test", None, &[])
}

fn engine(chain: Arc<DevChain>) -> Engine {
    let registry = Registry::new().with(Adder).unwrap();
    Engine::new(
        Arc::new(MemoryStorage::new()),
        registry,
        chain,
        Arc::new(RecordingPublisher::default()),
    )
}

/// Nine other streams' requests.
fn others() -> impl Iterator<Item = Request> {
    (0..9u8).map(|i| Request { genesis: cid_of(0x71, &[i]), tip: cid_of(0x85, &[i, 7]) })
}

#[test]
fn anchors_a_stream_tip_through_a_dev_chain_batch() {
    const BLOCK_TIME: u64 = 1_700_000_123;
    let chain = Arc::new(DevChain::with_clock(Arc::new(ManualClock::new(BLOCK_TIME))));
    let engine = engine(chain.clone());
    let author = KeySigner::from_seed(KeyType::Ed25519, &[5; 32]).unwrap();
    let (stream, g) = genesis(&author);
    engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let c1 = add(&author, &stream, g.cid, 3);
    let state = engine.apply_commit(ADDER, c1.cid, &c1.blocks).unwrap();
    assert_eq!(state.anchor_status(), AnchorStatus::NotRequested);

    let mine = Request { genesis: stream.cid(), tip: c1.cid };
    let batch = Batch::new(others().chain([mine]).collect()).unwrap();
    let tx_hash = chain.send(batch.root());
    let anchors = batch.finish(DEV_CHAIN_ID, tx_hash, Some(TX_TYPE_V1)).unwrap();
    let index = anchors.anchors().iter().position(|a| *a.request() == mine).unwrap();
    let witness = Witness::from_car(&anchors.witness_car(index).unwrap()).unwrap();
    assert!(!witness.commit().path.is_empty());

    let state = engine.apply_commit(ADDER, witness.cid(), witness.blocks()).unwrap();
    assert_eq!(state.anchor_status(), AnchorStatus::Anchored);
    assert_eq!(state.tip(), witness.cid());
    let last = state.log().last().unwrap();
    assert_eq!((last.kind, last.timestamp), (CommitKind::Anchor, Some(BLOCK_TIME)));
    assert_eq!(state.last_anchor_timestamp(), Some(BLOCK_TIME));
    assert_eq!(state.anchor_proof(), Some(anchors.proof()));
    assert_eq!(state.current_content(), &json!({"n": 3}));
    assert_eq!(engine.load(&stream).unwrap().tip(), witness.cid());
}

#[test]
fn rejects_an_anchor_whose_transaction_carries_another_root() {
    let chain = Arc::new(DevChain::with_clock(Arc::new(ManualClock::new(1_000))));
    let engine = engine(chain.clone());
    let author = KeySigner::from_seed(KeyType::Ed25519, &[6; 32]).unwrap();
    let (stream, g) = genesis(&author);
    engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();

    let mine = Request { genesis: stream.cid(), tip: g.cid };
    let batch = Batch::new(others().chain([mine]).collect()).unwrap();
    // The transaction carries some other batch's root.
    let elsewhere = Batch::new(others().collect()).unwrap();
    let tx_hash = chain.send(elsewhere.root());
    let anchors = batch.finish(DEV_CHAIN_ID, tx_hash, Some(TX_TYPE_V1)).unwrap();
    let index = anchors.anchors().iter().position(|a| *a.request() == mine).unwrap();
    let blocks: Vec<Block> = anchors.witness(index).unwrap().into_iter().cloned().collect();
    let anchor = anchors.anchors()[index].cid();
    match engine.apply_commit(ADDER, anchor, &blocks).unwrap_err() {
        ApplyError::Anchor { source: AnchorError::Chain { reason, .. }, .. } => {
            assert!(reason.contains("carries root"), "{reason}");
        }
        other => panic!("{other}"),
    }
    // And one whose transaction the chain never mined.
    let unknown = Batch::new(others().chain([mine]).collect())
        .unwrap()
        .finish(DEV_CHAIN_ID, tx_hash_cid([0xee; 32]), Some(TX_TYPE_V1))
        .unwrap();
    let blocks: Vec<Block> = unknown.witness(index).unwrap().into_iter().cloned().collect();
    let err = engine.apply_commit(ADDER, unknown.anchors()[index].cid(), &blocks).unwrap_err();
    assert!(matches!(err, ApplyError::Anchor { source: AnchorError::Chain { .. }, .. }), "{err}");
    assert_eq!(engine.load(&stream).unwrap().anchor_status(), AnchorStatus::NotRequested);
}
