//! [`ApiError`]: every way a request fails, and the one place it becomes an HTTP status with a
//! `{"error": "…"}` body. Bad input is 4xx (js-ceramic answers 500 to most of it; its client
//! accepts any non-2xx): malformed JSON, ids or commits 400, an unknown stream 404, a write on
//! a stale tip 409, a body over 1 MiB 413. Server-side failures are 5xx and logged here, once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ceramic_service::{AnchorError, ErrorKind, LoadError, StoreError, WriteError};

use crate::admin::AdminError;
use crate::commit::CommitJsonError;
use crate::query::QueryError;
use crate::request::RequestError;

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
    /// The write was refused (status by kind: see [`ApiError::status`]).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// The load failed (status by kind).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The anchor request failed (status by kind; 501 without anchoring).
    #[error(transparent)]
    Anchor(#[from] AnchorError),
    /// A pin, unpin or query failed (status by kind).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored commit could not be serialized (500: the store is inconsistent).
    #[error("serializing stored commit: {0}")]
    Serialize(#[source] CommitJsonError),
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
}

impl ApiError {
    /// The HTTP status of this error: the one place service errors become statuses.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Request(_)
            | ApiError::Query(_)
            | ApiError::Id { .. }
            | ApiError::Body(_)
            | ApiError::PinsMoved => StatusCode::BAD_REQUEST,
            ApiError::Write(e) => kind_status(e.kind()),
            ApiError::Load(e) => kind_status(e.kind()),
            ApiError::Anchor(e) => kind_status(e.kind()),
            ApiError::Store(e) => kind_status(e.kind()),
            ApiError::Admin(e) => e.status(),
            ApiError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NoRoute { .. } => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::AdminNotImplemented => StatusCode::NOT_IMPLEMENTED,
            ApiError::Serialize(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// What the client should do, as an HTTP status: bad input 400, unknown 404, a write on a stale
/// tip 409, retry 503, not configured 501, the node's fault 500.
fn kind_status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Stale => StatusCode::CONFLICT,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::NotConfigured => StatusCode::NOT_IMPLEMENTED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
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
    fn kinds_map_to_http_statuses() {
        assert_eq!(kind_status(ErrorKind::InvalidInput), StatusCode::BAD_REQUEST);
        assert_eq!(kind_status(ErrorKind::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(kind_status(ErrorKind::Stale), StatusCode::CONFLICT);
        assert_eq!(kind_status(ErrorKind::Unavailable), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(kind_status(ErrorKind::Corrupt), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(kind_status(ErrorKind::NotConfigured), StatusCode::NOT_IMPLEMENTED);
        assert_eq!(kind_status(ErrorKind::Internal), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn the_message_is_the_services() {
        let e = ApiError::from(LoadError::TimeWithCommit);
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.to_string(), LoadError::TimeWithCommit.to_string());
        assert_eq!(
            ApiError::from(AnchorError::NotConfigured).status(),
            StatusCode::NOT_IMPLEMENTED
        );
    }
}
