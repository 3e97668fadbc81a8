//! Fixtures and proptest strategies for CAIP-10 link tests (feature `test-utils`).

use ceramic_codecs::{Block, Cid, Codec, DataCommit, Ipld, Payload};
use ceramic_doctype::{Context, ContextError, StreamState};
use ceramic_streamid::CommitId;
use k256::ecdsa::SigningKey;
use proptest::prelude::*;

use crate::eth_address;

/// A [`Context`] that knows no streams (CAIP-10 links never load one).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoContext;

impl Context for NoContext {
    fn load_content(&self, id: &CommitId) -> Result<serde_json::Value, ContextError> {
        Err(ContextError::NotFound(*id))
    }
}

/// A deterministic secp256k1 key for `seed` (every seed gives a valid, distinct key).
pub fn key(seed: u8) -> SigningKey {
    let mut bytes = [0x11u8; 32];
    bytes[31] = seed;
    SigningKey::from_slice(&bytes).expect("0x1111…11xx is a non-zero scalar below the order")
}

/// The CAIP-10 account `eip155:<chain>:<address of key(seed)>`.
pub fn account_of(seed: u8, chain: u64) -> String {
    format!("eip155:{chain}:{}", eth_address(key(seed).verifying_key()))
}

/// The unsigned data commit carrying `proof` on top of `state`, and its CID.
pub fn link_commit(state: &StreamState, proof: &Ipld) -> (Cid, Payload) {
    let payload = Payload::Data(DataCommit {
        id: state.stream_id().cid(),
        prev: state.tip(),
        header: None,
        data: Some(proof.clone()),
    });
    let block = Block::encode(Codec::DagCbor, &payload).expect("a data commit encodes");
    (*block.cid(), payload)
}

/// A DID as a link message would name it (`did:<method>:<id>`, no whitespace).
pub fn arb_did() -> impl Strategy<Value = String> {
    ("(key|pkh|3|web)", "[a-zA-Z0-9._:-]{1,24}")
        .prop_map(|(method, id)| format!("did:{method}:{id}"))
        .prop_filter("the id must not end the DID with a colon", |d| !d.ends_with(':'))
}

/// One step of a link stream's life: a link proof (DID index, timestamp) or an anchor at a
/// timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Link to DID number `did` with a proof made at `timestamp`.
    Link {
        /// Which DID (an index into a small list).
        did: u8,
        /// The proof's timestamp.
        timestamp: u64,
    },
    /// Anchor the tip at `timestamp`.
    Anchor {
        /// The block time.
        timestamp: u64,
    },
}

/// Sequences of link and anchor steps with timestamps in a small range, so that stale proofs
/// are common.
pub fn arb_ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        3 => (0u8..4, 0u64..50).prop_map(|(did, timestamp)| Op::Link { did, timestamp }),
        1 => (0u64..50).prop_map(|timestamp| Op::Anchor { timestamp }),
    ];
    proptest::collection::vec(op, 0..8)
}
