//! The one place errors become [`tonic::Status`] (see the crate docs for the table). Codes are
//! chosen by what the caller should do: fix the input (`InvalidArgument`), look elsewhere
//! (`NotFound`), rebuild the write on the new tip (`FailedPrecondition`), retry
//! (`Unavailable`). Server-side failures are logged here, once.

use std::fmt::Display;

use ceramic_engine::ApplyError;
use tonic::{Code, Status};

/// What the request was doing when the engine failed: the same error means different things
/// for a write and a read (a missing block is the client's omission in a write, an unknown
/// commit in a read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// A client write (CreateStream, ApplyCommit).
    Write,
    /// A load (LoadStream, ListCommits).
    Read,
}

/// Bad input that never reached the engine: `what` names the field.
pub(crate) fn invalid(what: &str, error: impl Display) -> Status {
    Status::invalid_argument(format!("{what}: {error}"))
}

/// An engine error.
pub(crate) fn apply(error: ApplyError, op: Op) -> Status {
    let code = match &error {
        ApplyError::Store(store) => return storage(store),
        ApplyError::NotFound(_) => Code::NotFound,
        // A read of a commit that is not stored, or stored in another stream's log.
        ApplyError::MissingBlock(_) | ApplyError::NotThisStream { .. } if op == Op::Read => {
            Code::NotFound
        }
        // A write that does not build on the current tip.
        ApplyError::Stale { .. } | ApplyError::NotOnTip { .. } => Code::FailedPrecondition,
        ApplyError::MissingBlock(_)
        | ApplyError::NotThisStream { .. }
        | ApplyError::Codec { .. }
        | ApplyError::Signature { .. }
        | ApplyError::UnknownStreamType(_)
        | ApplyError::Rejected { .. }
        | ApplyError::WrongStream { .. }
        | ApplyError::WrongKind { .. }
        | ApplyError::Anchor { .. }
        | ApplyError::LogTooLong { .. }
        | ApplyError::TooDeep(_) => Code::InvalidArgument,
        _ => Code::Internal,
    };
    log(Status::new(code, error.to_string()))
}

/// A storage error.
pub(crate) fn storage(error: &ceramic_storage::Error) -> Status {
    use ceramic_storage::Error as E;
    let code = match error {
        E::NotFound(_) => Code::NotFound,
        E::Read { .. } | E::Write { .. } | E::Open { .. } | E::BackupIo { .. } => Code::Unavailable,
        E::CorruptFile { .. }
        | E::CorruptBlock { .. }
        | E::CorruptState { .. }
        | E::CorruptEntry { .. }
        | E::MissingBlock { .. }
        | E::Undecodable { .. }
        | E::BrokenLog { .. } => Code::DataLoss,
        _ => Code::Internal,
    };
    log(Status::new(code, error.to_string()))
}

/// A blocking task that did not finish (it panicked, or the runtime is shutting down).
pub(crate) fn join(error: tokio::task::JoinError) -> Status {
    if error.is_cancelled() {
        Status::cancelled("the node is shutting down")
    } else {
        log(Status::internal(format!("the request's task failed: {error}")))
    }
}

/// Logs the failures that are the node's, not the client's.
fn log(status: Status) -> Status {
    match status.code() {
        Code::Internal | Code::DataLoss => {
            tracing::error!(message = status.message(), "request failed")
        }
        Code::Unavailable => tracing::warn!(message = status.message(), "request failed"),
        _ => tracing::debug!(code = ?status.code(), message = status.message(), "request refused"),
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_codecs::Cid;
    use ceramic_streamid::{StreamId, StreamType};

    fn cid() -> Box<Cid> {
        Box::new(ceramic_codecs::cid_of(0x71, b"x"))
    }

    #[test]
    fn stale_writes_are_failed_precondition() {
        let e = ApplyError::Stale { cid: cid(), prev: cid(), tip: cid() };
        assert_eq!(apply(e, Op::Write).code(), Code::FailedPrecondition);
    }

    #[test]
    fn a_missing_block_is_bad_input_in_a_write_and_not_found_in_a_read() {
        assert_eq!(apply(ApplyError::MissingBlock(cid()), Op::Write).code(), Code::InvalidArgument);
        assert_eq!(apply(ApplyError::MissingBlock(cid()), Op::Read).code(), Code::NotFound);
    }

    #[test]
    fn unknown_streams_are_not_found() {
        let id = StreamId::new(StreamType::TILE, *cid()).unwrap();
        assert_eq!(apply(ApplyError::NotFound(id), Op::Write).code(), Code::NotFound);
        assert_eq!(storage(&ceramic_storage::Error::NotFound(id)).code(), Code::NotFound);
    }

    #[test]
    fn unregistered_stream_types_are_bad_input() {
        let e = ApplyError::UnknownStreamType(StreamType::new(99));
        assert_eq!(apply(e, Op::Write).code(), Code::InvalidArgument);
    }

    #[test]
    fn backend_failures_are_unavailable() {
        let io = std::io::Error::other("disk on fire");
        let source = ceramic_storage::BackendError::new(ceramic_storage::BackendErrorKind::Io, io);
        let key = ceramic_storage::Key::Column("blocks");
        let e = ApplyError::from(ceramic_storage::Error::Read { key, source });
        assert_eq!(apply(e, Op::Read).code(), Code::Unavailable);
    }

    #[test]
    fn storage_errors_inside_engine_errors_are_classified_as_storage_errors() {
        let id = StreamId::new(StreamType::TILE, *cid()).unwrap();
        let inner = ceramic_storage::Error::CorruptEntry {
            key: ceramic_storage::Key::Pin(id),
            reason: "test",
        };
        let e = ApplyError::from(inner);
        assert_eq!(apply(e, Op::Read).code(), Code::DataLoss);
    }
}
