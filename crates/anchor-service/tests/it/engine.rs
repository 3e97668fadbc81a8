//! End to end with the engine: a signed stream's tip is anchored by the service on the dev
//! chain, and its anchor commit — from the sink and from the witness CAR of the request — is
//! applied through `Engine::apply_commit` with the same dev chain as the anchor verifier.

use std::sync::Arc;

use ceramic_anchor::{DevChain, ManualClock as ChainClock, Witness};
use ceramic_anchor_service::{BroadcastSink, CasBuilder, MemoryStore, NewRequest, Status};
use ceramic_did::{KeySigner, KeyType};
use ceramic_doctype::{AnchorStatus, CommitKind, Registry};
use ceramic_engine::Engine;
use ceramic_engine::memory::RecordingPublisher;
use ceramic_engine::test_utils::{ADDER, Adder, add, genesis};
use ceramic_storage::MemoryStorage;

use crate::new_request;

fn engine(chain: Arc<DevChain>) -> Engine {
    Engine::new(
        Arc::new(MemoryStorage::new()),
        Registry::new().with(Adder).unwrap(),
        chain,
        Arc::new(RecordingPublisher::default()),
    )
}

#[test]
fn the_engine_accepts_the_services_anchor_commits() {
    const BLOCK_TIME: u64 = 1_700_000_321;
    let chain = Arc::new(DevChain::with_clock(Arc::new(ChainClock::new(BLOCK_TIME))));
    let sink = Arc::new(BroadcastSink::new(4));
    let mut published = sink.subscribe();
    let cas = CasBuilder::new(Arc::new(MemoryStore::new()), chain.clone())
        .with_sink(sink)
        .open()
        .unwrap();

    let author = KeySigner::from_seed(KeyType::Ed25519, &[9; 32]).unwrap();
    let (stream, g) = genesis(&author, "cas end to end", None, &[]);
    let node_a = engine(chain.clone());
    let node_b = engine(chain.clone());
    for node in [&node_a, &node_b] {
        node.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    }
    let c1 = add(&author, &stream, g.cid, 4);
    for node in [&node_a, &node_b] {
        node.apply_commit(ADDER, c1.cid, &c1.blocks).unwrap();
    }

    cas.request(&NewRequest { stream_id: stream, cid: c1.cid, timestamp: None }).unwrap();
    for n in 0..5 {
        cas.request(&new_request(n, 0, None)).unwrap();
    }
    cas.trigger().unwrap().unwrap();

    // Node A applies the anchor commit handed to the sink (the anchor commit block plus the
    // proof and Merkle nodes of the batch).
    let batch = published.try_recv().unwrap();
    let i = batch.requests.iter().position(|r| r.cid == c1.cid).unwrap();
    let anchor = &batch.anchors.anchors()[i];
    let blocks: Vec<_> = batch.anchors.blocks().cloned().collect();
    let state = node_a.apply_commit(ADDER, anchor.cid(), &blocks).unwrap();
    assert_eq!(state.anchor_status(), AnchorStatus::Anchored);
    assert_eq!(state.tip(), anchor.cid());

    // Node B applies it from the request's witness CAR, as a polling node would.
    let record = cas.get(&c1.cid).unwrap().unwrap();
    assert_eq!(record.status, Status::Completed);
    let witness = Witness::from_car(record.witness_car.as_deref().unwrap()).unwrap();
    let state = node_b.apply_commit(ADDER, witness.cid(), witness.blocks()).unwrap();
    assert_eq!(state.anchor_status(), AnchorStatus::Anchored);
    let last = state.log().last().unwrap();
    assert_eq!((last.kind, last.timestamp), (CommitKind::Anchor, Some(BLOCK_TIME)));
    assert_eq!(node_a.load(&stream).unwrap().tip(), node_b.load(&stream).unwrap().tip());
}
