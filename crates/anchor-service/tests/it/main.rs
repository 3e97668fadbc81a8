//! Integration tests of the anchor service, through its public API: the HTTP API with a real
//! HTTP client, batching policy, replacement, persistence and crash recovery on RocksDB, the
//! gRPC service, and record encoding properties.

mod batching;
mod engine;
mod failures;
mod grpc;
mod http;
mod persistence;
mod properties;

use std::sync::Arc;

use ceramic_anchor::DevChain;
use ceramic_anchor_service::{
    Cas, CasBuilder, ManualClock, MemoryStore, NewRequest, Policy, Store,
};
use ceramic_codecs::{Cid, cid_of};
use ceramic_streamid::{StreamId, StreamType};

/// Stream `n` (a Tile whose genesis is `cid_of(0x71, [n])`).
pub(crate) fn stream(n: u8) -> StreamId {
    StreamId::new(StreamType::TILE, cid_of(0x71, &[n])).expect("a dag-cbor genesis")
}

/// Commit `m` of stream `n`.
pub(crate) fn commit(n: u8, m: u8) -> Cid {
    cid_of(0x71, &[n, m, 0xc0])
}

/// A request for commit `m` of stream `n` with client time `timestamp`.
pub(crate) fn new_request(n: u8, m: u8, timestamp: Option<u64>) -> NewRequest {
    NewRequest { stream_id: stream(n), cid: commit(n, m), timestamp }
}

/// A service on a fresh memory store and dev chain with a manual clock at 1 000 000 ms.
pub(crate) struct Fixture {
    pub(crate) cas: Cas,
    pub(crate) chain: Arc<DevChain>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) store: Arc<MemoryStore>,
}

pub(crate) fn fixture(policy: Policy) -> Fixture {
    let chain = Arc::new(DevChain::new());
    let clock = Arc::new(ManualClock::new(1_000_000));
    let store = Arc::new(MemoryStore::new());
    let cas = open(store.clone(), chain.clone(), clock.clone(), policy);
    Fixture { cas, chain, clock, store }
}

pub(crate) fn open(
    store: Arc<dyn Store>,
    chain: Arc<DevChain>,
    clock: Arc<ManualClock>,
    policy: Policy,
) -> Cas {
    CasBuilder::new(store, chain).with_clock(clock).with_policy(policy).open().expect("opens")
}
