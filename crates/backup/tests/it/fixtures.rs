//! A node under test (the engine with the test doctype over an in-memory store) and helpers to
//! write streams and inspect a target.

use std::collections::HashMap;
use std::sync::Arc;

use ceramic_backup::{MANIFEST, Manifest, Target};
use ceramic_codecs::{Cid, read_car};
use ceramic_did::KeySigner;
use ceramic_doctype::Registry;
use ceramic_engine::Engine;
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_engine::test_utils::{ADDER, Adder, add, anchor, genesis, signer};
use ceramic_storage::{MemoryStorage, Storage};
use ceramic_streamid::StreamId;

/// An engine with the Adder doctype, an in-memory store and a fake chain (shared between
/// nodes, so a restoring node accepts the anchors of the backed-up one).
pub(crate) struct Node {
    pub(crate) engine: Arc<Engine>,
    pub(crate) store: Arc<MemoryStorage>,
    pub(crate) chain: Arc<FakeAnchorVerifier>,
    pub(crate) author: KeySigner,
}

impl Node {
    pub(crate) fn new(chain: Arc<FakeAnchorVerifier>) -> Node {
        let store = Arc::new(MemoryStorage::new());
        let registry = Registry::new().with(Adder).unwrap();
        let publisher = Arc::new(RecordingPublisher::default());
        let engine = Arc::new(Engine::new(store.clone(), registry, chain.clone(), publisher));
        Node { engine, store, chain, author: signer(1) }
    }

    pub(crate) fn fresh() -> Node {
        Node::new(Arc::new(FakeAnchorVerifier::default()))
    }

    /// A new pinned stream with a genesis and `adds` data commits.
    pub(crate) fn stream(&self, unique: &str, family: Option<&str>, adds: usize) -> StreamId {
        let (id, g) = genesis(&self.author, unique, family, &[]);
        self.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
        self.store.pin(&id).unwrap();
        self.add(&id, adds);
        id
    }

    /// Appends `n` data commits (each adding 1).
    pub(crate) fn add(&self, id: &StreamId, n: usize) {
        for _ in 0..n {
            let tip = self.tip(id);
            let made = add(&self.author, id, tip, 1);
            self.engine.apply_commit(ADDER, made.cid, &made.blocks).unwrap();
        }
    }

    /// Anchors the stream's tip.
    pub(crate) fn anchor(&self, id: &StreamId, timestamp: u64) {
        let made = anchor(&self.chain, id, self.tip(id), timestamp);
        self.engine.apply_commit(ADDER, made.cid, &made.blocks).unwrap();
    }

    pub(crate) fn tip(&self, id: &StreamId) -> Cid {
        self.store.state(id).unwrap().unwrap().tip()
    }

    pub(crate) fn log(&self, id: &StreamId) -> Vec<Cid> {
        self.store.state(id).unwrap().unwrap().log().iter().map(|e| e.cid).collect()
    }
}

/// How many times each block CID occurs across the target's segment objects.
pub(crate) fn block_counts(target: &dyn Target) -> HashMap<Cid, usize> {
    let mut counts = HashMap::new();
    for name in target.list("streams/").unwrap() {
        let car = read_car(&target.get(&name).unwrap().unwrap()).unwrap();
        for block in &car.blocks {
            *counts.entry(*block.cid()).or_insert(0) += 1;
        }
    }
    counts
}

/// Asserts that the target holds each commit of each stream's log exactly once, and that its
/// manifest names every segment object it holds.
pub(crate) fn assert_exactly_once(node: &Node, target: &dyn Target, streams: &[StreamId]) {
    let counts = block_counts(target);
    for id in streams {
        for cid in node.log(id) {
            assert_eq!(counts.get(&cid), Some(&1), "commit {cid} of {id}");
        }
    }
    let manifest = Manifest::load(target).unwrap();
    let mut listed: Vec<String> =
        manifest.streams.values().flat_map(|e| e.objects.iter().cloned()).collect();
    listed.sort();
    assert_eq!(listed, target.list("streams/").unwrap());
    assert!(target.get(MANIFEST).unwrap().is_some());
}

/// Asserts that `to` holds `from`'s streams with the same states.
pub(crate) fn assert_same_streams(from: &Node, to: &Node, streams: &[StreamId]) {
    for id in streams {
        let a = from.store.state(id).unwrap().unwrap();
        let b = to.store.state(id).unwrap().unwrap();
        assert_eq!(a, b, "{id}");
        assert!(to.store.is_pinned(id).unwrap());
    }
}
