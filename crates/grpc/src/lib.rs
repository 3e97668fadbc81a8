//! The node's gRPC front-end: `ceramic.v1.Node` ([`Grpc`]) over the node service
//! (`ceramic-service`), and [`serve`] with server reflection (so `grpcurl` works without the
//! `.proto` files).
//!
//! Layer: a front-end, above the node service and `ceramic-proto` (the generated code and its
//! conversions); below the node assembly (`ceramic-core`). It never calls another front-end.
//! Service errors become `tonic::Status` in one place (`status.rs`), by what the caller should do:
//! bad input `InvalidArgument`, an unknown stream `NotFound`, a write on a stale tip
//! `FailedPrecondition`, storage or network trouble `Unavailable`, corrupt data `DataLoss`, no
//! anchoring `Unimplemented`.
//!
//! ```no_run
//! # async fn run(service: ceramic_service::Service) -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let shutdown = std::future::pending::<()>();
//! let grace = std::time::Duration::from_secs(10);
//! ceramic_grpc::serve(ceramic_grpc::Grpc::new(service), listener, shutdown, grace).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Feature flags: `fuzzing` (the body of the `grpc_request` cargo-fuzz target in [`fuzzing`],
//! which builds a node service over an in-memory store).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod handlers;
mod serve;
mod status;

pub use handlers::{Grpc, MAX_SUBSCRIBED_STREAMS, SubscribeEventsStream, SubscribeStream};
pub use serve::{ServeError, serve};
