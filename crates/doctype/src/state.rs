//! Stream state, as js-ceramic's `StreamState` (packages/common/src/stream.ts).

use ceramic_codecs::{AnchorProof, Cid};
use ceramic_streamid::{StreamId, StreamType};
use serde_json::{Map, Value};

/// Why a serialized state could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateJsonError {
    /// A field is missing or has the wrong JSON type.
    #[error("state field `{0}` is missing or malformed")]
    Field(&'static str),
    /// A CID string does not parse.
    #[error("state field `{0}` holds an invalid CID")]
    Cid(&'static str),
    /// An enum value is out of range.
    #[error("state field `{0}` holds an unknown value")]
    Unknown(&'static str),
    /// The log is empty or does not start with a genesis entry.
    #[error("the log must start with a genesis entry")]
    Log,
}

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

    /// The stream type.
    pub fn stream_type(&self) -> StreamType {
        self.stream_type
    }

    /// The anchored content (see [`StreamState::current_content`] for what readers show).
    pub fn content(&self) -> &Value {
        &self.content
    }

    /// The pending view made by unanchored data commits, if any.
    pub fn next(&self) -> Option<&Next> {
        self.next.as_ref()
    }

    /// The anchored metadata (see [`StreamState::current_metadata`]).
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// How the tip was authenticated.
    pub fn signature(&self) -> SignatureStatus {
        self.signature
    }

    /// The tip's anchor status.
    pub fn anchor_status(&self) -> AnchorStatus {
        self.anchor_status
    }

    /// The proof of the latest applied anchor.
    pub fn anchor_proof(&self) -> Option<&AnchorProof> {
        self.anchor_proof.as_ref()
    }

    /// The applied commits, genesis first (never empty).
    pub fn log(&self) -> &[LogEntry] {
        &self.log
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

    /// Reads back what [`StreamState::to_js_json`] wrote.
    ///
    /// # Errors
    /// [`StateJsonError`] naming the malformed field.
    pub fn from_js_json(value: &Value) -> Result<Self, StateJsonError> {
        let field = |name: &'static str| value.get(name).ok_or(StateJsonError::Field(name));
        let cid = |v: &Value, name: &'static str| -> Result<Cid, StateJsonError> {
            v.as_str()
                .ok_or(StateJsonError::Field(name))?
                .parse()
                .map_err(|_| StateJsonError::Cid(name))
        };
        let object = |v: &Value, name: &'static str| {
            v.as_object().cloned().ok_or(StateJsonError::Field(name))
        };
        let stream_type =
            StreamType::new(field("type")?.as_u64().ok_or(StateJsonError::Field("type"))?);
        let next = match value.get("next") {
            None => None,
            Some(n) => Some(Next {
                content: n.get("content").cloned(),
                metadata: n.get("metadata").map(|m| object(m, "next.metadata")).transpose()?,
            }),
        };
        let signature = match field("signature")?.as_u64() {
            Some(0) => SignatureStatus::Genesis,
            Some(1) => SignatureStatus::Partial,
            Some(2) => SignatureStatus::Signed,
            _ => return Err(StateJsonError::Unknown("signature")),
        };
        let name = field("anchorStatus")?.as_str().ok_or(StateJsonError::Field("anchorStatus"))?;
        let anchor_status = [
            AnchorStatus::NotRequested,
            AnchorStatus::Pending,
            AnchorStatus::Processing,
            AnchorStatus::Anchored,
            AnchorStatus::Failed,
            AnchorStatus::Replaced,
        ]
        .into_iter()
        .find(|s| s.name() == name)
        .ok_or(StateJsonError::Unknown("anchorStatus"))?;
        let anchor_proof = match value.get("anchorProof") {
            None => None,
            Some(p) => Some(AnchorProof {
                chain_id: p
                    .get("chainId")
                    .and_then(Value::as_str)
                    .ok_or(StateJsonError::Field("anchorProof.chainId"))?
                    .to_string(),
                root: cid(p.get("root").unwrap_or(&Value::Null), "anchorProof.root")?,
                tx_hash: cid(p.get("txHash").unwrap_or(&Value::Null), "anchorProof.txHash")?,
                tx_type: p.get("txType").and_then(Value::as_str).map(String::from),
            }),
        };
        let log = field("log")?
            .as_array()
            .ok_or(StateJsonError::Field("log"))?
            .iter()
            .map(|e| {
                let kind = match e.get("type").and_then(Value::as_u64) {
                    Some(0) => CommitKind::Genesis,
                    Some(1) => CommitKind::Data,
                    Some(2) => CommitKind::Anchor,
                    _ => return Err(StateJsonError::Unknown("log.type")),
                };
                let timestamp = match e.get("timestamp") {
                    None => None,
                    Some(t) => Some(t.as_u64().ok_or(StateJsonError::Field("log.timestamp"))?),
                };
                Ok(LogEntry {
                    cid: cid(e.get("cid").unwrap_or(&Value::Null), "log.cid")?,
                    kind,
                    timestamp,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if log.first().map(|e| e.kind) != Some(CommitKind::Genesis)
            || StreamId::new(stream_type, log[0].cid).is_err()
        {
            return Err(StateJsonError::Log);
        }
        Ok(StreamState {
            stream_type,
            content: field("content")?.clone(),
            next,
            metadata: object(field("metadata")?, "metadata")?,
            signature,
            anchor_status,
            anchor_proof,
            log,
        })
    }

    /// The state as js-ceramic's `StreamUtils.serializeState` writes it (CIDs as strings,
    /// `anchorStatus` by name), for the HTTP API and for comparison with the JS vectors.
    pub fn to_js_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("type".into(), Value::from(self.stream_type.code()));
        // serializeState names the stream type; js throws for an unregistered one, we omit it.
        if let Some(name) = self.stream_type.name() {
            out.insert("doctype".into(), Value::from(name));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn cid(n: u8) -> Cid {
        ceramic_codecs::cid_of(0x71, &[n])
    }

    proptest! {
        #[test]
        fn js_json_round_trips(n in 0u8..20, anchored in any::<bool>(), next in any::<bool>(), t in any::<u32>()) {
            let mut state = StreamState::genesis(StreamType::new(u64::from(n)), cid(0), json!({"n": n}), Map::new(), SignatureStatus::Signed);
            for i in 1..n {
                state.log.push(LogEntry { cid: cid(i), kind: CommitKind::Data, timestamp: anchored.then_some(u64::from(t)) });
            }
            if next {
                state.next = Some(Next { content: Some(json!([1, 2])), metadata: Some(Map::new()) });
            }
            if anchored {
                state = crate::apply_anchor(&state, cid(99), AnchorProof { chain_id: "eip155:1".into(), root: cid(1), tx_hash: cid(2), tx_type: None }, u64::from(t));
            }
            prop_assert_eq!(StreamState::from_js_json(&state.to_js_json()), Ok(state));
        }
    }

    #[test]
    fn rejects_malformed_states() {
        let good = StreamState::genesis(
            StreamType::TILE,
            cid(0),
            json!({}),
            Map::new(),
            SignatureStatus::Genesis,
        )
        .to_js_json();
        for (key, bad) in [
            ("log", json!([])),
            ("anchorStatus", json!("SOON")),
            ("signature", json!(7)),
            ("type", json!("x")),
        ] {
            let mut value = good.clone();
            value[key] = bad;
            assert!(StreamState::from_js_json(&value).is_err(), "{key}");
        }
    }
}
