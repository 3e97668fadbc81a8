//! Errors of assembling and serving a node (request errors are `tonic::Status`es, made in
//! `status.rs`).

use std::path::PathBuf;

/// Why a node could not be built or stopped serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The data directory could not be created.
    #[error("creating the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The store could not be opened (locked by another process, unreadable, another format)
    /// or flushed. Boxed: a storage error names its keys and is ~256 bytes.
    #[error(transparent)]
    Storage(Box<ceramic_storage::Error>),
    /// A doctype's stream type is already registered.
    #[error(transparent)]
    Registry(#[from] ceramic_doctype::RegistryError),
    /// The listener's address could not be read.
    #[error("reading the listener's address: {0}")]
    Listener(#[source] std::io::Error),
    /// The gRPC server failed.
    #[error("serving gRPC: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The committed descriptor set does not load (regenerate it with `cargo xtask codegen`).
    #[error("gRPC reflection: {0}")]
    Reflection(String),
}

impl From<ceramic_storage::Error> for Error {
    fn from(error: ceramic_storage::Error) -> Self {
        Error::Storage(Box::new(error))
    }
}
