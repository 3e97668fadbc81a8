//! [`CoreBuilder`] → [`CoreNode`] → [`CoreNode::serve`]: the whole node.

use std::future::Future;
use std::sync::Arc;

use ceramic_anchor::Chains;
use ceramic_anchor_service::{BroadcastSink, Cas, CasBuilder, Policy, RocksStore};
use ceramic_doctype::Doctype;
use ceramic_engine::Publisher;
use ceramic_http_api::Api;
use ceramic_net::{Announcements, Config as NetConfig, Network, NetworkHandle};
use ceramic_proto::{LoadFuture, Metrics, NetworkLoader, Node, NodeBuilder, NodeService, Options};
use ceramic_streamid::StreamId;
use tokio::net::TcpListener;

use crate::Error;
use crate::anchoring::{Anchoring, CasRequester, apply_anchors, chains};

/// The directory under the data directory holding the anchor service's requests.
const ANCHOR_DIR: &str = "anchor";

/// How a node runs: the options of the node below, and anchoring.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CoreOptions {
    /// Storage, network name, fsync, shutdown grace.
    pub node: Options,
    /// Which chain anchors go to.
    pub anchoring: Anchoring,
    /// When the embedded anchor service makes a batch; `None` is
    /// [`Anchoring::default_policy`].
    pub policy: Option<Policy>,
    /// The peer-to-peer network (libp2p, Ceramic pubsub); `None` runs without one.
    pub network: Option<NetConfig>,
    /// The DIDs allowed to use the HTTP admin API (pins); none by default.
    pub admin_dids: Vec<String>,
}

impl CoreOptions {
    /// `node`'s options with dev-chain anchoring and its default policy.
    pub fn new(node: Options) -> Self {
        CoreOptions {
            node,
            anchoring: Anchoring::Dev,
            policy: None,
            network: None,
            admin_dids: Vec::new(),
        }
    }

    /// Sets [`CoreOptions::admin_dids`].
    #[must_use]
    pub fn with_admin_dids(mut self, dids: Vec<String>) -> Self {
        self.admin_dids = dids;
        self
    }

    /// Sets [`CoreOptions::network`].
    #[must_use]
    pub fn with_network(mut self, network: NetConfig) -> Self {
        self.network = Some(network);
        self
    }

    /// Sets [`CoreOptions::anchoring`].
    #[must_use]
    pub fn with_anchoring(mut self, anchoring: Anchoring) -> Self {
        self.anchoring = anchoring;
        self
    }

    /// Sets [`CoreOptions::policy`].
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }
}

/// Builds a [`CoreNode`]: options, doctypes, extra publishers, then [`CoreBuilder::open`].
#[derive(Debug)]
pub struct CoreBuilder {
    options: CoreOptions,
    node: NodeBuilder,
}

impl CoreBuilder {
    /// A node with `options` and no doctypes yet.
    pub fn new(options: CoreOptions) -> Self {
        let node = NodeBuilder::new(options.node.clone());
        CoreBuilder { options, node }
    }

    /// Enables a doctype.
    ///
    /// # Errors
    /// [`Error::Node`] when its stream type is already enabled.
    pub fn with_doctype(mut self, doctype: impl Doctype) -> Result<Self, Error> {
        self.node = self.node.with_doctype(doctype)?;
        Ok(self)
    }

    /// Also announces every new tip to `publisher` (e.g. the network).
    #[must_use]
    pub fn with_publisher(mut self, publisher: Arc<dyn Publisher>) -> Self {
        self.node = self.node.with_publisher(publisher);
        self
    }

    /// Opens the stores, connects the chain, and builds the engine, the anchor service and the
    /// APIs.
    ///
    /// # Errors
    /// [`Error::Eth`] when the Ethereum chain cannot be reached, [`Error::AnchorStore`] /
    /// [`Error::Node`] when a store cannot be opened, [`Error::DataDir`].
    pub fn open(self) -> Result<CoreNode, Error> {
        let CoreBuilder { options, mut node } = self;
        let (chain, verifier) = chains(&options.anchoring)?;
        let network = options.network.clone().map(|config| {
            let (announcer, announcements) = ceramic_net::announcer();
            node = std::mem::replace(&mut node, NodeBuilder::new(options.node.clone()))
                .with_publisher(Arc::new(announcer));
            (config, announcements)
        });
        let anchor_dir = options.node.data_dir.join(ANCHOR_DIR);
        std::fs::create_dir_all(&anchor_dir)
            .map_err(|source| Error::DataDir { path: anchor_dir.clone(), source })?;
        let sink = BroadcastSink::new(64);
        let policy = options.policy.unwrap_or_else(|| options.anchoring.default_policy());
        let cas = CasBuilder::new(Arc::new(RocksStore::open(&anchor_dir)?), chain)
            .with_policy(policy)
            .with_sink(Arc::new(sink.clone()))
            .open()?;
        let verifier_name = format!("{} ({})", options.anchoring.name(), verifier.ids().join(", "));
        let node = node.with_anchor_verifier(verifier.clone(), &verifier_name).open()?;
        let requester = Arc::new(CasRequester::new(cas.clone()));
        node.service().set_anchor_requester(requester.clone());
        let admin_dids = options.admin_dids;
        Ok(CoreNode { node, cas, sink, verifier, requester, network, net: None, admin_dids })
    }
}

/// Where a node listens.
#[derive(Debug)]
pub struct Listeners {
    /// gRPC (`ceramic.v1.Node`, reflection).
    pub grpc: TcpListener,
    /// The js-ceramic HTTP API (`/api/v0`) and `/metrics`.
    pub http: TcpListener,
}

/// An opened node, ready to serve.
#[derive(Debug)]
pub struct CoreNode {
    node: Node,
    cas: Cas,
    sink: BroadcastSink,
    verifier: Arc<Chains>,
    requester: Arc<CasRequester>,
    network: Option<(NetConfig, Announcements)>,
    net: Option<(NetworkHandle, tokio::task::JoinHandle<()>)>,
    admin_dids: Vec<String>,
}

/// Loads unknown streams from the network for the APIs.
#[derive(Debug)]
struct NetLoader(NetworkHandle);

impl NetworkLoader for NetLoader {
    fn load(&self, stream: StreamId) -> LoadFuture<'_> {
        Box::pin(async move {
            match self.0.load(&stream).await {
                Ok(_) => Ok(true),
                Err(ceramic_net::Error::NotFound(_)) => Ok(false),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}

impl CoreNode {
    /// Starts the network when one is configured (binding its listen addresses and dialling
    /// the bootstrap peers) and returns its handle; [`CoreNode::serve`] starts it otherwise.
    ///
    /// # Errors
    /// [`Error::Net`] when the swarm cannot be built or listen.
    pub async fn start_network(&mut self) -> Result<Option<NetworkHandle>, Error> {
        if let Some((handle, _)) = &self.net {
            return Ok(Some(handle.clone()));
        }
        let Some((config, announcements)) = self.network.take() else { return Ok(None) };
        let service = self.node.service();
        let (handle, task) = Network::start(
            config,
            service.engine().clone(),
            service.storage().clone(),
            announcements,
        )
        .await?;
        service.set_network_loader(Arc::new(NetLoader(handle.clone())));
        self.net = Some((handle.clone(), task));
        Ok(Some(handle))
    }

    /// The gRPC service (engine, storage, metrics).
    pub fn service(&self) -> &NodeService {
        self.node.service()
    }

    /// The embedded anchor service (e.g. to trigger a batch).
    pub fn cas(&self) -> &Cas {
        &self.cas
    }

    /// The anchor verifier: the chains the node accepts proofs from.
    pub fn chains(&self) -> &Arc<Chains> {
        &self.verifier
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &Metrics {
        self.node.service().metrics()
    }

    /// Serves gRPC and HTTP, runs the anchor scheduler and applies finished anchors, until
    /// `shutdown` completes (or a server fails); then stops both servers (each lets requests
    /// finish for at most the shutdown grace) and flushes the store.
    ///
    /// # Errors
    /// [`Error::Node`] when gRPC fails, [`Error::Http`] when HTTP fails.
    pub async fn serve(
        self,
        listeners: Listeners,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        let mut this = self;
        this.start_network().await?;
        let CoreNode { node, cas, sink, verifier, requester, net, admin_dids, .. } = this;
        let service = node.service().clone();
        let grace = node.options().shutdown_grace;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };

        let applier = tokio::spawn(apply_anchors(
            service.engine().clone(),
            sink.subscribe(),
            service.metrics().clone(),
        ));
        let scheduler = tokio::spawn(cas.clone().run_scheduler(until_stopped(stopped.clone())));
        let peers = tokio::spawn(count_peers(
            net.as_ref().map(|(handle, _)| handle.clone()),
            service.metrics().clone(),
        ));
        let metrics = service.metrics().clone();
        let router = Api::new(service.clone())
            .with_anchor_requester(requester)
            .with_supported_chains(verifier.ids())
            .with_admin_dids(admin_dids)
            .router()
            .route(
                "/metrics",
                axum::routing::get(move || {
                    let metrics = metrics.clone();
                    async move {
                        (
                            [(
                                axum::http::header::CONTENT_TYPE,
                                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                            )],
                            metrics.encode(),
                        )
                    }
                }),
            );
        let mut http = tokio::spawn(ceramic_http_api::serve(
            listeners.http,
            router,
            until_stopped(stopped.clone()),
            grace,
        ));
        let grpc = node.serve(listeners.grpc, until_stopped(stopped));
        tokio::pin!(grpc, shutdown);
        let (grpc_result, http_result) = tokio::select! {
            result = &mut grpc => {
                let _ = stop.send(true);
                (result, http.await)
            }
            () = &mut shutdown => {
                let _ = stop.send(true);
                (grpc.await, http.await)
            }
            result = &mut http => {
                tracing::error!(?result, "the HTTP server stopped");
                let _ = stop.send(true);
                (grpc.await, result)
            }
        };
        let _ = stop.send(true);
        let _ = scheduler.await;
        applier.abort();
        if let Some((handle, task)) = net {
            peers.abort();
            handle.shutdown().await;
            let _ = task.await;
        }
        grpc_result?;
        http_result.map_err(|e| Error::Task(e.to_string()))?.map_err(Error::Http)?;
        Ok(())
    }
}

/// Keeps the peers gauge current (every 5 s) while the network runs.
async fn count_peers(handle: Option<NetworkHandle>, metrics: Metrics) {
    let Some(handle) = handle else { return };
    let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        every.tick().await;
        match handle.peers().await {
            Ok(peers) => metrics.set_peers(i64::try_from(peers.len()).unwrap_or(i64::MAX)),
            Err(_) => return,
        }
    }
}
