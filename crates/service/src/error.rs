//! One error enum per operation, and [`ErrorKind`]: what the caller should do about an error.
//! Each front-end maps kinds to its own status codes in one place (gRPC in `ceramic-grpc`, HTTP
//! in `ceramic-http-api`); the variants stay typed for callers who branch on them.

use ceramic_engine::ApplyError;

use crate::anchor::AnchorRequestError;

/// What the caller should do about an error, the same for every operation and front-end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Fix the request: an id, commit, block or parameter is malformed or breaks a rule.
    InvalidInput,
    /// The stream, or the commit in it, is not known here (nor on the network).
    NotFound,
    /// The write does not build on the current tip: reload, rebuild on the new tip, sign again.
    Stale,
    /// Storage, the network or a service failed, or the node is stopping: retry later.
    Unavailable,
    /// The store holds data that does not read back.
    Corrupt,
    /// The node is not configured for this (e.g. anchoring).
    NotConfigured,
    /// A bug.
    Internal,
}

impl ErrorKind {
    /// A short name (metrics labels, logs): `invalid_input`, `not_found`, `stale`, …
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Stale => "stale",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::NotConfigured => "not_configured",
            ErrorKind::Internal => "internal",
        }
    }

    /// Logs an error that is the node's fault (not the client's) once, at a level by kind, and
    /// passes it on. Front-ends call it where they turn service errors into statuses.
    pub fn log(self, message: &dyn std::fmt::Display) {
        match self {
            ErrorKind::Internal | ErrorKind::Corrupt => {
                tracing::error!(%message, "request failed")
            }
            ErrorKind::Unavailable => tracing::warn!(%message, "request failed"),
            _ => tracing::debug!(kind = self.name(), %message, "request refused"),
        }
    }
}

/// A blocking task of the service did not finish (it panicked, or the runtime is stopping).
#[derive(Debug, thiserror::Error)]
#[error("the request's task failed: {0}")]
pub struct TaskError(#[from] tokio::task::JoinError);

impl TaskError {
    /// `Unavailable` when the runtime is stopping, `Internal` when the task panicked.
    pub fn kind(&self) -> ErrorKind {
        if self.0.is_cancelled() { ErrorKind::Unavailable } else { ErrorKind::Internal }
    }
}

/// What a storage error means for the caller.
pub(crate) fn storage_kind(error: &ceramic_storage::Error) -> ErrorKind {
    use ceramic_storage::Error as E;
    match error {
        E::NotFound(_) => ErrorKind::NotFound,
        E::Read { .. } | E::Write { .. } | E::Open { .. } | E::BackupIo { .. } => {
            ErrorKind::Unavailable
        }
        E::CorruptFile { .. }
        | E::CorruptBlock { .. }
        | E::CorruptState { .. }
        | E::CorruptEntry { .. }
        | E::MissingBlock { .. }
        | E::Undecodable { .. }
        | E::BrokenLog { .. } => ErrorKind::Corrupt,
        _ => ErrorKind::Internal,
    }
}

/// What an engine error means, for a write or for a read: the same error means different
/// things (a missing block is the client's omission in a write, an unknown commit in a read).
pub(crate) fn apply_kind(error: &ApplyError, read: bool) -> ErrorKind {
    match error {
        ApplyError::Store(store) => storage_kind(store),
        ApplyError::NotFound(_) => ErrorKind::NotFound,
        ApplyError::MissingBlock(_) | ApplyError::NotThisStream { .. } if read => {
            ErrorKind::NotFound
        }
        ApplyError::Stale { .. } | ApplyError::NotOnTip { .. } => ErrorKind::Stale,
        ApplyError::MissingBlock(_)
        | ApplyError::NotThisStream { .. }
        | ApplyError::Codec { .. }
        | ApplyError::Signature { .. }
        | ApplyError::UnknownStreamType(_)
        | ApplyError::Rejected { .. }
        | ApplyError::WrongStream { .. }
        | ApplyError::WrongKind { .. }
        | ApplyError::NotGenesis { .. }
        | ApplyError::GenesisNotAllowed(_)
        | ApplyError::Anchor { .. }
        | ApplyError::LogTooLong { .. }
        | ApplyError::TooDeep(_) => ErrorKind::InvalidInput,
        _ => ErrorKind::Internal,
    }
}

/// Why a write ([`Service::create`](crate::Service::create),
/// [`Service::apply`](crate::Service::apply)) was refused. Nothing is stored then.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// More blocks than a write may carry.
    #[error("{got} blocks, at most {max}")]
    TooManyBlocks {
        /// How many came.
        got: usize,
        /// The limit ([`crate::MAX_BLOCKS`]).
        max: usize,
    },
    /// The engine refused the commit (bad input, a stale tip, …) or storage failed.
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// The blocking task failed.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// A hook refused the write (this node's policy; other nodes may accept it).
    #[error("refused by hook {hook:?}: {reason}")]
    Vetoed {
        /// The stream written to (boxed: errors stay small).
        stream: Box<ceramic_streamid::StreamId>,
        /// The hook.
        hook: String,
        /// Its reason.
        reason: String,
    },
}

impl WriteError {
    /// What the caller should do.
    pub fn kind(&self) -> ErrorKind {
        match self {
            WriteError::TooManyBlocks { .. } | WriteError::Vetoed { .. } => ErrorKind::InvalidInput,
            WriteError::Apply(e) => apply_kind(e, false),
            WriteError::Task(e) => e.kind(),
        }
    }

    /// The stream the write was to, when the error knows it.
    pub fn stream(&self) -> Option<ceramic_streamid::StreamId> {
        match self {
            WriteError::Vetoed { stream, .. } => Some(**stream),
            WriteError::Apply(ApplyError::NotGenesis { stream, .. }) => Some(**stream),
            _ => None,
        }
    }
}

/// Why a load ([`Service::load`](crate::Service::load),
/// [`Service::commits`](crate::Service::commits)) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A time was given with a CommitID, which already names one state.
    #[error("a time needs a StreamID: a CommitID already names one state")]
    TimeWithCommit,
    /// The engine could not load the stream (unknown, a commit not in it, a broken log,
    /// storage failed).
    #[error(transparent)]
    Apply(#[from] ApplyError),
    /// Reading the log's blocks failed.
    #[error(transparent)]
    Storage(Box<ceramic_storage::Error>),
    /// The blocking task failed.
    #[error(transparent)]
    Task(#[from] TaskError),
}

impl From<ceramic_storage::Error> for LoadError {
    fn from(error: ceramic_storage::Error) -> Self {
        LoadError::Storage(Box::new(error))
    }
}

impl LoadError {
    /// What the caller should do.
    pub fn kind(&self) -> ErrorKind {
        match self {
            LoadError::TimeWithCommit => ErrorKind::InvalidInput,
            LoadError::Apply(e) => apply_kind(e, true),
            LoadError::Storage(e) => storage_kind(e),
            LoadError::Task(e) => e.kind(),
        }
    }

    /// Whether the stream (or the commit) is simply not known here.
    pub fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }
}

/// Why an anchor request ([`Service::request_anchor`](crate::Service::request_anchor)) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnchorError {
    /// The node has no anchoring configured.
    #[error("anchoring is not configured on this node")]
    NotConfigured,
    /// The stream could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The anchor service refused the request or failed.
    #[error(transparent)]
    Request(#[from] AnchorRequestError),
}

impl AnchorError {
    /// What the caller should do.
    pub fn kind(&self) -> ErrorKind {
        match self {
            AnchorError::NotConfigured => ErrorKind::NotConfigured,
            AnchorError::Load(e) => e.kind(),
            AnchorError::Request(AnchorRequestError::Refused(_)) => ErrorKind::InvalidInput,
            AnchorError::Request(_) => ErrorKind::Unavailable,
        }
    }
}

/// Why a pin, an unpin, a query or a health check failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Storage refused or failed (an unknown stream to pin is
    /// [`ceramic_storage::Error::NotFound`]).
    #[error(transparent)]
    Storage(Box<ceramic_storage::Error>),
    /// The blocking task failed.
    #[error(transparent)]
    Task(#[from] TaskError),
}

impl From<ceramic_storage::Error> for StoreError {
    fn from(error: ceramic_storage::Error) -> Self {
        StoreError::Storage(Box::new(error))
    }
}

impl StoreError {
    /// What the caller should do.
    pub fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Storage(e) => storage_kind(e),
            StoreError::Task(e) => e.kind(),
        }
    }
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
    fn stale_writes_are_stale() {
        let e = ApplyError::Stale { cid: cid(), prev: cid(), tip: cid() };
        assert_eq!(WriteError::from(e).kind(), ErrorKind::Stale);
    }

    #[test]
    fn a_missing_block_is_bad_input_in_a_write_and_not_found_in_a_read() {
        assert_eq!(
            WriteError::from(ApplyError::MissingBlock(cid())).kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(LoadError::from(ApplyError::MissingBlock(cid())).kind(), ErrorKind::NotFound);
    }

    #[test]
    fn unknown_streams_are_not_found() {
        let id = StreamId::new(StreamType::TILE, *cid()).unwrap();
        assert_eq!(WriteError::from(ApplyError::NotFound(id)).kind(), ErrorKind::NotFound);
        assert_eq!(
            StoreError::from(ceramic_storage::Error::NotFound(id)).kind(),
            ErrorKind::NotFound
        );
    }

    #[test]
    fn writes_of_the_wrong_kind_are_bad_input() {
        let id = StreamId::new(StreamType::TILE, *cid()).unwrap();
        let e = ApplyError::NotGenesis { cid: cid(), stream: Box::new(id) };
        assert_eq!(WriteError::from(e).kind(), ErrorKind::InvalidInput);
        assert_eq!(
            WriteError::from(ApplyError::GenesisNotAllowed(cid())).kind(),
            ErrorKind::InvalidInput
        );
        let e = ApplyError::UnknownStreamType(StreamType::new(99));
        assert_eq!(WriteError::from(e).kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn storage_errors_inside_engine_errors_are_classified_as_storage_errors() {
        let id = StreamId::new(StreamType::TILE, *cid()).unwrap();
        let inner = ceramic_storage::Error::CorruptEntry {
            key: ceramic_storage::Key::Pin(id),
            reason: "test",
        };
        let e = ApplyError::Store(Box::new(inner));
        assert_eq!(LoadError::from(e).kind(), ErrorKind::Corrupt);
    }

    #[test]
    fn a_time_with_a_commit_id_is_bad_input() {
        assert_eq!(LoadError::TimeWithCommit.kind(), ErrorKind::InvalidInput);
    }
}
