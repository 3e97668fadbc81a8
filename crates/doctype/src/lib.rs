//! The doctype SDK: what a stream type (a "doctype") implements to decide which commits are
//! valid and how they change a stream's state, plus the state itself and the shared rule for
//! anchor commits.
//!
//! Layer: above `ceramic-codecs` and `ceramic-streamid`; below the built-in doctypes
//! (`ceramic-doctype-tile`, `ceramic-doctype-caip10`) and the engine. A third party writes a
//! doctype against this crate alone (see `crates/doctype-counter`) and registers it in the
//! node's [`Registry`]. Follows `specs/doctypes.md` (js-ceramic's `StreamHandler` contract).
//!
//! The engine does the work common to all doctypes before calling one: it decodes blocks
//! strictly, verifies envelope signatures cryptographically (so [`Commit::signer`] is a DID that
//! really signed), checks that `id` and `prev` link to the state, and applies anchor commits
//! ([`apply_anchor`]). A doctype decides everything stream-specific: who may sign, what the
//! header may hold, how data changes content.
//!
//! A doctype never builds a [`StreamState`] itself: [`Doctype::apply_genesis`] returns a
//! [`Genesis`] (content, metadata, signature status) and [`Doctype::apply_data`] a [`Change`]
//! (the new pending view). The SDK turns them into states ([`StreamState::from_genesis`],
//! [`StreamState::with_change`]): it appends the log entry, keeps the anchored view while the
//! change is pending, and resets the anchor status, identically for every doctype. A state's
//! fields are private, so its log is never empty and always starts with the genesis. Headers
//! become metadata by one rule, [`metadata_from_header`] (and [`merge_header`] for the header
//! of a data commit, where a doctype allows one).
//!
//! ```
//! use ceramic_doctype::{AnchorStatus, Change, Genesis, SignatureStatus, StreamState};
//! use ceramic_streamid::{StreamId, StreamType};
//! use serde_json::json;
//!
//! let genesis_cid = "bafyreig5qtb7sfou7bnmnyzvohvogiz5elmhquxzzaqvbdxoj2cjjviwve".parse()?;
//! let stream = StreamId::new(StreamType::TILE, genesis_cid)?;
//! // What a doctype returned for the genesis, and for a data commit.
//! let genesis = Genesis::new(json!({"a": 1}), Default::default(), SignatureStatus::Genesis);
//! let state = StreamState::from_genesis(stream, None, genesis);
//! assert_eq!(state.anchor_status(), AnchorStatus::NotRequested);
//! assert_eq!(state.tip(), genesis_cid);
//!
//! let data_cid = ceramic_codecs::cid_of(0x71, b"a data commit");
//! let state = state.with_change(data_cid, None, Change::content(Some(json!({"a": 2}))));
//! assert_eq!(state.content(), &json!({"a": 1}), "anchored view");
//! assert_eq!(state.current_content(), &json!({"a": 2}), "pending view");
//! assert_eq!((state.log().len(), state.tip(), state.stream_id()), (2, data_cid, stream));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod anchor;
mod change;
mod doctype;
mod json;
mod metadata;
mod state;

pub use anchor::apply_anchor;
pub use ceramic_codecs::AnchorProof;
pub use change::{Change, Genesis};
pub use doctype::{
    Commit, Context, ContextError, Doctype, DoctypeError, DynDoctype, Registry, RegistryError,
    signer_is_controller,
};
pub use json::{JsonError, ipld_to_json, json_to_ipld};
pub use metadata::{merge_header, metadata_from_header};
pub use state::{
    AnchorStatus, CommitKind, JsState, LogEntry, Metadata, Next, SignatureStatus, StateBytesError,
    StateJsonError, StreamState,
};
