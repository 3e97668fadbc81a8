//! The assembled Ceramic node: what `ceramic-node` runs and what multi-node tests start in
//! process. It puts together the layers below:
//!
//! - `ceramic-proto`'s [`NodeBuilder`](ceramic_proto::NodeBuilder): RocksDB storage under the
//!   data directory, the engine with the enabled doctypes, the gRPC service;
//! - anchoring: an embedded anchor service (`ceramic-anchor-service`, its requests in RocksDB
//!   under `<data_dir>/anchor`) on the in-process dev chain (`inmemory:12345`, the default) or
//!   on Ethereum (`ceramic-anchor-eth`); anchor commits it makes are applied to the engine as
//!   tips (so a newer write does not lose them: conflict resolution decides), and the engine's
//!   anchor verifier is a [`Chains`] of the dev chain and the configured chain, with a cache;
//! - the js-ceramic compatible HTTP API (`ceramic-http-api`) with Prometheus metrics at
//!   `/metrics`, served next to gRPC until one shutdown signal stops both.
//!
//! Layer: the top of the library stack, below only `bins/node`. It lives in its own crate
//! because the anchor service and the HTTP API sit above `ceramic-proto`, which they use.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod anchoring;
mod error;
mod node;

pub use anchoring::{Anchoring, CasRequester, EthAnchoring};
pub use ceramic_anchor::Chains;
pub use error::Error;
pub use node::{CoreBuilder, CoreNode, CoreOptions, Listeners};
