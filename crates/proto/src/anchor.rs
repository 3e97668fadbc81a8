//! The hook through which the node's APIs ask for anchors: gRPC `RequestAnchor`, and in the
//! HTTP API (`ceramic-http-api`) `POST /streams/:id/anchor` and writes whose `opts.anchor` is not
//! `false`. Anchoring is wired by the node (`ceramic-core`): without a requester `RequestAnchor`
//! answers `Unimplemented` (HTTP 501) and writes request nothing.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use ceramic_codecs::Cid;
use ceramic_doctype::AnchorStatus;
use ceramic_streamid::StreamId;

/// The future a requester returns.
pub type AnchorFuture<'a> =
    Pin<Box<dyn Future<Output = Result<AnchorStatus, AnchorRequestError>> + Send + 'a>>;

/// Asks an anchor service (or the in-process dev chain) to anchor a stream's tip.
pub trait AnchorRequester: Send + Sync + fmt::Debug {
    /// Requests an anchor of `tip`, the current tip of `stream`, and reports the stream's anchor
    /// status afterwards (js returns `state.anchorStatus`, usually `PENDING`). Dropping the
    /// future midway must be safe.
    fn request_anchor(&self, stream: StreamId, tip: Cid) -> AnchorFuture<'_>;
}

/// Why an anchor request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnchorRequestError {
    /// The anchor service cannot be reached or failed; retry later (HTTP 503).
    #[error("the anchor service is unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The anchor service refused the request (HTTP 400).
    #[error("the anchor service refused the request: {0}")]
    Refused(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The future a [`NetworkLoader`] returns: whether the stream was found.
pub type LoadFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, String>> + Send + 'a>>;

/// Loads streams this node does not have from the network (js-ceramic queries pubsub, then
/// fetches the tip's blocks). Wired by the node when networking is on; `LoadStream`,
/// `ListCommits` and `RequestAnchor` ask it before answering NOT_FOUND.
pub trait NetworkLoader: Send + Sync + fmt::Debug {
    /// Looks for `stream` on the network and, when found, stores it through the engine.
    /// `Ok(false)` when no peer has it. Dropping the future midway must be safe.
    fn load(&self, stream: StreamId) -> LoadFuture<'_>;
}
