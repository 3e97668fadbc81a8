//! The anchor service's errors: bad request bodies ([`BodyError`]), storage ([`StoreError`]) and
//! the service's own ([`Error`]).

use ceramic_codecs::Cid;

/// Why a request body (HTTP JSON or CAR, or a gRPC message) was refused. Nothing is stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is not JSON, or not the JSON object `{streamId, cid, timestamp?}`.
    #[error("invalid JSON body: {0}")]
    Json(#[from] serde_json::Error),
    /// `streamId` does not parse as a StreamID.
    #[error("invalid streamId {value:?}: {source}")]
    StreamId {
        /// The text (or hex bytes) given (the first 200 characters).
        value: String,
        /// Why it does not parse.
        source: ceramic_streamid::Error,
    },
    /// `cid` (or the CAR's `tip`) does not parse as a CID.
    #[error("invalid cid {value:?}: {source}")]
    Cid {
        /// The text given (its first 200 characters).
        value: String,
        /// Why it does not parse.
        source: ceramic_streamid::Error,
    },
    /// `timestamp` is not an ISO-8601 date-time (`2024-01-02T03:04:05.678Z`).
    #[error(
        "invalid timestamp {0:?}: expected an ISO-8601 date-time such as 2024-01-02T03:04:05.678Z"
    )]
    Timestamp(String),
    /// The CAR body does not read, or has not exactly one root.
    #[error("invalid CAR body: {0}")]
    Car(#[from] ceramic_codecs::Error),
    /// The CAR body's root block is not `{streamId: bytes, tip: CID, timestamp?: string}`.
    #[error("invalid CAR body: {0}")]
    CarRoot(&'static str),
    /// A body of a content type the endpoint does not take.
    #[error("unsupported content type {0:?}: send application/json or application/vnd.ipld.car")]
    ContentType(String),
}

/// A storage failure (RocksDB I/O); retrying may help.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// RocksDB refused a read or write.
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    /// The database could not be opened at this path.
    #[error("opening {path}: {source}")]
    Open {
        /// The directory.
        path: std::path::PathBuf,
        /// RocksDB's error.
        source: rocksdb::Error,
    },
}

/// What went wrong in the anchor service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bad request.
    #[error(transparent)]
    Body(#[from] BodyError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored value does not decode (a corrupt or incompatible store).
    #[error("corrupt {what} under key {key}: {reason}")]
    Corrupt {
        /// What the value should be.
        what: &'static str,
        /// The key, in hex.
        key: String,
        /// What the decoder said.
        reason: String,
    },
    /// A batch names a request the store does not have.
    #[error("batch {batch} names request {cid}, which is not stored")]
    MissingRequest {
        /// The batch id.
        batch: u64,
        /// The request's commit CID.
        cid: Box<Cid>,
    },
    /// Rebuilding a stored batch gave another Merkle root than the one recorded.
    #[error("batch {batch}: rebuilt root {rebuilt} is not the recorded root {recorded}")]
    RootMismatch {
        /// The batch id.
        batch: u64,
        /// The root recorded when the batch was chosen.
        recorded: Box<Cid>,
        /// The root of the batch rebuilt from its requests.
        rebuilt: Box<Cid>,
    },
    /// The chain did not take the root; the batch's requests are pending again.
    #[error(transparent)]
    Chain(#[from] ceramic_anchor::ChainError),
    /// Building the anchor commits failed.
    #[error(transparent)]
    Anchor(#[from] ceramic_anchor::Error),
    /// A blocking task panicked or was cancelled.
    #[error("the service task failed: {0}")]
    Task(String),
}

impl Error {
    pub(crate) fn corrupt(what: &'static str, key: &[u8], reason: impl ToString) -> Self {
        Error::Corrupt { what, key: hex::encode(key), reason: reason.to_string() }
    }
}

/// The result of this crate's fallible functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;
