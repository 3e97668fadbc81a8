//! The two things the service asks of the rest of the node, as traits the node assembly
//! implements: [`AnchorRequester`] (gRPC `RequestAnchor`, HTTP `POST /streams/:id/anchor` and
//! writes whose `opts.anchor` is not `false`) and [`NetworkLoader`] (streams this node does not
//! have). Without a requester [`Service::request_anchor`](crate::Service::request_anchor) is
//! [`AnchorError::NotConfigured`](crate::AnchorError::NotConfigured); without a loader unknown
//! streams are not found.

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

/// Why a network load failed (the network's own error, boxed: the service only logs it).
pub type NetworkError = Box<dyn std::error::Error + Send + Sync>;

/// The future a [`NetworkLoader`] returns: whether the stream was found.
pub type LoadFuture<'a> = Pin<Box<dyn Future<Output = Result<bool, NetworkError>> + Send + 'a>>;

/// Loads streams this node does not have from the network (js-ceramic queries pubsub, then
/// fetches the tip's blocks). Wired by the node when networking is on; loads, commit lists
/// and anchor requests ask it before answering that a stream is not found.
pub trait NetworkLoader: Send + Sync + fmt::Debug {
    /// Looks for `stream` on the network and, when found, stores it through the engine.
    /// `Ok(false)` when no peer has it. Dropping the future midway must be safe.
    fn load(&self, stream: StreamId) -> LoadFuture<'_>;
}
