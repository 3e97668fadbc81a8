//! The one place service errors become [`tonic::Status`]es, by what the caller should do
//! ([`ErrorKind`]):
//!
//! | kind | code |
//! | --- | --- |
//! | bad input: an id or CID that does not parse, a block whose bytes do not hash to its CID, a malformed, unsigned or rule-breaking commit, an unregistered stream type | `InvalidArgument` |
//! | an unknown stream, or a CommitID whose commit is not stored in that stream | `NotFound` |
//! | a write that does not build on the current tip (js-ceramic: "rejected because it builds on stale state") | `FailedPrecondition`: reload the stream, rebuild the commit on the new tip, sign again |
//! | storage, the network or the anchor service failed, or the node is stopping | `Unavailable`: retry |
//! | the store holds corrupt data | `DataLoss` |
//! | the node is not configured for it (anchoring) | `Unimplemented` |
//! | anything else (a bug) | `Internal` |
//!
//! A stale write is `FailedPrecondition` rather than `InvalidArgument` because the commit itself
//! is well formed and correctly signed: it is the stream's state that no longer allows it.
//!
//! A request message over tonic's limit (4 MiB) is refused by tonic before any handler runs,
//! with `OutOfRange`; gRPC's status-code guide says `ResourceExhausted` for a message over the
//! receive limit (what grpc-go and grpc-java answer), so [`oversized_is_resource_exhausted`]
//! rewrites that status on the way out. No handler here answers `OutOfRange`.

use ceramic_proto::FieldError;
use ceramic_service::{AnchorError, BackupError, ErrorKind, LoadError, StoreError, WriteError};
use tonic::codegen::http;
use tonic::{Code, Status};

/// The start of the message of tonic's status for a received message over the size limit
/// (tonic 0.14 `codec/decode.rs`).
const TONIC_TOO_LARGE: &str = "Error, decoded message length too large";

/// Rewrites tonic's `OutOfRange` for a request message over the size limit into
/// `ResourceExhausted`, keeping its message (which names the size and the limit). The status is
/// in the headers of a trailers-only response: tonic refuses the request before any handler
/// runs. Every other response passes unchanged.
pub(crate) fn oversized_is_resource_exhausted<B>(
    mut response: http::Response<B>,
) -> http::Response<B> {
    let headers = response.headers_mut();
    let out_of_range = headers
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.parse::<i32>() == Ok(Code::OutOfRange as i32));
    if out_of_range
        && Status::from_header_map(headers)
            .is_some_and(|s| s.message().starts_with(TONIC_TOO_LARGE))
    {
        headers.insert("grpc-status", http::HeaderValue::from(Code::ResourceExhausted as i32));
    }
    response
}

/// The status of an error of kind `kind` with `message`; failures that are the node's are
/// logged once (by the service's kind rules).
fn status(kind: ErrorKind, message: &dyn std::fmt::Display) -> Status {
    let code = match kind {
        ErrorKind::InvalidInput => Code::InvalidArgument,
        ErrorKind::NotFound => Code::NotFound,
        ErrorKind::Stale => Code::FailedPrecondition,
        ErrorKind::Unavailable => Code::Unavailable,
        ErrorKind::Corrupt => Code::DataLoss,
        ErrorKind::NotConfigured => Code::Unimplemented,
        _ => Code::Internal,
    };
    Status::new(code, message.to_string())
}

/// Maps a service error to a status (`Status: From<E>` cannot be written here: both are
/// foreign).
pub(crate) trait ToStatus {
    /// The status.
    fn to_status(&self) -> Status;
}

impl ToStatus for FieldError {
    fn to_status(&self) -> Status {
        status(ErrorKind::InvalidInput, self)
    }
}

impl ToStatus for WriteError {
    fn to_status(&self) -> Status {
        // Writes log their own refusals in the service (with the metrics).
        status(self.kind(), self)
    }
}

macro_rules! logged {
    ($($error:ty),*) => {$(
        impl ToStatus for $error {
            fn to_status(&self) -> Status {
                self.kind().log(self);
                status(self.kind(), self)
            }
        }
    )*};
}
logged!(LoadError, StoreError, AnchorError, BackupError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_codes() {
        let code = |kind| status(kind, &"x").code();
        assert_eq!(code(ErrorKind::InvalidInput), Code::InvalidArgument);
        assert_eq!(code(ErrorKind::NotFound), Code::NotFound);
        assert_eq!(code(ErrorKind::Stale), Code::FailedPrecondition);
        assert_eq!(code(ErrorKind::Unavailable), Code::Unavailable);
        assert_eq!(code(ErrorKind::Corrupt), Code::DataLoss);
        assert_eq!(code(ErrorKind::NotConfigured), Code::Unimplemented);
        assert_eq!(code(ErrorKind::Internal), Code::Internal);
    }

    #[test]
    fn field_errors_are_invalid_arguments() {
        let status = FieldError::new("id", "bad").to_status();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "id: bad");
        assert_eq!(LoadError::TimeWithCommit.to_status().code(), Code::InvalidArgument);
        assert_eq!(AnchorError::NotConfigured.to_status().code(), Code::Unimplemented);
        let unknown = BackupError::UnknownTarget("nightly".into()).to_status();
        assert_eq!(unknown.code(), Code::NotFound);
        assert!(unknown.message().contains("nightly"), "{unknown:?}");
    }

    #[test]
    fn only_tonics_oversized_message_becomes_resource_exhausted() {
        let rewrite = |status: Status| {
            let response = oversized_is_resource_exhausted(status.into_http::<()>());
            Status::from_header_map(response.headers()).expect("a status")
        };
        let message =
            format!("{TONIC_TOO_LARGE}: found 5000000 bytes, the limit is: 4194304 bytes");
        let rewritten = rewrite(Status::out_of_range(message.clone()));
        assert_eq!(rewritten.code(), Code::ResourceExhausted);
        assert_eq!(rewritten.message(), message);
        assert_eq!(rewrite(Status::out_of_range("other")).code(), Code::OutOfRange);
        assert_eq!(rewrite(Status::invalid_argument(message)).code(), Code::InvalidArgument);
        let ok = oversized_is_resource_exhausted(http::Response::new(()));
        assert!(ok.headers().get("grpc-status").is_none());
    }
}
