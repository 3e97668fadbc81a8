//! The node's storage vocabulary: the [`Storage`] trait (blocks and stream states written
//! together, pins, a safe GC, queries by controller, family and tag), [`BlockSource`] for raw
//! block sources (peers, overlays, [`MapSource`]), the key-value layer every store runs on
//! ([`kv`]: [`kv::Backend`], [`kv::Core`]), the in-memory store ([`MemoryStorage`]) and
//! per-stream CAR backups ([`Backup`], [`DirectoryBackup`]).
//!
//! Layer: above `ceramic-codecs`, `ceramic-doctype` and `ceramic-streamid`, below the anchor
//! crate and the engine, which read and write through these traits. No database library: the
//! RocksDB store (`ceramic-storage-rocks`) implements [`kv::Backend`], and [`Storage`] is
//! implemented once, for [`kv::Core`] over any backend, so every store behaves the same.
//! Follows `specs/storage.md` (column families, keys, encodings, durability, the GC rule and
//! the backup format).
//!
//! ```
//! use ceramic_codecs::{Block, Codec, GenesisCommit, Header, Payload};
//! use ceramic_doctype::{SignatureStatus, StreamState};
//! use ceramic_storage::{MemoryStorage, Storage};
//! use ceramic_streamid::StreamType;
//!
//! let genesis = GenesisCommit {
//!     header: Header { controllers: Some(vec!["did:key:z6Mkexample".into()]), ..Header::default() },
//!     data: None,
//! };
//! let block = Block::encode(Codec::DagCbor, &Payload::Genesis(genesis))?;
//! let metadata = serde_json::json!({"controllers": ["did:key:z6Mkexample"], "tags": ["demo"]});
//! let state = StreamState::genesis(
//!     StreamType::TILE,
//!     *block.cid(),
//!     serde_json::json!({}),
//!     metadata.as_object().cloned().unwrap_or_default(),
//!     SignatureStatus::Genesis,
//! )?;
//! let store = MemoryStorage::new();
//! store.write_commit(&[block], &state)?; // blocks, state and index entries in one batch
//! let id = state.stream_id();
//! store.pin(&id)?;
//! assert_eq!(store.list_by_tag("demo", None, 10)?.streams, [id]);
//! assert_eq!(store.gc()?.blocks_removed, 0); // a pinned stream keeps its log
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Invariants
//!
//! - A block is stored only as a [`Block`](ceramic_codecs::Block), whose bytes were checked
//!   against its CID, and is checked again when read back ([`Error::CorruptBlock`]).
//! - A value that does not decode is a typed error naming its key ([`Error::CorruptState`],
//!   [`Error::CorruptEntry`]); a backend's corruption report (e.g. a RocksDB checksum failure)
//!   is [`Error::CorruptFile`] naming the key being read.
//! - Every stored state's log is complete ([`Storage::log_blocks`] succeeds).
//! - GC never removes a block of a pinned stream's log; unpinned streams are a cache and GC
//!   removes them entirely (state, index entries, blocks no pinned stream needs).
//!
//! No cargo features.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
// Errors name their keys: a StreamID and a CID are ~100 bytes each, so `Error` is ~256 bytes.
// Errors are rare and every path that returns one also does I/O; boxing each key would make
// every caller's `match` deref through boxes for no measurable gain.
#![allow(clippy::result_large_err)]

mod backup;
mod core;
mod error;
pub mod kv;
mod log;
mod memory;
mod source;
mod storage;

pub use backup::{Backup, DirectoryBackup, Report, STATE_CHUNK, export_stream, import_stream};
pub use error::{Error, Key, Result, StateDecodeError};
pub use kv::{BackendError, BackendErrorKind};
pub use memory::MemoryStorage;
pub use source::{BlockSource, MapSource};
pub use storage::{
    FeedEntry, FeedPage, GcReport, IndexKind, MAX_PAGE, Page, Stats, Storage, model_controller_term,
};
