//! The engine under test: the shared test doctype and builders, an in-memory store and a fake
//! chain.

use std::sync::Arc;

use ceramic_codecs::Block;
use ceramic_doctype::Registry;
use ceramic_engine::Engine;
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_storage::MemoryStorage;
use ceramic_storage::kv::{Backend, Batch, Column};
use ceramic_streamid::StreamId;

pub(crate) use ceramic_engine::test_utils::{
    ADDER, Adder, AdderError, Made, add, anchor, peer, signer,
};

/// An engine with the Adder doctype, an in-memory store and a fake chain.
pub(crate) struct Node {
    pub(crate) engine: Engine,
    pub(crate) store: Arc<MemoryStorage>,
    pub(crate) published: Arc<RecordingPublisher>,
}

pub(crate) fn node(chain: Arc<FakeAnchorVerifier>) -> Node {
    let store = Arc::new(MemoryStorage::new());
    let published = Arc::new(RecordingPublisher::default());
    let registry = Registry::new().with(Adder).unwrap();
    let engine = Engine::new(store.clone(), registry, chain, published.clone());
    Node { engine, store, published }
}

/// A signed genesis of the Adder doctype with no family or tags.
pub(crate) fn genesis(author: &ceramic_did::KeySigner, unique: &str) -> (StreamId, Made) {
    ceramic_engine::test_utils::genesis(author, unique, None, &[])
}

/// Puts blocks into `store` without a state (as blocks a peer served would be), through its
/// key-value backend.
pub(crate) fn put_blocks(store: &MemoryStorage, blocks: &[Block]) {
    let mut batch = Batch::new();
    for block in blocks {
        batch.put(Column::Blocks, block.cid().to_bytes(), block.data().to_vec());
    }
    store.backend().write(batch).unwrap();
}
