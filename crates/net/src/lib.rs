//! The peer-to-peer layer of a Ceramic node: a libp2p swarm (TCP + noise + yamux; identify,
//! ping, gossipsub, Kademlia provider records, Bitswap, connection limits, a block list), the
//! js-ceramic pubsub protocol on `/ceramic/<network>` (UPDATE / QUERY / RESPONSE / KEEPALIVE,
//! [`message`]), block fetching behind the [`BlockFetcher`] trait (our `/ceramic-rs/blocks/1.0.0`
//! request-response protocol first, then Bitswap for what it did not bring), and the wiring into the
//! engine: received UPDATEs for followed streams are synced (missing commits fetched, fork
//! resolution by the engine, stored, re-announced), unknown streams are loaded by querying the
//! network, and local writes are announced through the engine's
//! [`Publisher`](ceramic_engine::Publisher), implemented by [`Announcer`].
//!
//! Bitswap ([`ceramic_bitswap`], on unless [`Config::bitswap`] is false) serves the node's
//! stored blocks, hash-checked, to any IPFS peer (helia, kubo, ceramic-one) and fetches blocks
//! from them, so that a ceramic-rs node and an IPFS peer exchange commit blocks.
//!
//! Inside, by responsibility: `swarm` builds the libp2p swarm; `protocol` is the pubsub rules as
//! a state machine with no I/O (it returns actions); `bans` and `limits` hold strikes, bans,
//! rate limits; `task` is the one task that owns the swarm and carries the actions out; `serve`
//! is the worker that reads the store for it (block serving, QUERY answers); `handle` is
//! [`NetworkHandle`] and the engine's [`Announcer`]; `sync` fetches and applies a tip.
//!
//! Layer: above `ceramic-engine`, `ceramic-storage` and `ceramic-bitswap`, below `ceramic-proto` and the node.
//! Follows `specs/network.md` (and `ceramic-protocol-notes.md` §4.1 for the pubsub protocol).
//!
//! Why rust-libp2p 0.57 with no default features: it is the maintained Rust libp2p, shares our
//! crypto stack (ed25519-dalek 3, sha2 0.11), and speaks to js-libp2p/helia and kubo; only the
//! protocols listed in `Cargo.toml` are built (no QUIC: its build cost).
//!
//! ```no_run
//! # async fn run() -> Result<(), ceramic_net::Error> {
//! use std::sync::Arc;
//! use ceramic_engine::{Engine, memory::FakeAnchorVerifier};
//! use ceramic_storage::{MemoryStorage, Storage};
//!
//! let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
//! let (announcer, announcements) = ceramic_net::announcer();
//! let engine = Arc::new(Engine::new(
//!     storage.clone(),
//!     ceramic_doctype::Registry::new(),
//!     Arc::new(FakeAnchorVerifier::default()),
//!     Arc::new(announcer),
//! ));
//! let config = ceramic_net::Config::new("inmemory");
//! let (network, task) = ceramic_net::Network::start(config, engine, storage, announcements).await?;
//! println!("listening on {:?}", network.listen_addrs());
//! network.shutdown().await;
//! let _ = task.await;
//! # Ok(()) }
//! ```
//!
//! Feature flags: `test-utils` (proptest strategies for messages), `fuzzing` (the bodies of the
//! cargo-fuzz targets).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod bans;
mod blocks;
mod config;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod handle;
mod limits;
pub mod message;
mod network;
mod protocol;
mod serve;
mod stats;
mod swarm;
mod sync;
mod task;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use blocks::{BLOCKS_PROTOCOL, BlockFetcher, MAX_REQUEST_CIDS, MAX_RESPONSE_BYTES};
pub use config::{Config, Follow};
pub use error::{Error, FetchError};
pub use handle::{Announcements, Announcer, NetworkHandle, announcer};
pub use libp2p::{Multiaddr, PeerId, identity::Keypair};
pub use message::{MAX_MESSAGE_SIZE, Message, ParseError, query_id};
pub use network::Network;
pub use stats::Stats;
