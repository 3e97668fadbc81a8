//! The assembled node: RocksDB storage under a data directory, the engine over it with the
//! registered doctypes, and the gRPC service, served until a shutdown signal.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ceramic_codecs::Cid;
use ceramic_doctype::{Doctype, Registry};
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::{AnchorVerifier, Engine, Fanout, Publisher};
use ceramic_storage::Storage;
use ceramic_storage_rocks::{Config, RocksStorage};
use ceramic_streamid::StreamId;
use tokio::net::TcpListener;

use crate::error::Error;
use crate::service::{Info, NodeService};
use crate::updates::Updates;

/// The directory under the data directory that holds the RocksDB store.
const STORE_DIR: &str = "store";

/// Which verifier checks anchor commits against a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AnchorVerifierKind {
    /// A placeholder until the dev-chain verifier (`ceramic-anchor`) is wired in: the engine's
    /// `FakeAnchorVerifier` with no confirmed transactions, so every anchor commit is refused
    /// (`InvalidArgument`). Signed commits are unaffected.
    #[default]
    Fake,
}

impl AnchorVerifierKind {
    /// Its name in configuration files and `NodeInfo` (`fake`).
    pub fn name(self) -> &'static str {
        match self {
            AnchorVerifierKind::Fake => "fake",
        }
    }

    /// The kind named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "fake" => Some(AnchorVerifierKind::Fake),
            _ => None,
        }
    }

    fn build(self) -> Arc<dyn AnchorVerifier> {
        match self {
            AnchorVerifierKind::Fake => Arc::new(FakeAnchorVerifier::default()),
        }
    }
}

/// Where and how a node runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The data directory; the store is `<data_dir>/store`.
    pub data_dir: PathBuf,
    /// The network's name (`inmemory` until networking lands; reported by `NodeInfo`).
    pub network: String,
    /// Which verifier checks anchor commits.
    pub anchor_verifier: AnchorVerifierKind,
    /// Whether each write is fsynced before it is acknowledged (see
    /// [`ceramic_storage_rocks::Config::sync`]); on by default.
    pub sync: bool,
    /// How long [`Node::serve`] waits, once shut down, for open connections to finish before
    /// it drops them (10 s by default). Graceful HTTP/2 shutdown needs each client to answer;
    /// a stuck or idle client must not keep the node from exiting.
    pub shutdown_grace: Duration,
}

impl Options {
    /// A node storing under `data_dir`, on network `inmemory`, with the placeholder anchor
    /// verifier and synced writes.
    pub fn new(data_dir: impl AsRef<Path>) -> Self {
        Options {
            data_dir: data_dir.as_ref().to_path_buf(),
            network: "inmemory".into(),
            anchor_verifier: AnchorVerifierKind::default(),
            sync: true,
            shutdown_grace: Duration::from_secs(10),
        }
    }

    /// Sets [`Options::network`].
    pub fn with_network(mut self, network: impl Into<String>) -> Self {
        self.network = network.into();
        self
    }

    /// Sets [`Options::anchor_verifier`].
    pub fn with_anchor_verifier(mut self, kind: AnchorVerifierKind) -> Self {
        self.anchor_verifier = kind;
        self
    }

    /// Sets [`Options::sync`].
    pub fn with_sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// Sets [`Options::shutdown_grace`].
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

/// Builds a [`Node`]: options, then the doctypes to enable, then [`NodeBuilder::open`].
pub struct NodeBuilder {
    options: Options,
    registry: Registry,
    info: Info,
    verifier: Option<Arc<dyn AnchorVerifier>>,
    publishers: Fanout,
}

impl std::fmt::Debug for NodeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBuilder")
            .field("options", &self.options)
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl NodeBuilder {
    /// A node with `options` and no doctypes yet.
    pub fn new(options: Options) -> Self {
        let info =
            Info::new(options.network.clone()).with_anchor_verifier(options.anchor_verifier.name());
        NodeBuilder {
            options,
            registry: Registry::new(),
            info,
            verifier: None,
            publishers: Fanout::new(),
        }
    }

    /// Checks anchor commits with `verifier` (named `name` in `NodeInfo`) instead of
    /// [`Options::anchor_verifier`].
    pub fn with_anchor_verifier(mut self, verifier: Arc<dyn AnchorVerifier>, name: &str) -> Self {
        self.verifier = Some(verifier);
        self.info = self.info.with_anchor_verifier(name);
        self
    }

    /// Also announces every new tip to `publisher` (e.g. the network).
    pub fn with_publisher(mut self, publisher: Arc<dyn Publisher>) -> Self {
        self.publishers = self.publishers.with(publisher);
        self
    }

    /// Enables a doctype.
    ///
    /// # Errors
    /// [`Error::Registry`] when its stream type is already enabled.
    pub fn with_doctype(mut self, doctype: impl Doctype) -> Result<Self, Error> {
        let (stream_type, name) = (doctype.stream_type(), doctype.name());
        self.registry.register(doctype)?;
        self.info = self.info.with_doctype(stream_type, name);
        Ok(self)
    }

    /// Opens the store (creating the data directory) and builds the engine and the service.
    ///
    /// # Errors
    /// [`Error::DataDir`], or [`Error::Storage`] when the store cannot be opened (e.g. another
    /// process has it open).
    pub fn open(self) -> Result<Node, Error> {
        let NodeBuilder { options, registry, info, verifier, publishers } = self;
        let path = options.data_dir.join(STORE_DIR);
        std::fs::create_dir_all(&path)
            .map_err(|source| Error::DataDir { path: path.clone(), source })?;
        let storage = Arc::new(ceramic_storage_rocks::open(
            &path,
            Config::default().with_sync(options.sync),
        )?);
        let dyn_storage: Arc<dyn Storage> = storage.clone();
        let updates = Updates::new();
        let publisher = publishers.with(Arc::new(LogPublisher)).with(Arc::new(updates.clone()));
        let verifier = verifier.unwrap_or_else(|| options.anchor_verifier.build());
        let engine = Engine::new(dyn_storage.clone(), registry, verifier, Arc::new(publisher));
        let service = NodeService::with_updates(Arc::new(engine), dyn_storage, info, updates);
        Ok(Node { service, storage, options })
    }
}

/// A node ready to serve: storage open, engine and service built.
#[derive(Debug)]
pub struct Node {
    service: NodeService,
    storage: Arc<RocksStorage>,
    options: Options,
}

impl Node {
    /// The gRPC service (e.g. to serve it with other services on one server).
    pub fn service(&self) -> &NodeService {
        &self.service
    }

    /// The options it was opened with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Serves the gRPC API on `listener` until `shutdown` completes, then stops accepting
    /// connections, lets in-flight requests finish (at most [`Options::shutdown_grace`], after
    /// which open connections are dropped), and flushes the store. Dropping the future midway is
    /// safe (every write is one atomic batch, durable through the WAL); it just skips the flush,
    /// which only shortens the next start's WAL replay.
    ///
    /// # Errors
    /// [`Error::Listener`], [`Error::Transport`] when the server fails, [`Error::Storage`]
    /// when the final flush fails.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let addr = listener.local_addr().map_err(Error::Listener)?;
        tracing::info!(%addr, network = %self.options.network, "serving gRPC");
        let (signalled, on_signal) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            shutdown.await;
            let _ = signalled.send(());
        };
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(crate::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| Error::Reflection(e.to_string()))?;
        let server = tonic::transport::Server::builder()
            .add_service(self.service.clone().into_server())
            .add_service(reflection)
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener),
                shutdown,
            );
        let grace = self.options.shutdown_grace;
        let grace_over = async move {
            match on_signal.await {
                Ok(()) => tokio::time::sleep(grace).await,
                // The server stopped by itself; the other branch completes.
                Err(_) => std::future::pending().await,
            }
        };
        tokio::select! {
            result = server => result?,
            () = grace_over => {
                tracing::warn!(?grace, "connections still open after the grace period: dropped");
            }
        }
        tracing::info!("gRPC server stopped; flushing the store");
        // Requests abandoned with their connections may still be running on the blocking pool;
        // flushing alongside them is safe.
        ceramic_storage_rocks::flush(&self.storage)?;
        Ok(())
    }
}

/// Logs new tips (debug level).
#[derive(Debug)]
struct LogPublisher;

impl Publisher for LogPublisher {
    fn publish_update(&self, stream: &StreamId, tip: &Cid) {
        tracing::debug!(%stream, %tip, "new tip");
    }
}
