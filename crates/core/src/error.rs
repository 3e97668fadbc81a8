//! Errors of assembling and serving a node.

/// Why a node could not be opened or stopped serving.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration does not fit.
    #[error(transparent)]
    Config(#[from] crate::ConfigError),
    /// The store could not be opened or flushed. Boxed: a storage error names its keys.
    #[error("storage: {0}")]
    Storage(#[source] Box<ceramic_storage::Error>),
    /// A doctype's stream type is already enabled.
    #[error(transparent)]
    Registry(#[from] ceramic_doctype::RegistryError),
    /// A listen address could not be bound.
    #[error("binding {addr} ({what}): {source}")]
    Bind {
        /// `listen` or `http_listen`.
        what: &'static str,
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The gRPC server failed.
    #[error(transparent)]
    Grpc(#[from] ceramic_grpc::ServeError),
    /// The embedded anchor service (its store or its chain).
    #[error("anchor service: {0}")]
    Anchor(#[from] ceramic_anchor_service::Error),
    /// The Ethereum chain could not be configured or reached at start.
    #[error("ethereum anchoring: {0}")]
    Eth(#[from] ceramic_anchor_eth::Error),
    /// The anchor service's store could not be opened.
    #[error("anchor store: {0}")]
    AnchorStore(#[from] ceramic_anchor_service::StoreError),
    /// Creating a directory under the data directory failed.
    #[error("creating {path}: {source}")]
    DataDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The network could not start.
    #[error("network: {0}")]
    Net(#[from] ceramic_net::Error),
    /// The HTTP server failed.
    #[error("serving HTTP: {0}")]
    Http(#[source] std::io::Error),
    /// A server task panicked or was cancelled.
    #[error("a server task ended abnormally: {0}")]
    Task(String),
    /// The dev chain's file could not be opened or read.
    #[error("dev chain: {0}")]
    DevChain(#[from] ceramic_anchor::DevChainError),
}

impl From<ceramic_storage::Error> for Error {
    fn from(error: ceramic_storage::Error) -> Self {
        Error::Storage(Box::new(error))
    }
}
