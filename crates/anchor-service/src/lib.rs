//! The Ceramic Anchor Service (CAS): it takes anchor requests (a stream and the commit to
//! anchor), batches them by a configurable [`Policy`], puts each batch's Merkle root on a
//! [`ceramic_anchor::Chain`], and answers each request with its anchor commit and witness CAR.
//! It serves the CAS HTTP API ([`http::router`], `/api/v0/…`) and the same operations over gRPC
//! ([`grpc::AnchorGrpc`], `ceramic.v1.AnchorService`), and hands finished batches to an
//! [`AnchorSink`] so a node can apply the anchor commits. [`client::CasClient`] is the other
//! side of the HTTP API: a node forwarding its requests to a remote CAS (ours or any other).
//!
//! Layer: above `ceramic-anchor` (batches, Merkle trees, witness CARs, the [`Chain`] trait and
//! the dev chain) and `ceramic-proto` (the generated gRPC server trait); below `bins/anchor-service`.
//! Any `Arc<dyn Chain>` plugs in: the in-process `DevChain`, or the Ethereum client. Follows
//! `specs/anchor-service.md` (and the protocol notes §7: cas:src/controllers, cas:src/services).
//!
//! Requests and in-flight batches are stored through the [`Store`] trait, on RocksDB
//! ([`RocksStore`], the workspace's Debian-linked `rocksdb`) or in memory ([`MemoryStore`]), so a
//! restart loses no request and finishes interrupted batches (see [`Cas`] and the spec for the
//! crash windows).
//!
//! ```
//! use std::sync::Arc;
//! use ceramic_anchor::{DevChain, Witness};
//! use ceramic_anchor_service::{CasBuilder, MemoryStore, NewRequest, Status};
//! use ceramic_codecs::cid_of;
//! use ceramic_streamid::{StreamId, StreamType};
//!
//! let chain = Arc::new(DevChain::new());
//! let cas = CasBuilder::new(Arc::new(MemoryStore::new()), chain.clone()).open()?;
//! let stream_id = StreamId::new(StreamType::TILE, cid_of(0x71, b"genesis"))?;
//! let cid = cid_of(0x71, b"update");
//! assert!(cas.request(&NewRequest { stream_id, cid, timestamp: None })?.created);
//! cas.trigger()?; // or wait for the policy
//! let done = cas.get(&cid)?.expect("stored");
//! assert_eq!(done.status, Status::Completed);
//! let witness = Witness::from_car(done.witness_car.as_deref().unwrap_or_default())?;
//! chain.check(witness.proof())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Feature flags: `test-utils` (proptest strategies, `Cas::run_batch_until` to stop a batch
//! where a crash would), `fuzzing` (the body of the fuzz target, `fuzzing::parse_body`).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod body;
pub mod client;
mod error;
pub mod grpc;
pub mod http;
mod policy;
mod record;
mod service;
mod sink;
mod store;
mod time;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use body::{
    CAR_CONTENT_TYPE, MAX_BODY, NewRequest, parse_body, parse_car, parse_cid, parse_json,
    parse_stream_id, parse_timestamp,
};
pub use ceramic_anchor::Chain;
pub use client::{CasClient, CasResponse, ClientError, ResponseError};
pub use error::{BodyError, Error, Result, StoreError};
pub use policy::Policy;
pub use record::{RequestRecord, Status};
#[cfg(any(test, feature = "test-utils"))]
pub use service::Stage;
pub use service::{BatchOutcome, Cas, CasBuilder, Submitted};
pub use sink::{AnchorSink, BroadcastSink, NoSink, Published};
pub use store::{Column, Entries, MemoryStore, Op, RocksStore, Store};
pub use time::{Clock, ManualClock, SystemClock, format_iso8601_ms, parse_iso8601_ms};
