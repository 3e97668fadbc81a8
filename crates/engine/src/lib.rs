//! The state engine: loads a stream's log through a [`BlockSource`], verifies signatures and
//! anchors, applies commits through the registered doctypes, and resolves forks between
//! branches exactly as js-ceramic's `_pickLogToAccept` does.
//!
//! Layer: above the doctype SDK and the built-in doctypes' crates (which it never names: they
//! arrive through a [`ceramic_doctype::Registry`]), the storage traits (`ceramic-storage`) and
//! the anchor checks (`ceramic-anchor`); below the RocksDB store, networking and the node. It
//! talks to the world only through traits — [`ceramic_storage::Storage`] (blocks and states,
//! read through [`ceramic_storage::BlockSource`]s), [`AnchorVerifier`] (chain inclusion, from
//! `ceramic-anchor`, re-exported here) and [`Publisher`] (announcing new tips) — with in-memory
//! implementations in `ceramic_storage::MemoryStorage` and [`memory`] for tests. Follows
//! `specs/engine.md`.
//!
//! Feature flags: `test-utils` (a minimal doctype and commit builders in [`test_utils`], for
//! the tests of this crate and the crates above), `fuzzing` (the body of the
//! `engine_hostile_log` cargo-fuzz target in [`fuzzing`]; turns on `test-utils`).
//!
//! ```
//! use std::sync::Arc;
//! use ceramic_engine::{Engine, memory::{FakeAnchorVerifier, RecordingPublisher}};
//! use ceramic_storage::MemoryStorage;
//!
//! let engine = Engine::new(
//!     Arc::new(MemoryStorage::new()),
//!     ceramic_doctype::Registry::new(),
//!     Arc::new(FakeAnchorVerifier::default()),
//!     Arc::new(RecordingPublisher::default()),
//! );
//! # let _ = engine;
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod conflict;
mod engine;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod log;
pub mod memory;
mod recheck;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;
mod three_id;
mod traits;

pub use ceramic_anchor::{AnchorError, AnchorVerifier};
pub use conflict::{Branch, Winner, js_bytes_less, pick_log_to_accept};
pub use engine::{Engine, Expect, TipOutcome};
pub use error::ApplyError;
pub use log::LoadedCommit;
pub use recheck::Recheck;
pub use three_id::StreamFetcher;
pub use traits::{Fanout, Publisher};
