//! A minimal doctype and builders for signed logs, anchors and engines.

use std::sync::Arc;

use ceramic_codecs::{
    AnchorCommit, AnchorProof, Block, Cid, Codec, DataCommit, GenesisCommit, Header, Ipld, Payload,
    Unique, cid_of,
};
use ceramic_did::{KeySigner, KeyType, Signer, sign_commit};
use ceramic_doctype::{Commit, Context, Doctype, Registry, SignatureStatus, StreamState};
use ceramic_engine::Engine;
use ceramic_engine::memory::{FakeAnchorVerifier, MapSource, MemoryStore, RecordingPublisher};
use ceramic_streamid::{StreamId, StreamType};
use serde_json::json;

/// The test doctype's stream type.
pub(crate) const ADDER: StreamType = StreamType::new(77);

/// A doctype whose content is `{"n": sum}`: commits are signed by the controller and add their
/// integer `data` to `n`.
pub(crate) struct Adder;

#[derive(Debug, thiserror::Error)]
pub(crate) enum AdderError {
    #[error("unsigned")]
    Unsigned,
    #[error("signed by {0}, not the controller")]
    NotController(String),
    #[error("data is not an integer")]
    BadData,
}

impl Doctype for Adder {
    type Error = AdderError;
    fn stream_type(&self) -> StreamType {
        ADDER
    }
    fn name(&self) -> &'static str {
        "adder"
    }
    fn apply_genesis(
        &self,
        commit: &Commit<'_>,
        _: &dyn Context,
    ) -> Result<StreamState, AdderError> {
        let Payload::Genesis(g) = commit.payload else { return Err(AdderError::BadData) };
        let controller =
            g.header.controllers.as_ref().and_then(|c| c.first()).ok_or(AdderError::BadData)?;
        match commit.signer {
            None => return Err(AdderError::Unsigned),
            Some(s) if s != controller => return Err(AdderError::NotController(s.into())),
            Some(_) => {}
        }
        let mut metadata = serde_json::Map::new();
        metadata.insert("controllers".into(), json!([controller]));
        Ok(StreamState::genesis(
            ADDER,
            commit.cid,
            json!({"n": 0}),
            metadata,
            SignatureStatus::Signed,
        ))
    }
    fn apply_data(
        &self,
        state: &StreamState,
        commit: &Commit<'_>,
        _: &dyn Context,
    ) -> Result<StreamState, AdderError> {
        let signer = commit.signer.ok_or(AdderError::Unsigned)?;
        if Some(signer) != state.controller() {
            return Err(AdderError::NotController(signer.into()));
        }
        let Payload::Data(DataCommit { data: Some(Ipld::Integer(k)), .. }) = commit.payload else {
            return Err(AdderError::BadData);
        };
        let mut next = state.clone();
        let n = next.content["n"].as_i64().unwrap_or(0)
            + i64::try_from(*k).map_err(|_| AdderError::BadData)?;
        next.content = json!({ "n": n });
        next.signature = SignatureStatus::Signed;
        next.anchor_status = ceramic_doctype::AnchorStatus::NotRequested;
        next.log.push(ceramic_doctype::LogEntry {
            cid: commit.cid,
            kind: ceramic_doctype::CommitKind::Data,
            timestamp: commit.timestamp,
        });
        Ok(next)
    }
}

pub(crate) fn signer(seed: u8) -> KeySigner {
    KeySigner::from_seed(KeyType::Ed25519, &[seed; 32]).unwrap()
}

/// An engine with the Adder doctype, an in-memory store and a fake chain.
pub(crate) struct Node {
    pub(crate) engine: Engine,
    pub(crate) store: Arc<MemoryStore>,
    pub(crate) published: Arc<RecordingPublisher>,
}

pub(crate) fn node(chain: Arc<FakeAnchorVerifier>) -> Node {
    let store = Arc::new(MemoryStore::default());
    let published = Arc::new(RecordingPublisher::default());
    let registry = Registry::new().with(Adder).unwrap();
    let engine = Engine::new(store.clone(), registry, chain, published.clone());
    Node { engine, store, published }
}

/// A commit's CID and blocks.
#[derive(Debug, Clone)]
pub(crate) struct Made {
    pub(crate) cid: Cid,
    pub(crate) blocks: Vec<Block>,
}

pub(crate) fn genesis(author: &KeySigner, unique: &str) -> (StreamId, Made) {
    let g = GenesisCommit {
        header: Header {
            controllers: Some(vec![author.did().into()]),
            unique: Some(Unique::Text(unique.into())),
            ..Header::default()
        },
        data: None,
    };
    let signed = sign_commit(author, &g.into()).unwrap();
    let cid = *signed.envelope_block().cid();
    (
        StreamId::new(ADDER, cid).unwrap(),
        Made { cid, blocks: vec![signed.envelope_block().clone(), signed.payload_block().clone()] },
    )
}

pub(crate) fn add(author: &KeySigner, stream: &StreamId, prev: Cid, k: i64) -> Made {
    let d =
        DataCommit { id: stream.cid(), prev, header: None, data: Some(Ipld::Integer(k.into())) };
    let signed = sign_commit(author, &d.into()).unwrap();
    Made {
        cid: *signed.envelope_block().cid(),
        blocks: vec![signed.envelope_block().clone(), signed.payload_block().clone()],
    }
}

/// An anchor of `prev` in a two-leaf Merkle tree `[prev, sibling]` (path `"0"`), on a
/// transaction the chain confirms at `timestamp`.
pub(crate) fn anchor(
    chain: &FakeAnchorVerifier,
    stream: &StreamId,
    prev: Cid,
    timestamp: u64,
) -> Made {
    let sibling = cid_of(0x71, &timestamp.to_be_bytes());
    let root =
        Block::encode(Codec::DagCbor, &Ipld::List(vec![Ipld::Link(prev), Ipld::Link(sibling)]))
            .unwrap();
    let tx_hash = cid_of(0x93, &[&prev.to_bytes()[..], &timestamp.to_be_bytes()].concat());
    chain.confirm(tx_hash, timestamp);
    let proof = AnchorProof {
        chain_id: "inmemory:12345".into(),
        root: *root.cid(),
        tx_hash,
        tx_type: Some("f(bytes32)".into()),
    };
    let proof = Block::encode(Codec::DagCbor, &proof).unwrap();
    let commit =
        AnchorCommit { id: Some(stream.cid()), prev, proof: *proof.cid(), path: "0".into() };
    let commit = Block::encode(Codec::DagCbor, &Payload::Anchor(commit)).unwrap();
    Made { cid: *commit.cid(), blocks: vec![commit, proof, root] }
}

/// All the blocks of some commits, as a peer would serve them.
pub(crate) fn peer(made: &[&Made]) -> MapSource {
    let mut source = MapSource::default();
    for m in made {
        source.extend(&m.blocks);
    }
    source
}
