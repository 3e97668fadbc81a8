//! The Tile doctype (stream type 0): a JSON document whose updates are signed RFC 6902 JSON
//! patches, optionally bound to a JSON schema, with one DID controller.
//!
//! Layer: a doctype on the `ceramic-doctype` SDK, above `ceramic-codecs`, `ceramic-streamid`
//! and `ceramic-did`; nothing here knows the engine, storage or network. Follows
//! `specs/doctypes/tile.md`, which reproduces js-ceramic's `TileDocumentHandler` 6.4.0
//! (`@ceramicnetwork/stream-tile-handler`, `src/tile-document-handler.ts` and
//! `src/schema-utils.ts` in the public js-ceramic repository).
//!
//! The engine has already decoded the commit strictly, verified its signature
//! cryptographically and checked `id`/`prev`; [`Tile`] decides who may sign, what a header may
//! hold and how a patch changes the content, and returns the new pending view
//! ([`ceramic_doctype::Change`]); the SDK keeps the log. Headers become metadata by the SDK's
//! shared rule ([`ceramic_doctype::metadata_from_header`], [`ceramic_doctype::merge_header`]).
//! Anchor commits use the SDK's shared rule, [`ceramic_doctype::apply_anchor`].
//!
//! ```
//! use ceramic_codecs::{Block, Codec, GenesisCommit, Header, Payload};
//! use ceramic_doctype::{Commit, Context, ContextError, Doctype, SignatureStatus, StreamState};
//! use ceramic_streamid::{CommitId, StreamId, StreamType};
//! use ceramic_doctype_tile::Tile;
//!
//! // A node answers schema look-ups from its streams; this example has none.
//! struct NoStreams;
//! impl Context for NoStreams {
//!     fn load_content(&self, id: &CommitId) -> Result<serde_json::Value, ContextError> {
//!         Err(ContextError::NotFound(*id))
//!     }
//! }
//!
//! // An unsigned genesis without content: a deterministic tile.
//! let payload = Payload::Genesis(GenesisCommit {
//!     header: Header {
//!         controllers: Some(vec!["did:key:z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd".into()]),
//!         family: Some("profile".into()),
//!         ..Header::default()
//!     },
//!     data: None,
//! });
//! let cid = *Block::encode(Codec::DagCbor, &payload)?.cid();
//! let commit = Commit { cid, payload: &payload, signer: None, capability: None, timestamp: None };
//!
//! let tile = Tile::new();
//! // The doctype validates and returns what the genesis makes; the SDK builds the state.
//! let genesis = tile.apply_genesis(&commit, &NoStreams)?;
//! let state = StreamState::from_genesis(StreamId::new(StreamType::TILE, cid)?, None, genesis);
//! assert_eq!(state.content(), &serde_json::json!({}));
//! assert_eq!(state.metadata()["family"], "profile");
//! assert_eq!(state.signature(), SignatureStatus::Genesis);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Updates are written as the JS client writes them: [`update_payload`]'s patch is [`diff`],
//! which reproduces fast-json-patch 3.1.1 `compare()` operation for operation, so the same edit
//! gives the same commit CID as `TileDocument.update`.
//!
//! JSON schemas are compiled with `jsonschema` (no default features, so no network or file
//! access for `$ref`) and cached per schema CommitID, as js-ceramic caches its Ajv instances.
//! A schema without `$schema` is read as draft-07, Ajv's default; format checking is on, as
//! with `ajv-formats`.
//!
//! Feature flags: `test-utils` exposes the `test_utils` module (a commit signer for tests, an
//! in-memory schema [`Context`](ceramic_doctype::Context), and proptest strategies for JSON
//! patches).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod diff;
mod error;
mod header;
mod patch;
mod schema;
mod tile;
mod write;

#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use diff::{Operation, diff};
pub use error::{Error, Result};
pub use schema::{DEFAULT_SCHEMA_CACHE_CAPACITY, MAX_SCHEMA_ERRORS};
pub use tile::{MAX_CONTENT_DEPTH, Tile};
pub use write::{GenesisOptions, genesis_payload, update_payload};
