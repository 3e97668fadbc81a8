//! Test fixtures shared by the engine's tests and the crates above it (storage, anchoring,
//! scenarios): a minimal doctype, builders for signed commits and anchors, and a peer's block
//! source. Behind the feature `test-utils`.

use ceramic_codecs::{
    AnchorCommit, AnchorProof, Block, Cid, Codec, DataCommit, GenesisCommit, Header, Ipld, Payload,
    Unique, cid_of,
};
use ceramic_did::{KeySigner, KeyType, Signer, sign_commit};
use ceramic_doctype::{Change, Commit, Context, Doctype, Genesis, SignatureStatus, StreamState};
use ceramic_storage::MapSource;
use ceramic_streamid::{StreamId, StreamType};
use serde_json::json;

use crate::memory::FakeAnchorVerifier;

/// The test doctype's stream type.
pub const ADDER: StreamType = StreamType::new(77);

/// A doctype whose content is `{"n": sum}`: commits are signed by the controller and add their
/// integer `data` to `n` in the pending view (`next.content`, anchored when an anchor lands).
/// The genesis header's `family` and `tags` go into the metadata; a data commit's header `tags`
/// replace them in the pending metadata (`next.metadata`).
#[derive(Debug, Clone, Copy)]
pub struct Adder;

/// Why [`Adder`] rejects a commit.
#[derive(Debug, thiserror::Error)]
pub enum AdderError {
    /// Not signed.
    #[error("unsigned")]
    Unsigned,
    /// Signed by someone else.
    #[error("signed by {0}, not the controller")]
    NotController(String),
    /// Malformed.
    #[error("data is not an integer")]
    BadData,
    /// The sum does not fit an i64 (found by `engine_hostile_log`: the adder used to panic).
    #[error("the sum overflows")]
    Overflow,
}

impl Doctype for Adder {
    type Error = AdderError;
    fn stream_type(&self) -> StreamType {
        ADDER
    }
    fn name(&self) -> &'static str {
        "adder"
    }
    fn apply_genesis(&self, commit: &Commit<'_>, _: &dyn Context) -> Result<Genesis, AdderError> {
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
        if let Some(family) = &g.header.family {
            metadata.insert("family".into(), json!(family));
        }
        if let Some(tags) = &g.header.tags {
            metadata.insert("tags".into(), json!(tags));
        }
        Ok(Genesis::new(json!({"n": 0}), metadata, SignatureStatus::Signed))
    }
    fn apply_data(
        &self,
        state: &StreamState,
        commit: &Commit<'_>,
        _: &dyn Context,
    ) -> Result<Change, AdderError> {
        let signer = commit.signer.ok_or(AdderError::Unsigned)?;
        if Some(signer) != state.controller() {
            return Err(AdderError::NotController(signer.into()));
        }
        let Payload::Data(DataCommit { data: Some(Ipld::Integer(k)), header, .. }) = commit.payload
        else {
            return Err(AdderError::BadData);
        };
        let k = i64::try_from(*k).map_err(|_| AdderError::BadData)?;
        let n = state.current_content()["n"].as_i64().unwrap_or(0);
        let n = n.checked_add(k).ok_or(AdderError::Overflow)?;
        let mut change = Change::content(Some(json!({ "n": n })));
        if let Some(tags) = header.as_ref().and_then(|h| h.tags.as_ref()) {
            let mut metadata = state.current_metadata().clone();
            metadata.insert("tags".into(), json!(tags));
            change = change.with_metadata(metadata);
        }
        Ok(change)
    }
}

/// An Ed25519 signer from a one-byte seed.
pub fn signer(seed: u8) -> KeySigner {
    KeySigner::from_seed(KeyType::Ed25519, &[seed; 32]).expect("a 32-byte seed")
}

/// A commit's CID and blocks.
#[derive(Debug, Clone)]
pub struct Made {
    /// The commit's CID.
    pub cid: Cid,
    /// Its blocks.
    pub blocks: Vec<Block>,
}

/// Signs a payload into a commit.
pub fn signed(author: &KeySigner, payload: Payload) -> Made {
    let signed = sign_commit(author, &payload).expect("signing");
    Made {
        cid: *signed.envelope_block().cid(),
        blocks: vec![signed.envelope_block().clone(), signed.payload_block().clone()],
    }
}

/// A signed genesis with a family and tags.
pub fn genesis(
    author: &KeySigner,
    unique: &str,
    family: Option<&str>,
    tags: &[&str],
) -> (StreamId, Made) {
    let g = GenesisCommit {
        header: Header {
            controllers: Some(vec![author.did().into()]),
            unique: Some(Unique::Text(unique.into())),
            family: family.map(String::from),
            tags: (!tags.is_empty()).then(|| tags.iter().map(|t| t.to_string()).collect()),
            ..Header::default()
        },
        data: None,
    };
    let made = signed(author, g.into());
    (StreamId::new(ADDER, made.cid).expect("a CIDv1"), made)
}

/// A signed data commit adding `k`.
pub fn add(author: &KeySigner, stream: &StreamId, prev: Cid, k: i64) -> Made {
    let d =
        DataCommit { id: stream.cid(), prev, header: None, data: Some(Ipld::Integer(k.into())) };
    signed(author, d.into())
}

/// A signed data commit replacing the tags.
pub fn retag(author: &KeySigner, stream: &StreamId, prev: Cid, tags: &[&str]) -> Made {
    let header =
        Header { tags: Some(tags.iter().map(|t| t.to_string()).collect()), ..Header::default() };
    let d = DataCommit {
        id: stream.cid(),
        prev,
        header: Some(header),
        data: Some(Ipld::Integer(0.into())),
    };
    signed(author, d.into())
}

/// An anchor of `prev` in a Merkle tree `[[prev, sibling], other]` (path `"0/0"`), on a
/// transaction the chain confirms at `timestamp`. The same `prev` and `timestamp` give the same
/// blocks.
pub fn anchor(chain: &FakeAnchorVerifier, stream: &StreamId, prev: Cid, timestamp: u64) -> Made {
    let sibling = cid_of(0x71, &timestamp.to_be_bytes());
    let leaf =
        Block::encode(Codec::DagCbor, &Ipld::List(vec![Ipld::Link(prev), Ipld::Link(sibling)]))
            .expect("encodes");
    let root = Block::encode(
        Codec::DagCbor,
        &Ipld::List(vec![Ipld::Link(*leaf.cid()), Ipld::Link(sibling)]),
    )
    .expect("encodes");
    let tx_hash = cid_of(0x93, &[&prev.to_bytes()[..], &timestamp.to_be_bytes()].concat());
    chain.confirm(tx_hash, timestamp);
    let proof = AnchorProof {
        chain_id: "inmemory:12345".into(),
        root: *root.cid(),
        tx_hash,
        tx_type: Some("f(bytes32)".into()),
    };
    let proof = Block::encode(Codec::DagCbor, &proof).expect("encodes");
    let commit =
        AnchorCommit { id: Some(stream.cid()), prev, proof: *proof.cid(), path: "0/0".into() };
    let commit = Block::encode(Codec::DagCbor, &Payload::Anchor(commit)).expect("encodes");
    Made { cid: *commit.cid(), blocks: vec![commit, proof, root, leaf] }
}

/// Anchors two streams in one Merkle tree `[a_prev, b_prev]` (paths `"0"` and `"1"`): the
/// commits share their proof and root blocks.
pub fn anchor_pair(
    chain: &FakeAnchorVerifier,
    (a, a_prev): (&StreamId, Cid),
    (b, b_prev): (&StreamId, Cid),
    timestamp: u64,
) -> (Made, Made) {
    let root =
        Block::encode(Codec::DagCbor, &Ipld::List(vec![Ipld::Link(a_prev), Ipld::Link(b_prev)]))
            .expect("encodes");
    let tx_hash = cid_of(0x93, &[&root.cid().to_bytes()[..], &timestamp.to_be_bytes()].concat());
    chain.confirm(tx_hash, timestamp);
    let proof = AnchorProof {
        chain_id: "inmemory:12345".into(),
        root: *root.cid(),
        tx_hash,
        tx_type: Some("f(bytes32)".into()),
    };
    let proof = Block::encode(Codec::DagCbor, &proof).expect("encodes");
    let commit = |stream: &StreamId, prev: Cid, path: &str| {
        let commit =
            AnchorCommit { id: Some(stream.cid()), prev, proof: *proof.cid(), path: path.into() };
        let commit = Block::encode(Codec::DagCbor, &Payload::Anchor(commit)).expect("encodes");
        Made { cid: *commit.cid(), blocks: vec![commit, proof.clone(), root.clone()] }
    };
    (commit(a, a_prev, "0"), commit(b, b_prev, "1"))
}

/// All the blocks of some commits, as a peer would serve them.
pub fn peer(made: &[&Made]) -> MapSource {
    let mut source = MapSource::default();
    for m in made {
        source.extend(&m.blocks);
    }
    source
}
