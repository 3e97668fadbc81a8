//! Test fixtures: a did:key writer that signs Tile commits the way a js-ceramic client does, an
//! in-memory [`Context`] for schemas, and proptest strategies for valid JSON-patch updates.
//!
//! Enabled by the `test-utils` feature (and in this crate's unit tests).

use std::collections::{BTreeSet, HashMap};

use ceramic_codecs::{Block, Cid, Codec, DataCommit, GenesisCommit, Header, Payload, Unique};
use ceramic_did::{KeySigner, KeyType, Signer as _, sign_commit};
use ceramic_doctype::{Commit, Context, ContextError, Doctype, StreamState, json_to_ipld};
use ceramic_streamid::{CommitId, StreamId};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Runs `doctype` on a genesis commit and makes the state from its [`ceramic_doctype::Genesis`]
/// as the engine does.
///
/// # Errors
/// The doctype's error.
///
/// # Panics
/// If the commit's CID is a CIDv0 (no stream can have it; a test bug).
pub fn genesis_state<D: Doctype>(
    doctype: &D,
    commit: &Commit<'_>,
    ctx: &dyn Context,
) -> Result<StreamState, D::Error> {
    let genesis = doctype.apply_genesis(commit, ctx)?;
    let stream = StreamId::new(doctype.stream_type(), commit.cid).expect("a CIDv1 genesis");
    Ok(StreamState::from_genesis(stream, commit.timestamp, genesis))
}

/// Runs `doctype` on a data commit on top of `state` and applies its
/// [`ceramic_doctype::Change`] as the engine does.
///
/// # Errors
/// The doctype's error.
pub fn data_state<D: Doctype>(
    doctype: &D,
    state: &StreamState,
    commit: &Commit<'_>,
    ctx: &dyn Context,
) -> Result<StreamState, D::Error> {
    let change = doctype.apply_data(state, commit, ctx)?;
    Ok(state.with_change(commit.cid, commit.timestamp, change))
}

/// A commit ready to apply: its CID, payload and the DID that signed it (if signed).
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The commit CID (the envelope's when signed).
    pub cid: Cid,
    /// The payload.
    pub payload: Payload,
    /// The signer, `None` for an unsigned commit.
    pub signer: Option<String>,
    /// The anchor timestamp to report, if any.
    pub timestamp: Option<u64>,
}

impl Fixture {
    /// The commit as the engine hands it to a doctype.
    pub fn commit(&self) -> Commit<'_> {
        Commit {
            cid: self.cid,
            payload: &self.payload,
            signer: self.signer.as_deref(),
            capability: None,
            timestamp: self.timestamp,
        }
    }

    /// Applies this genesis commit with `doctype`: [`genesis_state`].
    ///
    /// # Errors
    /// The doctype's error.
    pub fn apply_genesis<D: Doctype>(
        &self,
        doctype: &D,
        ctx: &dyn Context,
    ) -> Result<StreamState, D::Error> {
        genesis_state(doctype, &self.commit(), ctx)
    }

    /// Applies this data commit on top of `state` with `doctype`: [`data_state`].
    ///
    /// # Errors
    /// The doctype's error.
    pub fn apply_data<D: Doctype>(
        &self,
        doctype: &D,
        state: &StreamState,
        ctx: &dyn Context,
    ) -> Result<StreamState, D::Error> {
        data_state(doctype, state, &self.commit(), ctx)
    }

    /// The same payload claimed by another signer (as if the engine had verified it): for
    /// testing the doctype's signer rules without a second key.
    pub fn signed_by(mut self, did: Option<&str>) -> Self {
        self.signer = did.map(str::to_owned);
        self
    }

    /// An unsigned commit: the dag-cbor block of `payload`.
    ///
    /// # Panics
    /// If the payload cannot be encoded (a test bug).
    pub fn unsigned(payload: Payload) -> Self {
        let cid = *Block::encode(Codec::DagCbor, &payload).expect("payload encodes").cid();
        Fixture { cid, payload, signer: None, timestamp: None }
    }
}

/// A did:key (Ed25519) controller that writes Tile commits.
#[derive(Debug)]
pub struct Writer {
    signer: KeySigner,
}

impl Writer {
    /// The writer whose Ed25519 seed is 32 copies of `seed`.
    ///
    /// # Panics
    /// Never: every 32-byte Ed25519 seed is valid.
    pub fn new(seed: u8) -> Self {
        Writer::from_signer(
            KeySigner::from_seed(KeyType::Ed25519, &[seed; 32]).expect("valid seed"),
        )
    }

    /// A writer over any did:key signer.
    pub fn from_signer(signer: KeySigner) -> Self {
        Writer { signer }
    }

    /// The writer's DID.
    pub fn did(&self) -> &str {
        self.signer.did()
    }

    /// A genesis header with this writer as controller and a fixed `unique`.
    pub fn header(&self) -> Header {
        Header {
            controllers: Some(vec![self.did().to_owned()]),
            unique: Some(Unique::Text("AAAAAAAAAAAAAAAA".into())),
            ..Header::default()
        }
    }

    /// Signs any payload.
    ///
    /// # Panics
    /// If the payload cannot be encoded or signed (a test bug).
    pub fn sign(&self, payload: Payload) -> Fixture {
        let signed = sign_commit(&self.signer, &payload).expect("commit signs");
        Fixture {
            cid: *signed.envelope_block().cid(),
            payload,
            signer: Some(self.did().to_owned()),
            timestamp: None,
        }
    }

    /// A signed genesis `{header, data: content}`.
    ///
    /// # Panics
    /// If `content` is not representable (a test bug).
    pub fn genesis(&self, header: Header, content: Option<Value>) -> Fixture {
        let data = content.map(|c| json_to_ipld(&c).expect("content converts"));
        self.sign(Payload::Genesis(GenesisCommit { header, data }))
    }

    /// A signed data commit on top of `state` with `header` and the JSON patch `patch`.
    ///
    /// # Panics
    /// If `patch` is not representable (a test bug).
    pub fn update(&self, state: &StreamState, header: Header, patch: Value) -> Fixture {
        self.sign(data_payload(state, Some(header), Some(patch)))
    }
}

/// A data-commit payload on top of `state` (`id` = genesis, `prev` = tip).
///
/// # Panics
/// If `patch` is not representable (a test bug).
pub fn data_payload(state: &StreamState, header: Option<Header>, patch: Option<Value>) -> Payload {
    Payload::Data(DataCommit {
        id: state.stream_id().cid(),
        prev: state.tip(),
        header,
        data: patch.map(|p| json_to_ipld(&p).expect("patch converts")),
    })
}

/// Stream contents by CommitID, for schema look-ups.
#[derive(Debug, Default, Clone)]
pub struct MemoryContext {
    contents: HashMap<CommitId, Value>,
}

impl MemoryContext {
    /// An empty context.
    pub fn new() -> Self {
        MemoryContext::default()
    }

    /// Adds the content of a stream at a commit.
    pub fn with(mut self, id: CommitId, content: Value) -> Self {
        self.contents.insert(id, content);
        self
    }
}

impl Context for MemoryContext {
    fn load_content(&self, id: &CommitId) -> Result<Value, ContextError> {
        self.contents.get(id).cloned().ok_or(ContextError::NotFound(*id))
    }
}

/// The keys the patch strategies use.
pub const KEYS: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

/// Small JSON leaves that survive a round trip through dag-cbor unchanged (no integral floats,
/// which a JS client would write as integers).
pub fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(Value::from),
        (-1000i64..1000).prop_map(|n| json!(n as f64 + 0.5)),
        "[a-z ]{0,8}".prop_map(Value::String),
        prop::collection::vec(-9i64..9, 0..4).prop_map(|v| json!(v)),
    ]
}

/// A small object over [`KEYS`].
pub fn arb_object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), arb_leaf(), 0..5)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

/// An initial object and a sequence of JSON patches (1 to 4 `add`/`replace` ops each on its
/// top-level keys) that all apply in order: a `replace` only targets a key that exists by then.
pub fn arb_patch_script() -> impl Strategy<Value = (Value, Vec<Value>)> {
    let op = (any::<bool>(), 0..KEYS.len(), arb_leaf());
    let update = prop::collection::vec(op, 1..5);
    (arb_object(), prop::collection::vec(update, 1..8)).prop_map(|(initial, updates)| {
        let mut present: BTreeSet<&str> = initial
            .as_object()
            .map(|o| o.keys().filter_map(|k| key(k)).collect())
            .unwrap_or_default();
        let patches = updates
            .into_iter()
            .map(|ops| {
                let ops: Vec<Value> = ops
                    .into_iter()
                    .map(|(replace, k, value)| {
                        let name = KEYS[k];
                        let op = if replace && present.contains(name) { "replace" } else { "add" };
                        present.insert(name);
                        json!({"op": op, "path": format!("/{name}"), "value": value})
                    })
                    .collect();
                Value::Array(ops)
            })
            .collect();
        (initial, patches)
    })
}

/// The keys [`arb_json`] uses: few, so that old and new values share keys, with array-index
/// keys (JS lists them first), JSON-pointer escapes and non-ASCII.
pub const JSON_KEYS: [&str; 10] = ["a", "b", "c", "0", "1", "10", "a/b", "~", "", "é"];

/// Any JSON value up to 4 levels deep: every scalar kind (finite floats, 64-bit integers),
/// arrays and objects whose keys come in any insertion order.
pub fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        "[ab~/é]{0,3}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(JSON_KEYS.to_vec()), inner), 0..5)
                .prop_map(|entries| {
                    Value::Object(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
                }),
        ]
    })
}

fn key(name: &str) -> Option<&'static str> {
    KEYS.iter().copied().find(|k| *k == name)
}
