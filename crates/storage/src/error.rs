//! Errors of the storage: each names the key it is about.

use std::fmt;
use std::path::PathBuf;

use ceramic_codecs::Cid;
use ceramic_doctype::{StateBytesError, StateJsonError};
use ceramic_streamid::StreamId;

use crate::kv::{BackendError, BackendErrorKind};

/// The stored item an error is about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Key {
    /// A block, by CID (column `blocks`).
    Block(Cid),
    /// A stream's state, by StreamID (column `states`).
    State(StreamId),
    /// A stream's pin (column `pins`).
    Pin(StreamId),
    /// A stream's index entries (column `index`).
    Index(StreamId),
    /// A whole column (a scan, or a batch of deletions).
    Column(&'static str),
    /// A key that does not parse, as stored.
    Raw {
        /// The column.
        column: &'static str,
        /// The key's bytes.
        bytes: Vec<u8>,
    },
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Block(cid) => write!(f, "block {cid}"),
            Key::State(id) => write!(f, "state of {id}"),
            Key::Pin(id) => write!(f, "pin of {id}"),
            Key::Index(id) => write!(f, "index entries of {id}"),
            Key::Column(name) => write!(f, "column `{name}`"),
            Key::Raw { column, bytes } => {
                write!(f, "key 0x")?;
                for b in bytes {
                    write!(f, "{b:02x}")?;
                }
                write!(f, " in column `{column}`")
            }
        }
    }
}

/// Why a stored state could not be read back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateDecodeError {
    /// The value does not start with a known format byte.
    #[error("unknown state format {0:?} (expected 1, 2 or 3)")]
    Format(Option<u8>),
    /// The value is not JSON.
    #[error("not JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The JSON is not a serialized state.
    #[error(transparent)]
    Fields(#[from] StateJsonError),
    /// The bytes are not a state's binary form.
    #[error(transparent)]
    Bytes(#[from] StateBytesError),
    /// The stored log entries skip a position (this one is missing or out of order).
    #[error("log entry {0} is missing")]
    LogGap(u64),
    /// The state belongs to another stream than its key names.
    #[error("it is the state of {0}")]
    OtherStream(StreamId),
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The backend could not open the database.
    #[error("opening the store at {path}: {source}")]
    Open {
        /// The database directory.
        path: PathBuf,
        /// The backend's reason.
        #[source]
        source: BackendError,
    },
    /// The database was written by an unknown version of this crate.
    #[error("the store at {path} has format {found:?}; this build reads format 1")]
    Format {
        /// The database directory.
        path: PathBuf,
        /// The stored format marker.
        found: Vec<u8>,
    },
    /// The backend failed to read a key (an I/O error, not corruption).
    #[error("reading {key}: {source}")]
    Read {
        /// What was read.
        key: Key,
        /// The backend's reason.
        #[source]
        source: BackendError,
    },
    /// The backend failed to write a batch; nothing of it was written. The source's
    /// [`kind`](BackendError::kind) tells e.g. a full disk
    /// ([`BackendErrorKind::NoSpace`](crate::kv::BackendErrorKind::NoSpace)).
    #[error("writing {key}: {source}")]
    Write {
        /// What the batch was for.
        key: Key,
        /// The backend's reason.
        #[source]
        source: BackendError,
    },
    /// A file the backend read is corrupted (e.g. a RocksDB checksum failed).
    #[error("{key} is in a corrupted file: {source}")]
    CorruptFile {
        /// What was read.
        key: Key,
        /// The backend's report.
        #[source]
        source: BackendError,
    },
    /// A stored block's bytes do not hash to its CID.
    #[error("stored block {cid} is corrupt: {source}")]
    CorruptBlock {
        /// The block.
        cid: Cid,
        /// The hash check's report.
        #[source]
        source: ceramic_codecs::Error,
    },
    /// A stored state does not decode.
    #[error("stored state of {stream} is corrupt: {source}")]
    CorruptState {
        /// The stream.
        stream: StreamId,
        /// What is wrong.
        #[source]
        source: StateDecodeError,
    },
    /// A stored key or a pin or index value does not parse.
    #[error("{key} is corrupt: {reason}")]
    CorruptEntry {
        /// The entry.
        key: Key,
        /// What is wrong.
        reason: &'static str,
    },
    /// A state given to be written is malformed (empty log, or a genesis that is not a CIDv1).
    #[error("the state to write is malformed: {0}")]
    InvalidState(&'static str),
    /// The stream has no stored state.
    #[error("stream {0} is not stored")]
    NotFound(StreamId),
    /// A block of a stream's log is neither stored nor given.
    #[error("block {cid} of the log of {stream} is missing")]
    MissingBlock {
        /// The stream.
        stream: StreamId,
        /// The missing block.
        cid: Cid,
    },
    /// A block of a stream's log does not decode as what the log needs there.
    #[error("block {cid} of the log of {stream} is not a valid {what}: {source}")]
    Undecodable {
        /// The stream.
        stream: StreamId,
        /// The block.
        cid: Cid,
        /// What it should have been.
        what: &'static str,
        /// The codec's reason.
        #[source]
        source: ceramic_codecs::Error,
    },
    /// A stream's log does not hang together: a `prev` that is not the previous entry, a kind
    /// that differs from the commit's, a Merkle path that leads elsewhere.
    #[error("the log of {stream} is broken at {cid}: {reason}")]
    BrokenLog {
        /// The stream.
        stream: StreamId,
        /// The commit where it breaks.
        cid: Cid,
        /// How.
        reason: &'static str,
    },
    /// Reading or writing a backup file failed.
    #[error("backup file {path}: {source}")]
    BackupIo {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A backup is not a valid CAR, or one of its blocks does not hash to its CID: refused.
    #[error("the backup of {stream} is refused: {source}")]
    TamperedBackup {
        /// The stream.
        stream: StreamId,
        /// The CAR reader's reason (e.g. a hash mismatch).
        #[source]
        source: ceramic_codecs::Error,
    },
    /// There is no backup of the stream.
    #[error("there is no backup of {0}")]
    NoBackup(StreamId),
    /// A backup's state does not decode.
    #[error("the state in the backup of {stream} is invalid: {source}")]
    BackupState {
        /// The stream.
        stream: StreamId,
        /// What is wrong.
        #[source]
        source: StateDecodeError,
    },
    /// A stream's archive could not be built (its state is too large to encode).
    #[error("building the archive of {stream}: {source}")]
    Archive {
        /// The stream.
        stream: StreamId,
        /// The codec's reason.
        #[source]
        source: ceramic_codecs::Error,
    },
    /// A backup's CAR is valid but does not hold a stream backup.
    #[error("the backup of {stream} is malformed: {reason}")]
    InvalidBackup {
        /// The stream.
        stream: StreamId,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Classifies a backend's read error: corruption ([`Error::CorruptFile`]) or not
    /// ([`Error::Read`]).
    pub(crate) fn read(key: Key, source: BackendError) -> Self {
        match source.kind() {
            BackendErrorKind::Corruption => Error::CorruptFile { key, source },
            _ => Error::Read { key, source },
        }
    }
}
