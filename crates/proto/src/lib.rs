//! The node's gRPC API: the `ceramic.v1` protobuf messages with their tonic client and server
//! ([`v1`], generated), the service that answers them over the engine and storage
//! ([`NodeService`]), and the assembled node ([`NodeBuilder`] → [`Node`] → [`Node::serve`]) that
//! the `ceramic-node` binary and the in-process tests both run.
//!
//! Layer: above `ceramic-engine` and `ceramic-storage` (and the SDK and id crates below them),
//! below `bins/node`. It never names a doctype crate: the binary registers the doctypes its
//! configuration enables ([`NodeBuilder::with_doctype`]). The service lives here rather than in
//! a separate `crates/node` library so the whole API surface (messages, status codes, handlers)
//! is one crate, and because `ceramic-node` is already the binary's package name.
//!
//! The package also holds the anchor service's API (`proto/ceramic/v1/anchor.proto`,
//! `AnchorService`): only its generated code lives here; `ceramic-anchor-service` implements
//! the server trait ([`v1::anchor_service_server::AnchorService`]).
//!
//! The API is defined in `proto/ceramic/v1/node.proto`; `cargo xtask codegen` regenerates
//! `src/generated/` with protox and tonic-prost-build (no `protoc`), and `cargo xtask codegen
//! --check` fails when the committed code is stale.
//!
//! # Errors become `tonic::Status` here, and only here
//!
//! One private module (`status.rs`) turns every error into a gRPC status, chosen by what the
//! caller should do:
//!
//! | what went wrong | code |
//! | --- | --- |
//! | bad input: an id or CID that does not parse, a block whose bytes do not hash to its CID, a malformed, unsigned or rule-breaking commit, an unregistered stream type | `InvalidArgument` |
//! | an unknown stream, or a CommitID whose commit is not stored in that stream | `NotFound` |
//! | a write that does not build on the current tip (js-ceramic: "rejected because it builds on stale state") | `FailedPrecondition`: reload the stream, rebuild the commit on the new tip, sign again |
//! | a storage read or write failed (I/O) | `Unavailable`: retry |
//! | the store holds corrupt data | `DataLoss` |
//! | anything else (a bug) | `Internal` |
//!
//! A stale write is `FailedPrecondition` rather than `InvalidArgument` because the commit itself
//! is well formed and correctly signed: it is the stream's state that no longer allows it, and
//! the same request can never succeed until the client rebuilds it on the new tip.
//!
//! # What the full node adds
//!
//! [`NodeBuilder`] alone checks anchor commits with [`AnchorVerifierKind::Fake`] (the engine's
//! `FakeAnchorVerifier`: every anchor commit is refused) and has no network or anchoring. The
//! assembled node, `ceramic-core`, plugs in the real pieces through
//! [`NodeBuilder::with_anchor_verifier`], [`NodeBuilder::with_publisher`],
//! [`NodeService::set_anchor_requester`] (`RequestAnchor`) and
//! [`NodeService::set_network_loader`] (unknown streams are looked for on the network). New
//! tips reach `Subscribe` through [`Updates`], and writes are counted in [`Metrics`].
//!
//! # Example
//!
//! A node over a temporary directory with the Tile doctype, served until the shutdown future
//! completes:
//!
//! ```no_run
//! use ceramic_proto::{NodeBuilder, Options};
//! use ceramic_proto::v1::{HealthRequest, node_client::NodeClient};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let node = NodeBuilder::new(Options::new(dir.path()))
//!     .with_doctype(ceramic_doctype_tile::Tile::new())?
//!     .open()?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(node.serve(listener, async move { stopped.await.ok(); }));
//!
//! let mut client = NodeClient::connect(format!("http://{addr}")).await?;
//! client.health(HealthRequest {}).await?;
//! stop.send(()).ok();
//! server.await??;
//! # Ok(())
//! # }
//! ```
//!
//! No cargo features.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod anchor;
mod commit;
mod error;
mod metrics;
mod node;
mod service;
mod status;
mod updates;

/// The generated `ceramic.v1` messages, enums, client ([`v1::node_client::NodeClient`]) and
/// server ([`v1::node_server::NodeServer`], [`v1::node_server::Node`]). Made by
/// `cargo xtask codegen` from `proto/ceramic/v1/node.proto` and `anchor.proto` (the anchor
/// service's client and server); do not edit.
#[allow(
// Generated code: prost and tonic emit items without docs where the .proto has no comment
// (e.g. generated client constructors), and clippy lints we do not control.
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic
)]
#[rustfmt::skip]
#[path = "generated/ceramic.v1.rs"]
pub mod v1;

/// The encoded `FileDescriptorSet` of every `.proto` file (written by `cargo xtask codegen`),
/// served by gRPC reflection so that `grpcurl` works without the `.proto` files.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!("generated/descriptor.bin");

pub use anchor::{AnchorFuture, AnchorRequestError, AnchorRequester, LoadFuture, NetworkLoader};
pub use error::Error;
pub use metrics::{Metrics, RejectLabels};
pub use node::{AnchorVerifierKind, Node, NodeBuilder, Options};
pub use service::{DEFAULT_PAGE, Info, MAX_BLOCKS, NodeService, SubscribeStream};
pub use updates::{UPDATES_CAPACITY, Updates};
