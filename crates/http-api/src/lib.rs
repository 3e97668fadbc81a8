//! The js-ceramic compatible HTTP API (`/api/v0`), so that an app written for js-ceramic can
//! point the real `@ceramicnetwork/http-client` (6.4.0) at our node and keep working.
//!
//! Layer: a front-end over the node service (`ceramic-service`: every route calls its typed API
//! directly, with the same bounds, per-stream write serialization and error kinds as gRPC; no
//! other front-end is called), below the node assembly (`ceramic-core`), which serves it next to
//! gRPC. Follows
//! `specs/http-api.md` (routes, shapes, status codes, deviations from js) and §5 of the
//! protocol notes.
//!
//! - [`Api`] builds the axum router; [`serve_with_limits`] runs it until a shutdown signal under
//!   [`limits`]: header, idle and request timeouts, a connection cap, a per-IP cap, and a
//!   shutdown that does not wait for idle clients.
//! - [`commit`]: serialized commits (js `serializeCommit` / `deserializeCommit`) ⇄ blocks.
//! - [`query`]: query strings read as js `parse-query-object` reads them.
//! - [`request`]: the POST bodies, parsed and bounded before anything reaches the engine.
//! - [`admin`]: the admin API's DID-JWS authentication (one-time codes, admin DIDs,
//!   [`Api::with_admin_dids`]); its routes are `getCode` and `pins`.
//! - States are served as js `serializeState` makes them
//!   ([`ceramic_doctype::StreamState::to_js_json`]: `doctype`, `anchorStatus` names, CID strings).
//!
//! Bad input is refused with a 4xx and `{"error": "…"}` (js answers 500), and nothing is
//! stored; a signed commit whose `linkedBlock` does not hash to the JWS link is refused.
//!
//! ```no_run
//! use ceramic_http_api::Api;
//!
//! # async fn run(service: ceramic_service::Service) -> Result<(), Box<dyn std::error::Error>> {
//! let router = Api::new(service).router();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:7007").await?;
//! let shutdown = std::future::pending::<()>();
//! ceramic_http_api::serve(listener, router, shutdown, std::time::Duration::from_secs(10)).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Built on axum 0.8 (already in the tree through tonic). Feature flags: `fuzzing` (the body of
//! the `http_api_request` cargo-fuzz target in [`fuzzing`]), `test-utils` (proptest strategies
//! in [`test_utils`]).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod admin;
mod api;
pub mod commit;
mod error;
pub mod limits;
pub mod multiquery;
pub mod query;
pub mod request;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use admin::AdminCodeLimits;
pub use api::{Api, MAX_BODY, MAX_MULTIQUERY_LOADS};
pub use error::ApiError;
pub use limits::{ServerCounts, ServerLimits, ServerStats, serve, serve_with_limits};
pub use multiquery::MultiqueryLimits;
