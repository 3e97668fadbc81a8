//! Errors of the engine, one variant per rule.

use ceramic_anchor::AnchorError;
use ceramic_codecs::Cid;
use ceramic_doctype::DoctypeError;
use ceramic_streamid::{StreamId, StreamType};

/// Why a commit, a log or a tip was not applied. The state is unchanged in every case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// Storage failed (boxed: a storage error names its key and is large).
    #[error(transparent)]
    Store(Box<ceramic_storage::Error>),
    /// A block the log needs is not available.
    #[error("block {0} is not available")]
    MissingBlock(Box<Cid>),
    /// A block is malformed.
    #[error("commit {cid}: {source}")]
    Codec {
        /// The commit.
        cid: Box<Cid>,
        /// The codec's reason.
        #[source]
        source: ceramic_codecs::Error,
    },
    /// A signature does not verify.
    #[error("commit {cid}: {source}")]
    Signature {
        /// The commit.
        cid: Box<Cid>,
        /// The verifier's reason.
        #[source]
        source: ceramic_did::Error,
    },
    /// No doctype is registered for the stream type.
    #[error("no doctype for stream type {0}")]
    UnknownStreamType(StreamType),
    /// The doctype rejected the commit (the error names its rule).
    #[error("commit {cid}: {source}")]
    Rejected {
        /// The commit.
        cid: Box<Cid>,
        /// The doctype's error.
        #[source]
        source: DoctypeError,
    },
    /// A commit's `id` names another stream's genesis.
    #[error("commit {cid} belongs to the stream with genesis {got}, not {expected}")]
    WrongStream {
        /// The commit.
        cid: Box<Cid>,
        /// This stream's genesis.
        expected: Box<Cid>,
        /// The commit's `id`.
        got: Box<Cid>,
    },
    /// A commit's `prev` is not the current tip.
    #[error("commit {cid} builds on {prev}, not on the tip {tip}")]
    NotOnTip {
        /// The commit.
        cid: Box<Cid>,
        /// Its `prev`.
        prev: Box<Cid>,
        /// The current tip.
        tip: Box<Cid>,
    },
    /// A client write that does not build on the current tip ("rejected because it builds on
    /// stale state").
    #[error("commit {cid} builds on stale state: its prev {prev} is not the tip {tip}")]
    Stale {
        /// The commit.
        cid: Box<Cid>,
        /// Its `prev`.
        prev: Box<Cid>,
        /// The current tip.
        tip: Box<Cid>,
    },
    /// The genesis commit is not where the log starts, or the log ends at another genesis.
    #[error("the log does not lead back to the genesis {expected} (it ends at {got})")]
    NotThisStream {
        /// The stream's genesis.
        expected: Box<Cid>,
        /// Where the log ended.
        got: Box<Cid>,
    },
    /// A genesis commit appeared after the start of a log, or a data commit where a genesis is
    /// needed.
    #[error("commit {cid} is a {kind} commit where a {expected} commit is required")]
    WrongKind {
        /// The commit.
        cid: Box<Cid>,
        /// What it is.
        kind: &'static str,
        /// What was required.
        expected: &'static str,
    },
    /// An anchor commit is invalid.
    #[error("anchor commit {cid}: {source}")]
    Anchor {
        /// The anchor commit.
        cid: Box<Cid>,
        /// Why.
        #[source]
        source: AnchorError,
    },
    /// The log is longer than the engine accepts, or its `prev` links loop.
    #[error("the log is longer than {max} commits or loops")]
    LogTooLong {
        /// The limit.
        max: usize,
    },
    /// The stream is not known.
    #[error("stream {0} not found")]
    NotFound(StreamId),
    /// A write that must create a stream carries an update of an existing one.
    #[error("commit {cid} is an update of {stream}, not a genesis")]
    NotGenesis {
        /// The commit.
        cid: Box<Cid>,
        /// The stream it updates.
        stream: Box<StreamId>,
    },
    /// A write that must update a stream carries a genesis commit.
    #[error("commit {0} is a genesis commit: create streams with a create request")]
    GenesisNotAllowed(Box<Cid>),
    /// Loading streams for a doctype nested deeper than allowed (e.g. schemas of schemas).
    #[error("loading nested streams deeper than {0} levels")]
    TooDeep(usize),
}

impl From<ceramic_storage::Error> for ApplyError {
    fn from(e: ceramic_storage::Error) -> Self {
        ApplyError::Store(Box::new(e))
    }
}
