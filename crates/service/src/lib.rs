//! The node service: the node's operations as one typed async API — create a stream, apply a
//! commit, load (by StreamID, CommitID or at a time), list commits, request an anchor,
//! pin/unpin/list pins, query by controller/family/tag, subscribe — taking and returning typed
//! values ([`StreamState`](ceramic_doctype::StreamState), [`CommitBlocks`], ids) with one error
//! enum per operation. Every front-end calls it directly: gRPC (`ceramic-grpc`), the js-ceramic
//! HTTP API (`ceramic-http-api`); none calls another.
//!
//! Layer: above the engine, storage (traits only: no RocksDB here) and networking, below the
//! front-ends and the node assembly (`ceramic-core`), which builds it with the real anchor
//! requester and network loader ([`AnchorRequester`], [`NetworkLoader`]: traits defined here so
//! the service never names the crates that implement them). Follows `specs/node.md`.
//!
//! # Errors
//!
//! Each operation has its own error enum ([`WriteError`], [`LoadError`], [`AnchorError`],
//! [`StoreError`]), and each error says what the caller should do through
//! [`kind`](WriteError::kind) ([`ErrorKind`]): fix the input, look elsewhere, rebuild on the new
//! tip, retry. Front-ends map kinds to their status codes in one place each.
//!
//! # Blocking work
//!
//! Signature checks and RocksDB I/O are synchronous: every engine and storage call runs through
//! one helper on tokio's blocking pool. Dropping a returned future midway is safe.
//!
//! ```
//! use std::sync::Arc;
//! use ceramic_engine::{Engine, memory::{FakeAnchorVerifier, RecordingPublisher}};
//! use ceramic_service::{Service, StreamFilter};
//! use ceramic_storage::{MemoryStorage, Storage};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let storage = Arc::new(MemoryStorage::new());
//! let engine = Engine::new(
//!     storage.clone(),
//!     ceramic_doctype::Registry::new(),
//!     Arc::new(FakeAnchorVerifier::default()),
//!     Arc::new(RecordingPublisher::default()),
//! );
//! let service = Service::builder(Arc::new(engine), storage as Arc<dyn Storage>).build();
//! assert!(service.streams(StreamFilter::All, None, 10).await?.streams.is_empty());
//! # Ok(())
//! # }
//! # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
//! ```
//!
//! No cargo features.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
// Storage errors name their keys (~256 bytes) and pass through the blocking helper's closures;
// they are rare and every path returning one did I/O, so boxing them there buys nothing.
#![allow(clippy::result_large_err)]

mod anchor;
mod backup;
mod error;
mod feed;
mod hooks;
mod info;
mod metrics;
mod service;
mod store;
mod subscribe;
mod updates;

pub use anchor::{
    AnchorFuture, AnchorRequestError, AnchorRequester, LoadFuture, NetworkError, NetworkLoader,
};
pub use backup::BackupError;
pub use ceramic_storage::{FeedEntry, FeedPage, GcReport, MAX_PAGE, Page, Stats};
pub use error::{AnchorError, ErrorKind, LoadError, StoreError, TaskError, WriteError};
pub use feed::{FOLLOW_BUFFER, FeedFilter, FeedFollower};
pub use hooks::{HookEvent, HookEventKind, HookInfo, Hooks, Verdict};
pub use info::Info;
pub use metrics::{
    HookLabels, HookReasonLabels, Metrics, ReasonLabels, RejectLabels, TargetLabels, Totals,
};
pub use service::{
    AnchorRequested, CommitBlocks, CommitLog, DEFAULT_PAGE, MAX_BLOCKS, Service, ServiceBuilder,
};
pub use store::{GcRun, Health, StreamFilter};
pub use subscribe::Subscription;
pub use updates::{UPDATES_CAPACITY, Updates};
