//! In-memory implementations of the engine's other traits, for tests and examples: an anchor
//! verifier and a publisher. (The in-memory store is `ceramic_storage::MemoryStorage`, a map of
//! blocks `ceramic_storage::MapSource`.)

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use ceramic_anchor::{AnchorError, AnchorVerifier};
use ceramic_codecs::{AnchorProof, Cid};
use ceramic_streamid::StreamId;

use crate::Publisher;

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
