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

use ceramic_proto::FieldError;
use ceramic_service::{AnchorError, ErrorKind, LoadError, StoreError, WriteError};
use tonic::{Code, Status};

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
logged!(LoadError, StoreError, AnchorError);

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
    }
}
