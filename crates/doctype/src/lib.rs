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
//! ```
//! use ceramic_doctype::{AnchorStatus, SignatureStatus, StreamState};
//! use ceramic_streamid::StreamType;
//!
//! let state = StreamState::genesis(StreamType::TILE, "bafyreig5qtb7sfou7bnmnyzvohvogiz5elmhquxzzaqvbdxoj2cjjviwve".parse()?, serde_json::json!({"a": 1}), Default::default(), SignatureStatus::Genesis);
//! assert_eq!(state.anchor_status, AnchorStatus::NotRequested);
//! assert_eq!(state.tip(), state.log[0].cid);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod anchor;
mod doctype;
mod json;
mod state;

pub use anchor::apply_anchor;
pub use ceramic_codecs::AnchorProof;
pub use doctype::{
    Commit, Context, ContextError, Doctype, DoctypeError, DynDoctype, Registry, RegistryError,
};
pub use json::{JsonError, ipld_to_json, json_to_ipld};
pub use state::{
    AnchorStatus, CommitKind, LogEntry, Metadata, Next, SignatureStatus, StateJsonError,
    StreamState,
};
