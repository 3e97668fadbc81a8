//! [`ApiError`]: every way a request fails, and the one place it becomes an HTTP status with a
//! `{"error": "…"}` body. Bad input is 4xx (js-ceramic answers 500 to most of it; its client
//! accepts any non-2xx): malformed JSON, ids or commits 400, an unknown stream 404, a write on
//! a stale tip 409, a body over 1 MiB 413. Server-side failures are 5xx and logged here, once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ceramic_codecs::Cid;
use ceramic_streamid::StreamId;
use tonic::Code;

use crate::admin::AdminError;
use crate::commit::CommitJsonError;
use crate::query::QueryError;
use crate::request::RequestError;
use ceramic_proto::AnchorRequestError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The body is malformed (400).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The query string is malformed (400).
    #[error(transparent)]
    Query(#[from] QueryError),
    /// The id in the path does not parse (400).
    #[error("`{id}` is not a StreamID or CommitID: {source}")]
    Id {
        /// The id as given (shortened).
        id: String,
        /// Why.
        #[source]
        source: ceramic_streamid::Error,
    },
    /// A commit sent to `POST /commits` writes to another stream than `streamId` (400).
    #[error("the commit belongs to stream {commit}, not to {requested}")]
    StreamMismatch {
        /// `streamId` of the request.
        requested: Box<StreamId>,
        /// The stream the commit names.
        commit: Box<StreamId>,
    },
    /// A genesis commit sent to `POST /commits` (400).
    #[error("commit {0} is a genesis commit: create streams with POST /api/v0/streams")]
    GenesisApplied(Box<Cid>),
    /// The node refused or failed the request (status by code: see [`ApiError::status`]).
    #[error("{}", .0.message())]
    Service(Box<tonic::Status>),
    /// A stored commit could not be serialized (500: the store is inconsistent).
    #[error("serializing stored commit: {0}")]
    Serialize(#[source] CommitJsonError),
    /// Reading storage failed (503).
    #[error("storage: {0}")]
    Storage(#[source] Box<ceramic_storage::Error>),
    /// The body is larger than the limit (413).
    #[error("the request body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body could not be read (400).
    #[error("reading the request body: {0}")]
    Body(#[source] axum::extract::rejection::BytesRejection),
    /// No route has this path (404).
    #[error("no route for {method} {path}")]
    NoRoute {
        /// The method.
        method: String,
        /// The path (shortened).
        path: String,
    },
    /// The route exists, not with this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// `POST /streams/:id/anchor` on a node without anchoring (501).
    #[error("anchoring is not configured on this node")]
    AnchoringNotConfigured,
    /// The anchor request failed (503, or 400 when refused).
    #[error(transparent)]
    Anchor(#[from] AnchorRequestError),
    /// An admin request is not authorized (401/403; see [`AdminError::status`]).
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// An admin route other than `getCode` and `pins` (501).
    #[error(
        "this admin route is not implemented by this node (only /api/v0/admin/getCode and /api/v0/admin/pins are)"
    )]
    AdminNotImplemented,
    /// Legacy `GET`/`DELETE /api/v0/pins` (400, js-ceramic's answer).
    #[error("Method not supported: pin requests have moved to the admin API /admin/pins")]
    PinsMoved,
    /// A blocking task failed (500) or was cancelled at shutdown (503).
    #[error("the request's task failed: {0}")]
    Join(#[source] tokio::task::JoinError),
    /// The node answered without a state (500; a bug).
    #[error("the node answered without a stream state")]
    NoState,
    /// The node's serialized state does not read back (500; a bug).
    #[error("the node's state JSON does not read back: {0}")]
    State(#[source] ceramic_doctype::StateJsonError),
    /// The node's serialized state is not JSON (500; a bug).
    #[error("the node's state JSON does not parse: {0}")]
    StateJson(#[source] serde_json::Error),
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        ApiError::Service(Box::new(status))
    }
}

impl From<ceramic_storage::Error> for ApiError {
    fn from(error: ceramic_storage::Error) -> Self {
        ApiError::Storage(Box::new(error))
    }
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Request(_)
            | ApiError::Query(_)
            | ApiError::Id { .. }
            | ApiError::StreamMismatch { .. }
            | ApiError::GenesisApplied(_)
            | ApiError::Body(_)
            | ApiError::PinsMoved
            | ApiError::Anchor(AnchorRequestError::Refused(_)) => StatusCode::BAD_REQUEST,
            ApiError::Service(status) => match status.code() {
                Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
                Code::NotFound => StatusCode::NOT_FOUND,
                Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => {
                    StatusCode::CONFLICT
                }
                Code::ResourceExhausted => StatusCode::PAYLOAD_TOO_LARGE,
                Code::Unavailable | Code::Cancelled => StatusCode::SERVICE_UNAVAILABLE,
                Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
                Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
                Code::PermissionDenied | Code::Unauthenticated => StatusCode::FORBIDDEN,
                Code::Ok | Code::Unknown | Code::Internal | Code::DataLoss => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            },
            ApiError::Admin(e) => e.status(),
            ApiError::Storage(_) | ApiError::Anchor(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Join(e) if e.is_cancelled() => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NoRoute { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::AnchoringNotConfigured | ApiError::AdminNotImplemented => {
                StatusCode::NOT_IMPLEMENTED
            }
            ApiError::Serialize(_)
            | ApiError::Join(_)
            | ApiError::NoState
            | ApiError::State(_)
            | ApiError::StateJson(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.to_string();
        if status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED {
            tracing::warn!(%status, error = %message, "HTTP request failed");
        } else {
            tracing::debug!(%status, error = %message, "HTTP request refused");
        }
        crate::api::json_response(status, &serde_json::json!({ "error": message }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes_map_to_http_statuses() {
        let status = |code| ApiError::from(tonic::Status::new(code, "x")).status();
        assert_eq!(status(Code::InvalidArgument), StatusCode::BAD_REQUEST);
        assert_eq!(status(Code::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(status(Code::FailedPrecondition), StatusCode::CONFLICT);
        assert_eq!(status(Code::Unavailable), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status(Code::DataLoss), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(status(Code::Internal), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn the_message_is_the_services() {
        let e = ApiError::from(tonic::Status::invalid_argument("commit: bad"));
        assert_eq!(e.to_string(), "commit: bad");
    }
}
