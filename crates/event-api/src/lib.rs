//! The ceramic-one compatible `/ceramic` HTTP API, so that apps built on the `@ceramic-sdk/*`
//! packages (0.12) can point their `CeramicClient` at our node: Ceramic events (init, data and
//! time events as CAR files), stream states, the durable event feed with resume tokens (and as
//! Server-Sent Events), interests, and the node's network, version, liveness and peers.
//!
//! Layer: a front-end over the node service (`ceramic-service`), next to gRPC and the js-ceramic
//! `/api/v0` (`ceramic-http-api`), below the node assembly (`ceramic-core`), which nests
//! [`EventApi::router`] under `/ceramic` on the `/api/v0` listener (same server limits).
//! Follows `specs/ceramic-api.md` (routes, shapes, status codes, the public source of each
//! rule) and §6.3 of the protocol notes.
//!
//! - [`request`]: every request parsed and bounded before it reaches the service (query strings,
//!   bodies, multibase, ids; event CARs through `ceramic_event::Event::decode_car`, the
//!   workspace's one strict event decoder); the `event_api_request` fuzz target drives it.
//! - Errors are answered as ceramic-one answers them: a status and `{"message": "…"}`
//!   ([`ApiError`]); a refused event stores nothing and does not move the feed.
//! - The feed is the store's ([`ceramic_storage::Storage::feed`]): every event stored gets the
//!   next position in the same atomic batch, so a consumer that resumes from its token misses
//!   nothing and sees nothing twice, across restarts.
//!
//! ```no_run
//! # async fn run(service: ceramic_service::Service) {
//! let router = axum::Router::new().nest("/ceramic", ceramic_event_api::EventApi::new(service).router());
//! # let _ = router;
//! # }
//! ```
//!
//! Feature flags: `fuzzing` (the body of the `event_api_request` cargo-fuzz target in
//! [`fuzzing`]).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]
// Service errors carry storage errors that name their keys (~256 bytes); see ceramic-service.
#![allow(clippy::result_large_err)]

mod error;
pub mod request;
mod routes;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;

use std::fmt;
use std::sync::Arc;

use ceramic_service::Service;
use futures::future::BoxFuture;

pub use error::ApiError;
pub use routes::{MAX_BODY, stream_state_json};

/// A peer as `GET /peers` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer's id.
    pub id: String,
    /// Its multiaddresses.
    pub addresses: Vec<String>,
}

/// Why listing or dialing peers failed (the network's own error as text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
#[non_exhaustive]
pub struct PeerError(String);

impl PeerError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        PeerError(message.into())
    }
}

/// The node's network as the API sees it (implemented by the node assembly).
pub trait PeerSource: Send + Sync + 'static {
    /// The connected peers.
    fn peers(&self) -> BoxFuture<'_, Result<Vec<PeerInfo>, PeerError>>;
    /// Dials these multiaddresses.
    fn connect(&self, addresses: Vec<String>) -> BoxFuture<'_, Result<(), PeerError>>;
}

/// The `/ceramic` API over a [`Service`]; [`EventApi::router`] makes its axum router.
#[derive(Clone)]
pub struct EventApi {
    service: Service,
    peers: Option<Arc<dyn PeerSource>>,
}

impl fmt::Debug for EventApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventApi")
            .field("service", &self.service)
            .field("peers", &self.peers.is_some())
            .finish()
    }
}

impl EventApi {
    /// The API over `service`, without a network (`/peers` answers 400).
    pub fn new(service: Service) -> Self {
        EventApi { service, peers: None }
    }

    /// Lists and dials peers through `peers`.
    #[must_use]
    pub fn with_peers(mut self, peers: Arc<dyn PeerSource>) -> Self {
        self.peers = Some(peers);
        self
    }

    /// The router of the paths under `/ceramic` (nest it there): `/liveness`, `/version`,
    /// `/events`, `/events/{id}`, `/streams/{id}`, `/feed/events`, `/feed/resumeToken`,
    /// `/feed/sse`, `/interests`, `/config/network`, `/peers`, `/extensions/instances`.
    pub fn router(self) -> axum::Router {
        routes::router(self)
    }
}
