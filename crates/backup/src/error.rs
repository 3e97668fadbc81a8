//! The errors of backups and restores.

use std::path::PathBuf;

use ceramic_codecs::Cid;
use ceramic_streamid::StreamId;

/// Why a target could not store, read or list an object.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// An object name outside the allowed alphabet (see [`crate::check_name`]).
    #[error("invalid object name {0:?}: only [A-Za-z0-9._-] segments separated by '/'")]
    BadName(String),
    /// A file of a directory target.
    #[error("backup file {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The object store could not be reached (connection refused, timeout, broken body).
    #[error("S3 {op} {name}: {source}")]
    Transport {
        /// The operation (`PUT`, `GET`, `LIST`, `DELETE`).
        op: &'static str,
        /// The object name (or prefix).
        name: String,
        /// The HTTP client's error.
        source: Box<ureq::Error>,
    },
    /// The object store answered with an error status.
    #[error("S3 {op} {name}: HTTP {status}")]
    Status {
        /// The operation.
        op: &'static str,
        /// The object name (or prefix).
        name: String,
        /// The HTTP status.
        status: u16,
    },
    /// The object store's listing did not parse.
    #[error("S3 listing of {prefix}: {source}")]
    Listing {
        /// The prefix listed.
        prefix: String,
        /// The XML error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The S3 endpoint or bucket is not usable.
    #[error("S3 endpoint {endpoint:?}: {reason}")]
    Endpoint {
        /// The endpoint URL given.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// The IPFS peer refused or failed to pin.
    #[error("IPFS peer {peer}: {reason}")]
    Ipfs {
        /// The peer's control address.
        peer: String,
        /// What it answered.
        reason: String,
    },
}

/// Why a backup run or a restore failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The target failed; a run retries later (with back-off).
    #[error(transparent)]
    Target(#[from] TargetError),
    /// The node's store failed.
    #[error("store: {0}")]
    Store(#[from] ceramic_storage::Error),
    /// The target's manifest does not parse.
    #[error("the backup manifest does not parse: {0}")]
    Manifest(#[source] serde_json::Error),
    /// The manifest names an object that the target does not hold.
    #[error("the backup of {stream} lacks its object {name}")]
    MissingObject {
        /// The stream.
        stream: StreamId,
        /// The object.
        name: String,
    },
    /// An object is not a CAR whose blocks match their CIDs: the backup was altered.
    #[error("the backup object {name} is tampered: {source}")]
    Tampered {
        /// The object.
        name: String,
        /// What the CAR reader found.
        source: ceramic_codecs::Error,
    },
    /// The manifest and the objects disagree (a tip that is no object's root, a stream whose
    /// object names another one).
    #[error("the backup of {stream} is inconsistent: {reason}")]
    Inconsistent {
        /// The stream.
        stream: StreamId,
        /// Why.
        reason: &'static str,
    },
    /// A commit of the backup does not validate (signature, doctype rules, anchor proof, a
    /// missing block): the restore refuses the whole backup and stores nothing.
    #[error("the backup of {stream} does not validate at {tip}: {source}")]
    Invalid {
        /// The stream.
        stream: StreamId,
        /// The tip restored.
        tip: Box<Cid>,
        /// The engine's error.
        source: Box<ceramic_engine::ApplyError>,
    },
    /// Storing a validated stream failed.
    #[error("storing the restored {stream}: {source}")]
    Apply {
        /// The stream.
        stream: StreamId,
        /// The engine's error.
        source: Box<ceramic_engine::ApplyError>,
    },
    /// Building a CAR failed.
    #[error("encoding the backup of {stream}: {source}")]
    Encode {
        /// The stream.
        stream: StreamId,
        /// The codec's error.
        source: ceramic_codecs::Error,
    },
}

/// A `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
