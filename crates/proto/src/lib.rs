//! The node's gRPC API as protobuf: the `ceramic.v1` messages with their tonic client and server
//! traits ([`v1`], generated), and conversions between those messages and the typed values of
//! the crates below ([`convert`]: ids, blocks, stream states, log entries). The server that
//! answers them over the node service is `ceramic-grpc`.
//!
//! Layer: above the id, codec and doctype crates; below everything that speaks gRPC (the node
//! service's front-end `ceramic-grpc`, the anchor service, the CLI). It depends on neither the
//! engine nor storage, so a client or another server links only the generated code.
//!
//! The package also holds the anchor service's API (`proto/ceramic/v1/anchor.proto`,
//! `AnchorService`): `ceramic-anchor-service` implements the server trait
//! ([`v1::anchor_service_server::AnchorService`]).
//!
//! The API is defined in `proto/ceramic/v1/node.proto`; `cargo xtask codegen` regenerates
//! `src/generated/` with protox and tonic-prost-build (no `protoc`), and `cargo xtask codegen
//! --check` fails when the committed code is stale.
//!
//! ```
//! use ceramic_proto::{convert, v1};
//!
//! let id = convert::parse_ref("id", "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s")?;
//! let page = v1::StreamPage::new(&[id.stream_id()], None);
//! assert_eq!(page.stream_ids.len(), 1);
//! # Ok::<(), convert::FieldError>(())
//! ```
//!
//! No cargo features.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod convert;

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

pub use convert::FieldError;
