//! An example third-party doctype: a counter that only its controller can increase.
//!
//! **This crate is the template to copy** when you write your own stream type. It depends only
//! on the doctype SDK (`ceramic-doctype`) and the crates below it (`ceramic-codecs`,
//! `ceramic-streamid`), never on the engine, storage or networking, which proves that a doctype
//! can live outside this repository. Follows `specs/doctypes/counter.md`.
//!
//! The rules (stream type code 1000, see [`STREAM_TYPE`]):
//!
//! - **Genesis**: signed by its single controller, a DID. `data` is absent, null, or
//!   `{"count": n}` with `n` a non-negative integer up to [`MAX_COUNT`]. Content:
//!   `{"count": n}` (0 by default).
//! - **Update**: a data commit signed by the controller, no header changes, `data` exactly
//!   `{"add": k}` with `1 ≤ k ≤` [`MAX_ADD`]. The pending view (`next.content`) gets
//!   `count + k`; an anchor commit makes it the anchored `content`, as for every doctype.
//! - **Anchors and conflicts** are the engine's shared rules; a doctype never sees an anchor.
//!
//! What the engine guarantees before calling a doctype: the blocks decoded strictly, `id` and
//! `prev` link to the state, and [`Commit::signer`](ceramic_doctype::Commit::signer) is a DID
//! whose signature really verified. What is left to the doctype: who may sign, and what the
//! data means.
//!
//! What a doctype returns is only what the commit changes: `apply_genesis` a
//! [`Genesis`](ceramic_doctype::Genesis) (content, metadata, signature status) and `apply_data`
//! a [`Change`](ceramic_doctype::Change) (the new pending content, and metadata if it changes).
//! The SDK does the bookkeeping that is the same for every doctype — the log entry, the
//! anchored vs pending views, the anchor status — so a doctype cannot get it wrong; and the
//! metadata comes from the header by the SDK's one rule,
//! [`metadata_from_header`](ceramic_doctype::metadata_from_header).
//!
//! To run it, register it next to the built-in doctypes when the node starts:
//!
//! ```
//! use ceramic_doctype::Registry;
//! use ceramic_doctype_counter::{Counter, STREAM_TYPE};
//!
//! let mut registry = Registry::new();
//! registry.register(Counter)?;
//! assert_eq!(registry.get(STREAM_TYPE).map(|d| d.name()), Some("counter"));
//! # Ok::<(), ceramic_doctype::RegistryError>(())
//! ```
//!
//! Applying commits directly, as the engine does (the doctype decides, the SDK builds the
//! state):
//!
//! ```
//! use ceramic_codecs::{Block, Codec, DataCommit, GenesisCommit, Header, Ipld, Payload};
//! use ceramic_doctype::{Commit, Context, ContextError, Doctype, StreamState};
//! use ceramic_doctype_counter::{Counter, STREAM_TYPE};
//! use ceramic_streamid::StreamId;
//!
//! struct NoStreams;
//! impl Context for NoStreams {
//!     fn load_content(&self, id: &ceramic_streamid::CommitId) -> Result<serde_json::Value, ContextError> {
//!         Err(ContextError::NotFound(*id))
//!     }
//! }
//!
//! let alice = "did:key:z6MkAlice";
//! let genesis = Payload::Genesis(GenesisCommit {
//!     header: Header { controllers: Some(vec![alice.into()]), ..Header::default() },
//!     data: None,
//! });
//! let cid = *Block::encode(Codec::DagCbor, &genesis)?.cid();
//! let commit = Commit { cid, payload: &genesis, signer: Some(alice), capability: None, timestamp: None };
//! let genesis = Counter.apply_genesis(&commit, &NoStreams)?;
//! let state = StreamState::from_genesis(StreamId::new(STREAM_TYPE, cid)?, None, genesis);
//!
//! let add = Ipld::Map([("add".to_string(), Ipld::Integer(5))].into());
//! let update = Payload::Data(DataCommit { id: cid, prev: state.tip(), header: None, data: Some(add) });
//! // In a real log this is the CID of the signed envelope.
//! let cid = *Block::encode(Codec::DagCbor, &update)?.cid();
//! let commit = Commit { cid, payload: &update, signer: Some(alice), capability: None, timestamp: None };
//! let change = Counter.apply_data(&state, &commit, &NoStreams)?;
//! let state = state.with_change(cid, commit.timestamp, change);
//! assert_eq!(state.current_content(), &serde_json::json!({"count": 5}));
//! assert_eq!(state.content(), &serde_json::json!({"count": 0}), "until an anchor lands");
//! assert_eq!(state.log().len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Deliberately left out to keep the example small: CACAO-delegated writes (a commit signed by a
//! session key under a capability is rejected as [`Error::WrongSigner`]) and controller changes.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod counter;
mod error;

pub use counter::{Counter, MAX_ADD, MAX_COUNT, STREAM_TYPE};
pub use error::{DataError, Error, Result};
