//! In-memory implementations of the engine's traits, for tests and examples.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use ceramic_codecs::{AnchorProof, Block, Cid};
use ceramic_doctype::StreamState;
use ceramic_streamid::StreamId;

use crate::{AnchorError, AnchorVerifier, BlockSource, Publisher, Store, StoreError};

/// Blocks and states in hash maps. A lock poisoned by a panicking thread is recovered: the maps
/// are only written by single inserts.
#[derive(Debug, Default)]
pub struct MemoryStore {
    blocks: RwLock<HashMap<Cid, Vec<u8>>>,
    states: RwLock<HashMap<StreamId, StreamState>>,
}

impl MemoryStore {
    /// Adds a block without a state (a block a peer would serve).
    pub fn put_block(&self, block: &Block) {
        self.blocks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(*block.cid(), block.data().to_vec());
    }

    /// How many blocks are stored.
    pub fn block_count(&self) -> usize {
        self.blocks.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl BlockSource for MemoryStore {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.blocks.read().unwrap_or_else(|e| e.into_inner()).get(cid).cloned())
    }
}

impl Store for MemoryStore {
    fn load_state(&self, id: &StreamId) -> Result<Option<StreamState>, StoreError> {
        Ok(self.states.read().unwrap_or_else(|e| e.into_inner()).get(id).cloned())
    }

    fn commit(&self, blocks: &[Block], state: &StreamState) -> Result<(), StoreError> {
        let mut map = self.blocks.write().unwrap_or_else(|e| e.into_inner());
        let mut states = self.states.write().unwrap_or_else(|e| e.into_inner());
        for block in blocks {
            map.insert(*block.cid(), block.data().to_vec());
        }
        states.insert(state.stream_id(), state.clone());
        Ok(())
    }
}

/// A [`BlockSource`] over a map, e.g. the blocks a remote peer holds.
#[derive(Debug, Default)]
pub struct MapSource(pub HashMap<Cid, Vec<u8>>);

impl MapSource {
    /// Adds blocks.
    pub fn extend<'a>(&mut self, blocks: impl IntoIterator<Item = &'a Block>) {
        self.0.extend(blocks.into_iter().map(|b| (*b.cid(), b.data().to_vec())));
    }
}

impl BlockSource for MapSource {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.0.get(cid).cloned())
    }
}

/// An anchor verifier that knows a fixed set of transactions and their block times.
#[derive(Debug, Default)]
pub struct FakeAnchorVerifier {
    transactions: RwLock<HashMap<Cid, u64>>,
}

impl FakeAnchorVerifier {
    /// Makes `tx_hash` a confirmed transaction at `timestamp`.
    pub fn confirm(&self, tx_hash: Cid, timestamp: u64) {
        self.transactions.write().unwrap_or_else(|e| e.into_inner()).insert(tx_hash, timestamp);
    }
}

impl AnchorVerifier for FakeAnchorVerifier {
    fn verify(&self, proof: &AnchorProof) -> Result<u64, AnchorError> {
        self.transactions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&proof.tx_hash)
            .copied()
            .ok_or_else(|| AnchorError::Chain {
                chain_id: proof.chain_id.clone(),
                tx_hash: Box::new(proof.tx_hash),
                reason: "unknown transaction".into(),
            })
    }
}

/// A publisher that records what it was asked to announce (the last 10,000 updates).
#[derive(Debug, Default)]
pub struct RecordingPublisher {
    updates: Mutex<Vec<(StreamId, Cid)>>,
}

impl RecordingPublisher {
    /// The recorded updates, oldest first.
    pub fn updates(&self) -> Vec<(StreamId, Cid)> {
        self.updates.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Publisher for RecordingPublisher {
    fn publish_update(&self, stream: &StreamId, tip: &Cid) {
        let mut updates = self.updates.lock().unwrap_or_else(|e| e.into_inner());
        if updates.len() >= 10_000 {
            updates.remove(0);
        }
        updates.push((*stream, *tip));
    }
}
