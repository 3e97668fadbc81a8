//! [`ApiError`]: every refusal and failure of the API, answered as ceramic-one answers them:
//! a status code and `{"message": "…"}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ceramic_service::{ErrorKind, LoadError, StoreError, WriteError};

use crate::request::RequestError;

/// Why a request failed. Its status: 400 for bad input (the request's own fault, nothing was
/// stored), 404 for what the node does not have, 503 when the node cannot serve now, 500 for
/// the node's own failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The request does not parse or breaks a bound.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The node refused the event (or failed storing it).
    #[error("Failed to insert event: {0}")]
    Write(#[from] WriteError),
    /// Reading a stream failed.
    #[error("Failed to load stream: {0}")]
    Load(#[from] LoadError),
    /// Reading the store failed.
    #[error("Failed to read the store: {0}")]
    Store(#[from] StoreError),
    /// No stream with this id is stored.
    #[error("Stream not found: {0}")]
    StreamNotFound(String),
    /// No event with this CID is stored.
    #[error("Event not found: {0}")]
    EventNotFound(String),
    /// No route has this path.
    #[error("no route for {method} {path}")]
    NoRoute {
        /// The request's method.
        method: String,
        /// The request's path (shortened).
        path: String,
    },
    /// The route exists for other methods.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The node has no network to list or dial peers with.
    #[error("this node runs without a network: no peers")]
    NoNetwork,
}

impl ApiError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        let kind = match self {
            ApiError::Request(_) => return StatusCode::BAD_REQUEST,
            ApiError::StreamNotFound(_) | ApiError::EventNotFound(_) | ApiError::NoRoute { .. } => {
                return StatusCode::NOT_FOUND;
            }
            ApiError::MethodNotAllowed => return StatusCode::METHOD_NOT_ALLOWED,
            ApiError::NoNetwork => return StatusCode::BAD_REQUEST,
            ApiError::Write(e) => e.kind(),
            ApiError::Load(e) => e.kind(),
            ApiError::Store(e) => e.kind(),
        };
        match kind {
            // ceramic-one answers every refused event with 400.
            ErrorKind::InvalidInput | ErrorKind::Stale | ErrorKind::NotConfigured => {
                StatusCode::BAD_REQUEST
            }
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "/ceramic request failed");
        }
        crate::routes::json(status, &serde_json::json!({ "message": self.to_string() }))
    }
}

/// What handlers return.
pub(crate) type Result<T, E = ApiError> = std::result::Result<T, E>;
