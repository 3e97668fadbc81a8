//! The state engine: loads a stream's log through a [`BlockSource`], verifies signatures and
//! anchors, applies commits through the registered doctypes, and resolves forks between
//! branches exactly as js-ceramic's `_pickLogToAccept` does.
//!
//! Layer: above the doctype SDK and the built-in doctypes' crates (which it never names: they
//! arrive through a [`ceramic_doctype::Registry`]); below storage, networking and the node. It
//! talks to the world only through the traits defined here — [`Store`] (blocks and states),
//! [`AnchorVerifier`] (chain inclusion) and [`Publisher`] (announcing new tips) — with in-memory
//! implementations in [`memory`] for tests. Follows `specs/engine.md`.
//!
//! Feature flags: `test-utils` (a minimal doctype and commit builders in [`test_utils`], for
//! the tests of this crate and the crates above).
//!
//! ```
//! use std::sync::Arc;
//! use ceramic_engine::{Engine, memory::{MemoryStore, FakeAnchorVerifier, RecordingPublisher}};
//!
//! let engine = Engine::new(
//!     Arc::new(MemoryStore::default()),
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
mod log;
pub mod memory;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;
mod traits;

pub use conflict::{Branch, Winner, js_bytes_less, pick_log_to_accept};
pub use engine::{Engine, Expect, TipOutcome};
pub use error::{AnchorError, ApplyError, StoreError};
pub use log::{LoadedCommit, verify_merkle_path};
pub use traits::{AnchorVerifier, BlockSource, Fanout, Publisher, Store};
