//! Stream state, as js-ceramic's `StreamState` (packages/common/src/stream.ts).

use ceramic_codecs::{AnchorProof, Cid};
use ceramic_streamid::{StreamId, StreamType};
use serde_json::{Map, Value};

use crate::{Change, Genesis};

mod binary;
mod js;

pub use binary::StateBytesError;
pub use js::JsState;

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
///
/// The fields are private so that the state keeps its invariants: the log is never empty, it
/// starts with the genesis entry, and the genesis CID is a CIDv1 (so [`StreamState::stream_id`]
/// and [`StreamState::tip`] cannot fail). A state is made only by [`StreamState::genesis`] or
/// [`StreamState::from_genesis`] (validated genesis), [`StreamState::from_js_json`] (checked),
/// and then grows by [`StreamState::with_change`] (a doctype's [`Change`]),
/// [`crate::apply_anchor`] and [`StreamState::with_anchor_status`].
#[derive(Debug, Clone, PartialEq)]
pub struct StreamState {
    /// The stream: its type and genesis CID (always `log[0].cid`).
    id: StreamId,
    /// The anchored content.
    content: Value,
    /// The pending view, if any.
    next: Option<Next>,
    /// The anchored metadata.
    metadata: Metadata,
    /// How the tip was authenticated.
    signature: SignatureStatus,
    /// The tip's anchor status.
    anchor_status: AnchorStatus,
    /// The proof of the latest applied anchor.
    anchor_proof: Option<AnchorProof>,
    /// The applied commits, genesis first (never empty).
    log: Vec<LogEntry>,
}

/// A log entry's timestamp as js `StreamUtils.commitDataToLogEntry` records it: only when truthy.
fn js_timestamp(timestamp: Option<u64>) -> Option<u64> {
    timestamp.filter(|t| *t != 0)
}

impl StreamState {
    /// The state right after a genesis commit `cid`, with no pending view and no timestamp.
    ///
    /// # Errors
    /// [`ceramic_streamid::Error`] when `cid` is not a CIDv1 (it could not name a stream).
    pub fn genesis(
        stream_type: StreamType,
        cid: Cid,
        content: Value,
        metadata: Metadata,
        signature: SignatureStatus,
    ) -> Result<Self, ceramic_streamid::Error> {
        let stream = StreamId::new(stream_type, cid)?;
        Ok(StreamState::from_genesis(stream, None, Genesis::new(content, metadata, signature)))
    }

    /// The state a doctype's [`Genesis`] makes for `stream` (whose CID is the genesis commit's),
    /// `timestamp` being the covering anchor's block time, if known. This is what the engine
    /// does with [`crate::Doctype::apply_genesis`]'s result.
    pub fn from_genesis(stream: StreamId, timestamp: Option<u64>, genesis: Genesis) -> Self {
        StreamState {
            id: stream,
            content: genesis.content,
            next: genesis.next,
            metadata: genesis.metadata,
            signature: genesis.signature,
            anchor_status: AnchorStatus::NotRequested,
            anchor_proof: None,
            log: vec![LogEntry {
                cid: stream.cid(),
                kind: CommitKind::Genesis,
                timestamp: js_timestamp(timestamp),
            }],
        }
    }

    /// The state after a data commit `cid` that a doctype accepted with `change`
    /// ([`crate::Doctype::apply_data`]); `timestamp` is the covering anchor's block time, if
    /// known. The log gains the entry, the pending view becomes the change's (its metadata
    /// defaulting to the current pending metadata), the signature status is the change's and
    /// the anchor status NOT_REQUESTED; the anchored view and the anchor proof stay.
    pub fn with_change(&self, cid: Cid, timestamp: Option<u64>, change: Change) -> Self {
        let metadata =
            change.metadata.or_else(|| self.next.as_ref().and_then(|n| n.metadata.clone()));
        let mut log = Vec::with_capacity(self.log.len() + 1);
        log.extend_from_slice(&self.log);
        log.push(LogEntry { cid, kind: CommitKind::Data, timestamp: js_timestamp(timestamp) });
        StreamState {
            id: self.id,
            content: self.content.clone(),
            next: Some(Next { content: change.content, metadata }),
            metadata: self.metadata.clone(),
            signature: change.signature,
            anchor_status: AnchorStatus::NotRequested,
            anchor_proof: self.anchor_proof.clone(),
            log,
        }
    }

    /// The same state with another anchor status, for reporting where the tip is in the
    /// anchoring process (e.g. PENDING once an anchor is requested). An anchor commit itself is
    /// applied with [`crate::apply_anchor`].
    pub fn with_anchor_status(mut self, anchor_status: AnchorStatus) -> Self {
        self.anchor_status = anchor_status;
        self
    }

    /// The state after a verified anchor commit; see [`crate::apply_anchor`].
    pub(crate) fn anchored(&self, cid: Cid, proof: AnchorProof, timestamp: u64) -> Self {
        let mut next = self.clone();
        for entry in next.log.iter_mut().rev() {
            if entry.kind == CommitKind::Anchor {
                break;
            }
            entry.timestamp.get_or_insert(timestamp);
        }
        next.log.push(LogEntry { cid, kind: CommitKind::Anchor, timestamp: Some(timestamp) });
        next.anchor_status = AnchorStatus::Anchored;
        next.anchor_proof = Some(proof);
        // js: `if (state.next?.content) state.content = state.next.content` — only a truthy
        // value moves, so pending `null`, `false`, `0` or `""` content leaves the anchored
        // content.
        if let Some(pending) = next.next.take() {
            if let Some(content) = pending.content.filter(crate::anchor::js_truthy) {
                next.content = content;
            }
            if let Some(metadata) = pending.metadata {
                next.metadata = metadata;
            }
        }
        next
    }

    /// The stream type.
    pub fn stream_type(&self) -> StreamType {
        self.id.stream_type()
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

    /// The StreamID (its CID is the genesis commit's, validated when the state was made).
    pub fn stream_id(&self) -> StreamId {
        self.id
    }

    /// The CID of the last applied commit.
    pub fn tip(&self) -> Cid {
        self.log.last().map_or(self.id.cid(), |e| e.cid)
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
        let id = match log.first() {
            Some(LogEntry { cid, kind: CommitKind::Genesis, .. }) => {
                StreamId::new(stream_type, *cid).map_err(|_| StateJsonError::Log)?
            }
            _ => return Err(StateJsonError::Log),
        };
        Ok(StreamState {
            id,
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
        // serde_json fails only for a `Serialize` impl that fails or for maps with non-string
        // keys; `JsState` has neither.
        serde_json::to_value(self.js()).expect("a state always serializes to JSON")
    }

    /// [`StreamState::to_js_json`] as text, written without building the `Value`.
    pub fn to_js_string(&self) -> String {
        // As in `to_js_json`: `JsState` serializes without error.
        serde_json::to_string(&self.js()).expect("a state always serializes to JSON")
    }

    /// The same JSON as [`StreamState::to_js_json`], as a [`serde::Serialize`] view that writes
    /// straight to its output (no intermediate `Value`, CIDs formatted in place).
    pub fn js(&self) -> JsState<'_> {
        JsState(self)
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

    fn proof(n: u8) -> AnchorProof {
        AnchorProof { chain_id: "eip155:1".into(), root: cid(n), tx_hash: cid(2), tx_type: None }
    }

    /// One step a node may take on a state through the SDK.
    #[derive(Debug, Clone)]
    enum Op {
        Data { content: Option<Value>, metadata: Option<Metadata>, timestamp: Option<u64> },
        Anchor { timestamp: u64 },
        Status(AnchorStatus),
        JsonRoundTrip,
        BytesRoundTrip,
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec(("[a-z]{1,3}", inner), 0..4)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn arb_status() -> impl Strategy<Value = AnchorStatus> {
        prop_oneof![
            Just(AnchorStatus::NotRequested),
            Just(AnchorStatus::Pending),
            Just(AnchorStatus::Processing),
            Just(AnchorStatus::Anchored),
            Just(AnchorStatus::Failed),
            Just(AnchorStatus::Replaced),
        ]
    }

    fn arb_op() -> impl Strategy<Value = Op> {
        let metadata = arb_json().prop_map(|v| match v {
            Value::Object(m) => m,
            other => Map::from_iter([("k".to_string(), other)]),
        });
        prop_oneof![
            (
                proptest::option::of(arb_json()),
                proptest::option::of(metadata),
                proptest::option::of(0u64..3)
            )
                .prop_map(|(content, metadata, timestamp)| Op::Data {
                    content,
                    metadata,
                    timestamp
                }),
            (0u64..1000).prop_map(|timestamp| Op::Anchor { timestamp }),
            arb_status().prop_map(Op::Status),
            Just(Op::JsonRoundTrip),
            Just(Op::BytesRoundTrip),
        ]
    }

    fn check_invariants(state: &StreamState, genesis: Cid) -> Result<(), TestCaseError> {
        let first = state.log().first();
        prop_assert_eq!(first.map(|e| (e.cid, e.kind)), Some((genesis, CommitKind::Genesis)));
        prop_assert_eq!(state.stream_id().cid(), genesis);
        prop_assert_eq!(state.tip(), state.log().last().map_or(genesis, |e| e.cid));
        Ok(())
    }

    proptest! {
        /// Whatever the SDK does to a state (genesis, data changes, anchors, status changes,
        /// a JSON round trip), the log is non-empty and starts with the genesis, and
        /// `stream_id()` and `tip()` answer.
        #[test]
        fn sdk_states_never_have_an_empty_log(
            code in 0u64..1100,
            genesis_content in arb_json(),
            pending in proptest::option::of(arb_json()),
            ops in proptest::collection::vec(arb_op(), 0..12),
        ) {
            let stream = StreamId::new(StreamType::new(code), cid(0)).unwrap();
            let mut genesis = Genesis::new(genesis_content, Map::new(), SignatureStatus::Genesis);
            if let Some(p) = pending {
                genesis = genesis.with_next(Next { content: Some(p), metadata: None });
            }
            let mut state = StreamState::from_genesis(stream, None, genesis);
            check_invariants(&state, cid(0))?;
            for (i, op) in ops.into_iter().enumerate() {
                let commit = cid(u8::try_from(i + 1).unwrap());
                let before = state.log().len();
                state = match op {
                    Op::Data { content, metadata, timestamp } => {
                        let mut change = Change::content(content.clone());
                        if let Some(m) = metadata.clone() {
                            change = change.with_metadata(m);
                        }
                        let pending_metadata = state.next().and_then(|n| n.metadata.clone());
                        let next = state.with_change(commit, timestamp, change);
                        prop_assert_eq!(next.log().len(), before + 1);
                        prop_assert_eq!(next.tip(), commit);
                        prop_assert_eq!(next.content(), state.content());
                        prop_assert_eq!(next.metadata(), state.metadata());
                        prop_assert_eq!(next.anchor_status(), AnchorStatus::NotRequested);
                        prop_assert_eq!(
                            next.next(),
                            Some(&Next { content, metadata: metadata.or(pending_metadata) })
                        );
                        next
                    }
                    Op::Anchor { timestamp } => {
                        let next = crate::apply_anchor(&state, commit, proof(1), timestamp);
                        prop_assert_eq!(next.log().len(), before + 1);
                        prop_assert_eq!(next.anchor_status(), AnchorStatus::Anchored);
                        prop_assert!(next.next().is_none());
                        next
                    }
                    Op::Status(status) => {
                        let next = state.with_anchor_status(status);
                        prop_assert_eq!(next.anchor_status(), status);
                        next
                    }
                    Op::JsonRoundTrip => {
                        let back = StreamState::from_js_json(&state.to_js_json());
                        prop_assert_eq!(back.as_ref(), Ok(&state));
                        back.unwrap()
                    }
                    Op::BytesRoundTrip => {
                        let back = StreamState::from_bytes(&state.to_bytes());
                        prop_assert_eq!(back.as_ref(), Ok(&state));
                        back.unwrap()
                    }
                };
                check_invariants(&state, cid(0))?;
            }
        }

        /// Reading arbitrary JSON never panics, and whatever it accepts keeps the invariants.
        #[test]
        fn from_js_json_of_any_json_keeps_the_invariants(
            value in arb_json(),
            log in proptest::collection::vec((0u8..4, proptest::option::of(0u64..5)), 0..4),
            code in 0u64..5,
            cid_text in prop_oneof![
                Just(cid(0).to_string()),
                // A CIDv0: not a stream's genesis.
                Just("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG".to_string()),
                "[a-z0-9]{0,8}",
            ],
        ) {
            // A state-shaped object whose log is arbitrary, and arbitrary JSON besides.
            let log: Vec<Value> = log
                .into_iter()
                .map(|(kind, t)| json!({"cid": cid_text, "type": kind, "timestamp": t}))
                .collect();
            let shaped = json!({
                "type": code, "content": value, "metadata": {}, "signature": 0,
                "anchorStatus": "PENDING", "log": log,
            });
            for candidate in [shaped, value] {
                if let Ok(state) = StreamState::from_js_json(&candidate) {
                    let genesis = state.stream_id().cid();
                    check_invariants(&state, genesis)?;
                    prop_assert_eq!(state.stream_id().stream_type(), StreamType::new(code));
                }
            }
        }

        #[test]
        fn js_json_round_trips(n in 0u8..20, anchored in any::<bool>(), next in any::<bool>(), t in any::<u32>()) {
            let mut state = StreamState::genesis(StreamType::new(u64::from(n)), cid(0), json!({"n": n}), Map::new(), SignatureStatus::Signed).unwrap();
            for i in 1..n {
                let metadata = next.then(Map::new);
                let change = Change { content: Some(json!([1, i])), metadata, signature: SignatureStatus::Signed };
                state = state.with_change(cid(i), anchored.then_some(u64::from(t)), change);
            }
            if anchored {
                state = crate::apply_anchor(&state, cid(99), proof(1), u64::from(t));
            }
            prop_assert_eq!(StreamState::from_bytes(&state.to_bytes()), Ok(state.clone()));
            // Kept apart, as a store may keep them: the head, and each entry on its own.
            let entries: Vec<Vec<u8>> = state.log().iter().map(LogEntry::to_bytes).collect();
            let log: Vec<LogEntry> =
                entries.iter().map(|e| LogEntry::from_bytes(e).unwrap()).collect();
            prop_assert_eq!([state.head_to_bytes(), entries.concat()].concat(), state.to_bytes());
            prop_assert_eq!(StreamState::from_head_and_log(&state.head_to_bytes(), log), Ok(state.clone()));
            prop_assert_eq!(StreamState::from_js_json(&state.to_js_json()), Ok(state));
        }

        /// Reading arbitrary bytes, or a valid state's bytes cut short or with a byte changed,
        /// never panics, and whatever it accepts keeps the invariants.
        #[test]
        fn from_bytes_of_any_bytes_keeps_the_invariants(
            noise in proptest::collection::vec(any::<u8>(), 0..64),
            cut in any::<prop::sample::Index>(),
            flip in any::<(prop::sample::Index, u8)>(),
        ) {
            let state = StreamState::genesis(StreamType::new(0), cid(0), json!({"a": [1, "b"]}), Map::new(), SignatureStatus::Signed)
                .unwrap()
                .with_change(cid(1), Some(5), Change::content(Some(json!(2))));
            let state = crate::apply_anchor(&state, cid(2), proof(1), 7);
            let bytes = state.to_bytes();
            let mut flipped = bytes.clone();
            let at = flip.0.index(flipped.len());
            flipped[at] ^= flip.1.max(1);
            let cut = &bytes[..cut.index(bytes.len())];
            for candidate in [&noise[..], cut, &flipped[..]] {
                if let Ok(state) = StreamState::from_bytes(candidate) {
                    check_invariants(&state, state.stream_id().cid())?;
                }
            }
            prop_assert!(StreamState::from_bytes(cut).is_err());
        }
    }

    #[test]
    fn bytes_keep_every_field() {
        let mut metadata = Map::new();
        metadata.insert("controllers".into(), json!(["did:key:z6Mk"]));
        metadata.insert("b".into(), json!(1));
        metadata.insert("a".into(), json!(2));
        let state = StreamState::genesis(
            StreamType::new(1),
            cid(0),
            json!({"z": 1, "a": 2}),
            metadata.clone(),
            SignatureStatus::Genesis,
        )
        .unwrap()
        .with_change(cid(1), None, Change::content(None).with_metadata(metadata));
        let mut proof = proof(3);
        proof.tx_type = Some("f(bytes32)".into());
        let state = crate::apply_anchor(&state, cid(2), proof, 1_700_000_000)
            .with_change(cid(4), None, Change::content(Some(json!(null))))
            .with_anchor_status(AnchorStatus::Pending);
        let back = StreamState::from_bytes(&state.to_bytes()).unwrap();
        assert_eq!(back, state);
        // Key order survives (the JSON text is kept, not re-sorted).
        assert_eq!(back.to_js_json().to_string(), state.to_js_json().to_string());
        let mut trailing = state.to_bytes();
        trailing.push(0);
        assert_eq!(StreamState::from_bytes(&trailing), Err(StateBytesError::Trailing(1)));
        // A head with fewer or more entries than it names, or with an entry's bytes after it.
        let head = state.head_to_bytes();
        let log = state.log().to_vec();
        let short = log[..log.len() - 1].to_vec();
        assert_eq!(
            StreamState::from_head_and_log(&head, short),
            Err(StateBytesError::LogCount { named: 4, given: 3 })
        );
        let entry = log[1].to_bytes();
        assert_eq!(
            StreamState::from_head_and_log(&[head.clone(), entry.clone()].concat(), log.clone()),
            Err(StateBytesError::Trailing(entry.len()))
        );
        assert_eq!(StreamState::from_head_and_log(&head, log.clone()), Ok(state));
        let mut long_entry = entry;
        long_entry.push(0);
        assert_eq!(LogEntry::from_bytes(&long_entry), Err(StateBytesError::Trailing(1)));
        assert!(LogEntry::from_bytes(&[]).is_err());
    }

    #[test]
    fn genesis_rejects_a_cid_v0() {
        let v0: Cid = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG".parse().unwrap();
        let made = StreamState::genesis(
            StreamType::TILE,
            v0,
            json!({}),
            Map::new(),
            SignatureStatus::Genesis,
        );
        assert!(made.is_err());
    }

    #[test]
    fn with_change_keeps_the_pending_metadata_unless_given() {
        let stream = StreamId::new(StreamType::TILE, cid(0)).unwrap();
        let state = StreamState::from_genesis(
            stream,
            Some(0),
            Genesis::new(json!({"a": 1}), Map::new(), SignatureStatus::Genesis),
        );
        // A zero timestamp is falsy in js and not recorded.
        assert_eq!(state.log()[0].timestamp, None);
        let m = Map::from_iter([("k".to_string(), json!(1))]);
        let one =
            state.with_change(cid(1), Some(5), Change::content(None).with_metadata(m.clone()));
        assert_eq!(one.next(), Some(&Next { content: None, metadata: Some(m.clone()) }));
        assert_eq!(one.current_content(), &json!({"a": 1}));
        assert_eq!(one.log()[1].timestamp, Some(5));
        let two = one.with_change(cid(2), None, Change::content(Some(json!(2))));
        assert_eq!(two.next(), Some(&Next { content: Some(json!(2)), metadata: Some(m) }));
        assert_eq!(two.signature(), SignatureStatus::Signed);
        assert_eq!(two.tip(), cid(2));
        assert_eq!(two.stream_id(), stream);
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
        .unwrap()
        .to_js_json();
        for (key, bad) in [
            ("log", json!([])),
            ("log", json!([{"cid": cid(0).to_string(), "type": 1}])),
            ("log", json!([{"cid": "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", "type": 0}])),
            ("anchorStatus", json!("SOON")),
            ("signature", json!(7)),
            ("type", json!("x")),
        ] {
            let mut value = good.clone();
            value[key] = bad.clone();
            assert!(StreamState::from_js_json(&value).is_err(), "{key}: {bad}");
        }
    }
}
