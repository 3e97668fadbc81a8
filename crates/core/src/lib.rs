//! The assembled Ceramic node: what `ceramic-node` runs and what multi-node tests start in
//! process, built in one place: [`Node::builder`]`(config)` → [`NodeBuilder::with_doctype`] (any
//! crate's doctype, by value) → [`NodeBuilder::start`] → [`Node::run`]. It puts together:
//!
//! - storage: RocksDB under `<data_dir>/store` (`ceramic-storage`);
//! - the engine with the configured doctypes, and the node service (`ceramic-service`) over it;
//! - anchoring: an embedded anchor service (`ceramic-anchor-service`, its requests in RocksDB
//!   under `<data_dir>/anchor`) on the in-process dev chain (`inmemory:12345`, the default) or
//!   on Ethereum (`ceramic-anchor-eth`), or a remote CAS over its HTTP API (ours or any;
//!   [`RemoteRequester`], the requests kept under `<data_dir>/anchor-remote` and polled); anchor
//!   commits are applied to the engine as tips (conflict resolution decides), and the engine's
//!   anchor verifier is a [`Chains`] of the dev chain, the configured chain and the verify-only
//!   `[[chains]]` (no key), with a cache;
//! - garbage collection: writes pin their stream unless `opts.pin` says otherwise
//!   (`[gc] pin_on_write`), the configured `pins` are pinned at start, and unpinned streams are
//!   collected every `[gc] interval_secs` and on demand (`RunGc`), never under a write in
//!   flight;
//! - the network (`ceramic-net`), which also loads unknown streams for the service;
//! - the front-ends: gRPC (`ceramic-grpc`, with reflection) and the js-ceramic HTTP API
//!   (`ceramic-http-api`) with Prometheus metrics at `/metrics`, until one shutdown stops all.
//!
//! The configuration ([`NodeConfig`]) is the TOML file `ceramic-node` reads; every field has a
//! default, and a value that does not fit is a [`ConfigError`] naming its key.
//!
//! Layer: the top of the library stack, below only `bins/*`.
//!
//! ```no_run
//! use ceramic_core::{Node, NodeConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let node = Node::builder(NodeConfig::local("./data"))
//!     .with_doctype(ceramic_doctype_tile::Tile::new())
//!     .start()
//!     .await?;
//! println!("gRPC on {}, HTTP on {}", node.grpc_addr()?, node.http_addr()?);
//! node.run(std::future::pending()).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Feature flags: `fuzzing` (the body of the `core_node_config` cargo-fuzz target in
//! [`fuzzing`]).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod anchoring;
mod backup;
mod config;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod node;
mod remote_cas;
mod run;
mod three_id_fetch;

pub use anchoring::{
    Anchoring, CasRequester, DEFAULT_POLL_INTERVAL, EthAnchoring, RemoteAnchoring,
};
pub use ceramic_anchor::Chains;
pub use config::{
    AnchoringConfig, BackupConfig, ChainName, ConfigError, HttpConfig, NodeConfig, P2pConfig,
};
pub use config::{ChainConfig, DEFAULT_GC_INTERVAL_SECS, GcConfig, validate_chains};
pub use error::Error;
pub use node::{Node, NodeBuilder};

/// The tokio runtime a node runs best on: multi-threaded, with I/O and timers, and threads with
/// [`ceramic_hooks::INLINE_STACK`] bytes of stack, marked so (`on_thread_start`), so that hook
/// calls run on the thread that makes them instead of being handed to a call thread of the
/// hook (`benches/README.md`, "hooks write path"). `ceramic-node` runs on it; a node also runs
/// on any other runtime (its hook calls are then handed over).
pub fn runtime_builder() -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder
        .enable_all()
        .thread_stack_size(ceramic_hooks::INLINE_STACK)
        .on_thread_start(|| ceramic_hooks::mark_thread_stack(ceramic_hooks::INLINE_STACK));
    builder
}
pub use remote_cas::RemoteRequester;
pub use three_id_fetch::FETCH_BOUND as THREE_ID_FETCH_BOUND;
