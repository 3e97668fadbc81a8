//! Stream state, as js-ceramic's `StreamState` (packages/common/src/stream.ts).

use ceramic_codecs::{AnchorProof, Cid};
use ceramic_streamid::{StreamId, StreamType};
use serde_json::{Map, Value};

/// Stream metadata: the genesis header, updated by commit headers (a JSON object: `controllers`,
/// `family`, `schema`, `tags`, `unique`, `forbidControllerChange`, and doctype-specific keys).
pub type Metadata = Map<String, Value>;

/// How the latest commit was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureStatus {
    /// Only the genesis is applied and it was not signed.
    Genesis = 0,
    /// Partially signed (unused by the built-in doctypes).
    Partial = 1,
    /// The latest commit is signed (or, for CAIP-10, carries a verified proof).
    Signed = 2,
}

/// Where the latest commit is in the anchoring process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnchorStatus {
    /// No anchor was requested for the tip.
    NotRequested = 0,
    /// An anchor is requested.
    Pending = 1,
    /// The anchor service is anchoring it.
    Processing = 2,
    /// The tip is an anchor commit.
    Anchored = 3,
    /// Anchoring failed.
    Failed = 4,
    /// A newer request replaced this one.
    Replaced = 5,
}

impl AnchorStatus {
    /// The js-ceramic name (`NOT_REQUESTED`, `PENDING`, …), as the HTTP API writes it.
    pub fn name(self) -> &'static str {
        match self {
            AnchorStatus::NotRequested => "NOT_REQUESTED",
            AnchorStatus::Pending => "PENDING",
            AnchorStatus::Processing => "PROCESSING",
            AnchorStatus::Anchored => "ANCHORED",
            AnchorStatus::Failed => "FAILED",
            AnchorStatus::Replaced => "REPLACED",
        }
    }
}

/// The kind of a log entry (js `EventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommitKind {
    /// The genesis commit.
    Genesis = 0,
    /// A data commit.
    Data = 1,
    /// An anchor commit.
    Anchor = 2,
}

/// One applied commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The commit's CID (the envelope's CID for a signed commit).
    pub cid: Cid,
    /// Its kind.
    pub kind: CommitKind,
    /// The block time (unix seconds) of the anchor that covers it, once known.
    pub timestamp: Option<u64>,
}

/// The pending view created by unanchored data commits.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Next {
    /// Pending content, if a commit changed it.
    pub content: Option<Value>,
    /// Pending metadata, if a commit changed it.
    pub metadata: Option<Metadata>,
}

/// A stream's state after applying its log.
///
/// `content` and `metadata` hold the anchored view; `next` the pending one. Readers use
/// [`StreamState::current_content`] and [`StreamState::current_metadata`] (`next ?? current`).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamState {
    /// The stream type.
    pub stream_type: StreamType,
    /// The anchored content.
    pub content: Value,
    /// The pending view, if any.
    pub next: Option<Next>,
    /// The anchored metadata.
    pub metadata: Metadata,
    /// How the tip was authenticated.
    pub signature: SignatureStatus,
    /// The tip's anchor status.
    pub anchor_status: AnchorStatus,
    /// The proof of the latest applied anchor.
    pub anchor_proof: Option<AnchorProof>,
    /// The applied commits, genesis first (never empty).
    pub log: Vec<LogEntry>,
}

impl StreamState {
    /// The state right after a genesis commit `cid`.
    pub fn genesis(
        stream_type: StreamType,
        cid: Cid,
        content: Value,
        metadata: Metadata,
        signature: SignatureStatus,
    ) -> Self {
        StreamState {
            stream_type,
            content,
            next: None,
            metadata,
            signature,
            anchor_status: AnchorStatus::NotRequested,
            anchor_proof: None,
            log: vec![LogEntry { cid, kind: CommitKind::Genesis, timestamp: None }],
        }
    }

    /// The StreamID.
    ///
    /// # Panics
    /// Never: a state's log starts with a CIDv1 genesis.
    pub fn stream_id(&self) -> StreamId {
        StreamId::new(self.stream_type, self.log[0].cid).expect("the genesis CID is a CIDv1")
    }

    /// The CID of the last applied commit.
    pub fn tip(&self) -> Cid {
        self.log.last().map_or(self.log[0].cid, |e| e.cid)
    }

    /// `next.content ?? content`.
    pub fn current_content(&self) -> &Value {
        self.next.as_ref().and_then(|n| n.content.as_ref()).unwrap_or(&self.content)
    }

    /// `next.metadata ?? metadata`.
    pub fn current_metadata(&self) -> &Metadata {
        self.next.as_ref().and_then(|n| n.metadata.as_ref()).unwrap_or(&self.metadata)
    }

    /// The first controller of the current metadata (the one who signs, for the built-in
    /// doctypes), if it is a string.
    pub fn controller(&self) -> Option<&str> {
        self.current_metadata().get("controllers")?.as_array()?.first()?.as_str()
    }

    /// The timestamp of the latest anchor, if the stream is anchored.
    pub fn last_anchor_timestamp(&self) -> Option<u64> {
        self.log.iter().rev().find(|e| e.kind == CommitKind::Anchor).and_then(|e| e.timestamp)
    }

    /// The state as js-ceramic's `StreamUtils.serializeState` writes it (CIDs as strings,
    /// `anchorStatus` by name), for the HTTP API and for comparison with the JS vectors.
    pub fn to_js_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("type".into(), Value::from(self.stream_type.code()));
        out.insert("content".into(), self.content.clone());
        if let Some(next) = &self.next {
            let mut n = Map::new();
            if let Some(c) = &next.content {
                n.insert("content".into(), c.clone());
            }
            if let Some(m) = &next.metadata {
                n.insert("metadata".into(), Value::Object(m.clone()));
            }
            out.insert("next".into(), Value::Object(n));
        }
        out.insert("metadata".into(), Value::Object(self.metadata.clone()));
        out.insert("signature".into(), Value::from(self.signature as u8));
        out.insert("anchorStatus".into(), Value::from(self.anchor_status.name()));
        if let Some(proof) = &self.anchor_proof {
            let mut p = Map::new();
            p.insert("chainId".into(), Value::from(proof.chain_id.clone()));
            p.insert("root".into(), Value::from(proof.root.to_string()));
            p.insert("txHash".into(), Value::from(proof.tx_hash.to_string()));
            if let Some(t) = &proof.tx_type {
                p.insert("txType".into(), Value::from(t.clone()));
            }
            out.insert("anchorProof".into(), Value::Object(p));
        }
        let log = self
            .log
            .iter()
            .map(|e| {
                let mut entry = Map::new();
                entry.insert("cid".into(), Value::from(e.cid.to_string()));
                entry.insert("type".into(), Value::from(e.kind as u8));
                if let Some(t) = e.timestamp {
                    entry.insert("timestamp".into(), Value::from(t));
                }
                Value::Object(entry)
            })
            .collect();
        out.insert("log".into(), Value::Array(log));
        Value::Object(out)
    }
}
