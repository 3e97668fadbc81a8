//! [`Node::builder`] → [`NodeBuilder::start`] → [`Node::run`]: the whole node, assembled once.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use ceramic_anchor::Chains;
use ceramic_anchor_service::{BroadcastSink, Cas, CasBuilder, CasClient, Policy, RocksStore};
use ceramic_codecs::Cid;
use ceramic_doctype::{Doctype, Registry, RegistryError};
use ceramic_engine::{Engine, Fanout, Publisher};
use ceramic_net::{Config as NetConfig, Multiaddr, Network, NetworkHandle};
use ceramic_service::{
    AnchorRequester, Info, LoadFuture, Metrics, NetworkLoader, Service, Updates,
};
use ceramic_storage::Storage;
use ceramic_storage_rocks::RocksStorage;
use ceramic_streamid::{StreamId, StreamType};
use tokio::net::TcpListener;

use crate::anchoring::{AnchorTarget, CasRequester, chains};
use crate::remote_cas::RemoteRequester;
use crate::{ConfigError, Error, NodeConfig};

/// The directory under the data directory holding the RocksDB store.
const STORE_DIR: &str = "store";
/// The directory under the data directory holding the anchor service's requests.
const ANCHOR_DIR: &str = "anchor";
/// The directory under the data directory holding the requests waiting at a remote CAS.
const REMOTE_ANCHOR_DIR: &str = "anchor-remote";

/// Registers one offered doctype into a registry (the doctype value, captured).
type Enable = Box<dyn FnOnce(&mut Registry) -> Result<(), RegistryError> + Send>;
/// The registry of the configured doctypes and what `NodeInfo` reports of them.
type Enabled = (Registry, Vec<(StreamType, &'static str)>);

/// Builds a [`Node`]: its configuration, the doctypes it is offered (values of any crate's
/// [`Doctype`], so a third-party doctype is enabled like a built-in one), then
/// [`NodeBuilder::start`]. The configuration's `doctypes` picks which offered ones run (all of
/// them when it is absent).
pub struct NodeBuilder {
    config: NodeConfig,
    doctypes: Vec<(&'static str, StreamType, Enable)>,
    publishers: Fanout,
    network: Option<NetConfig>,
    policy: Option<Policy>,
}

impl std::fmt::Debug for NodeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.doctypes.iter().map(|(name, _, _)| *name).collect();
        f.debug_struct("NodeBuilder")
            .field("config", &self.config)
            .field("doctypes", &names)
            .finish_non_exhaustive()
    }
}

impl NodeBuilder {
    /// Offers a doctype; it runs when the configuration's `doctypes` names it
    /// ([`Doctype::name`]).
    #[must_use]
    pub fn with_doctype(mut self, doctype: impl Doctype) -> Self {
        let (name, stream_type) = (doctype.name(), doctype.stream_type());
        self.doctypes.push((name, stream_type, Box::new(move |r| r.register(doctype))));
        self
    }

    /// Also announces every new tip to `publisher`.
    #[must_use]
    pub fn with_publisher(mut self, publisher: Arc<dyn Publisher>) -> Self {
        self.publishers = self.publishers.with(publisher);
        self
    }

    /// Runs the network with `config` instead of the one the `[p2p]` table makes (tests and
    /// embedders tune timeouts, limits or keys this way).
    #[must_use]
    pub fn with_network_config(mut self, config: NetConfig) -> Self {
        self.network = Some(config);
        self
    }

    /// Batches anchors by `policy` instead of the configured one.
    #[must_use]
    pub fn with_anchor_policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The registry of the configured doctypes, and what `NodeInfo` reports of them.
    fn registry(
        doctypes: Vec<(&'static str, StreamType, Enable)>,
        wanted: Option<&[String]>,
    ) -> Result<Enabled, Error> {
        let wanted = wanted.map_or_else(
            || doctypes.iter().map(|(n, _, _)| n.to_string()).collect(),
            <[String]>::to_vec,
        );
        if let Some(unknown) = wanted.iter().find(|w| !doctypes.iter().any(|(n, _, _)| n == w)) {
            let offered: Vec<_> = doctypes.iter().map(|(n, _, _)| *n).collect();
            let reason = format!("{unknown:?} is not one of this node's doctypes {offered:?}");
            return Err(ConfigError::Invalid { key: "doctypes", reason }.into());
        }
        let mut registry = Registry::new();
        let mut enabled = Vec::new();
        for (name, stream_type, enable) in doctypes {
            if wanted.iter().any(|w| w == name) {
                enable(&mut registry)?;
                enabled.push((stream_type, name));
            }
        }
        Ok((registry, enabled))
    }

    /// Opens the stores (creating the data directory), connects the anchoring chain, builds the
    /// engine, the anchor service and the node service, starts the network (when enabled), and
    /// binds the gRPC and HTTP listeners. Nothing is served until [`Node::run`].
    ///
    /// # Errors
    /// [`Error::Config`] for a doctype or setting that does not fit, [`Error::DataDir`],
    /// [`Error::Storage`] / [`Error::AnchorStore`] when a store cannot be opened (e.g. another
    /// process has it), [`Error::Eth`] when the chain cannot be reached, [`Error::Net`],
    /// [`Error::Bind`].
    pub async fn start(self) -> Result<Node, Error> {
        let NodeBuilder { config, doctypes, publishers, network, policy } = self;
        let (registry, enabled) = Self::registry(doctypes, config.doctypes.as_deref())?;
        config.http.validate()?;
        let metrics = Metrics::new();
        let hooks = config.load_hooks(&metrics)?;
        config.gc.validate()?;
        crate::config::validate_chains(&config.chains)?;
        let pins = config.pinned_streams()?;
        let anchoring = config.anchoring.to_anchoring()?;
        let store_config = config.store_config()?;
        let network = match network {
            Some(network) => Some(network),
            None => config.p2p.to_net_config(&config.network)?,
        };
        let policy = policy
            .or_else(|| config.anchoring.policy())
            .unwrap_or_else(|| anchoring.default_policy());

        let store_dir = create_dir(&config, STORE_DIR)?;
        let storage = Arc::new(ceramic_storage_rocks::open(&store_dir, store_config)?);
        let dyn_storage: Arc<dyn Storage> = storage.clone();

        let backups = crate::backup::runners(&config.backup, &dyn_storage)?;

        let (target, verifier) = chains(&anchoring, &config.chains, &config.dev_chain_file())?;
        let updates = Updates::new();
        let mut publishers =
            publishers.with(Arc::new(LogPublisher)).with(Arc::new(updates.clone()));
        let announcements = network.as_ref().map(|_| {
            let (announcer, announcements) = ceramic_net::announcer();
            publishers = std::mem::take(&mut publishers).with(Arc::new(announcer));
            announcements
        });
        let engine =
            Engine::new(dyn_storage.clone(), registry, verifier.clone(), Arc::new(publishers));
        // With a network, 3ID streams this node does not store are looked for there.
        let (engine, fetches) = if announcements.is_some() {
            let (fetcher, fetches) = crate::three_id_fetch::channel();
            (engine.with_three_id_fetcher(Arc::new(fetcher)), Some(fetches))
        } else {
            (engine, None)
        };
        let engine = engine.with_three_id();

        let (anchors, requester): (Anchors, Arc<dyn AnchorRequester>) = match target {
            AnchorTarget::Remote(remote) => {
                let store = RocksStore::open(create_dir(&config, REMOTE_ANCHOR_DIR)?)?;
                let client = CasClient::new(&remote.url).map_err(|e| ConfigError::Invalid {
                    key: "anchoring.cas_url",
                    reason: e.to_string(),
                })?;
                check_cas_chains(&client, &verifier).await?;
                let requester = RemoteRequester::new(client, Arc::new(store));
                let interval = remote.poll_interval;
                (Anchors::Remote { requester: requester.clone(), interval }, Arc::new(requester))
            }
            AnchorTarget::Chain(chain) => {
                let anchor_dir = create_dir(&config, ANCHOR_DIR)?;
                let sink = BroadcastSink::new(64);
                let cas = CasBuilder::new(Arc::new(RocksStore::open(&anchor_dir)?), chain)
                    .with_policy(policy)
                    .with_sink(Arc::new(sink.clone()))
                    .open()?;
                let requester = Arc::new(CasRequester::new(cas.clone()));
                (Anchors::Embedded { cas, sink }, requester)
            }
        };

        let mut info = Info::new(config.network.clone()).with_anchor_verifier(format!(
            "{} ({})",
            anchoring.name(),
            verifier.ids().join(", ")
        ));
        for (stream_type, name) in enabled {
            info = info.with_doctype(stream_type, name);
        }
        let mut service = Service::builder(engine.clone(), dyn_storage.clone())
            .with_info(info)
            .with_metrics(metrics)
            .with_updates(updates)
            .with_pin_on_write(config.gc.pin_on_write)
            .with_anchor_requester(requester)
            .with_backups(backups.clone());
        if let Some(hooks) = hooks {
            service = service.with_hooks(Arc::new(hooks));
        }
        let net = match (network, announcements) {
            (Some(network), Some(announcements)) => {
                let (handle, task) =
                    Network::start(network, engine, dyn_storage, announcements).await?;
                service = service.with_network_loader(Arc::new(NetLoader(handle.clone())));
                Some((handle, task))
            }
            _ => None,
        };
        // IPFS backup targets have their peer fetch the blocks from this node over Bitswap.
        let provider_addrs: Vec<String> = net
            .as_ref()
            .map(|(handle, _)| handle.listen_addrs().iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        for (runner, table) in backups.iter().zip(&config.backup) {
            if table.kind == "ipfs" && provider_addrs.is_empty() {
                let reason =
                    format!("[[backup]] {:?}: kind = \"ipfs\" needs [p2p] enabled", table.name);
                return Err(ConfigError::Invalid { key: "backup.kind", reason }.into());
            }
            runner.target().provide_from(provider_addrs.clone());
        }
        let grpc = bind(config.listen, "listen").await?;
        let http = bind(config.http_listen, "http_listen").await?;
        // The configured pins of stored streams now; the others once loaded from the network.
        let mut pending_pins = Vec::new();
        for id in pins {
            match storage.state(&id)? {
                Some(_) => storage.pin(&id)?,
                None => pending_pins.push(id),
            }
        }
        Ok(Node {
            service: service.build(),
            storage,
            anchors,
            verifier,
            net,
            grpc,
            http,
            config,
            pending_pins,
            backups,
            fetches,
        })
    }
}

fn create_dir(config: &NodeConfig, name: &str) -> Result<std::path::PathBuf, Error> {
    let path = config.data_dir.join(name);
    std::fs::create_dir_all(&path)
        .map_err(|source| Error::DataDir { path: path.clone(), source })?;
    Ok(path)
}

async fn bind(addr: SocketAddr, what: &'static str) -> Result<TcpListener, Error> {
    TcpListener::bind(addr).await.map_err(|source| Error::Bind { what, addr, source })
}

/// A started node: stores open, network running, listeners bound. [`Node::run`] serves it.
#[derive(Debug)]
pub struct Node {
    pub(crate) service: Service,
    pub(crate) storage: Arc<RocksStorage>,
    pub(crate) anchors: Anchors,
    pub(crate) verifier: Arc<Chains>,
    pub(crate) net: Option<(NetworkHandle, tokio::task::JoinHandle<()>)>,
    pub(crate) grpc: TcpListener,
    pub(crate) http: TcpListener,
    pub(crate) config: NodeConfig,
    /// Configured pins of streams not stored at start: loaded (from the network) and pinned
    /// by [`Node::run`].
    pub(crate) pending_pins: Vec<StreamId>,
    /// The backup targets, in `[[backup]]` order (the service holds them too).
    pub(crate) backups: Vec<Arc<ceramic_backup::Runner>>,
    /// The engine's requests for 3ID streams from the network, served by [`Node::run`].
    pub(crate) fetches: Option<crate::three_id_fetch::Fetches>,
}

impl Node {
    /// A node built from `config`; offer it doctypes, then [`NodeBuilder::start`] it.
    pub fn builder(config: NodeConfig) -> NodeBuilder {
        NodeBuilder {
            config,
            doctypes: Vec::new(),
            publishers: Fanout::new(),
            network: None,
            policy: None,
        }
    }

    /// The node service every front-end calls.
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &Metrics {
        self.service.metrics()
    }

    /// The embedded anchor service (e.g. to trigger a batch); `None` with a remote CAS.
    pub fn cas(&self) -> Option<&Cas> {
        match &self.anchors {
            Anchors::Embedded { cas, .. } => Some(cas),
            Anchors::Remote { .. } => None,
        }
    }

    /// The requests waiting at the remote CAS (`None` with the embedded anchor service).
    pub fn remote_anchors(&self) -> Option<&RemoteRequester> {
        match &self.anchors {
            Anchors::Remote { requester, .. } => Some(requester),
            Anchors::Embedded { .. } => None,
        }
    }

    /// The anchor verifier: the chains the node accepts proofs from.
    pub fn chains(&self) -> &Arc<Chains> {
        &self.verifier
    }

    /// The network, when it runs.
    pub fn network(&self) -> Option<&NetworkHandle> {
        self.net.as_ref().map(|(handle, _)| handle)
    }

    /// Where gRPC listens.
    ///
    /// # Errors
    /// The listener's I/O error.
    pub fn grpc_addr(&self) -> std::io::Result<SocketAddr> {
        self.grpc.local_addr()
    }

    /// Where the HTTP API listens.
    ///
    /// # Errors
    /// The listener's I/O error.
    pub fn http_addr(&self) -> std::io::Result<SocketAddr> {
        self.http.local_addr()
    }

    /// Where libp2p listens (empty without a network).
    pub fn p2p_addrs(&self) -> Vec<Multiaddr> {
        self.network().map(NetworkHandle::listen_addrs).unwrap_or_default()
    }

    /// The configuration it started with.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// Serves until `shutdown` completes: see `run.rs`.
    ///
    /// # Errors
    /// [`Error::Grpc`], [`Error::Http`] when a server fails; [`Error::Storage`] when the final
    /// flush fails.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), Error> {
        crate::run::run(self, shutdown).await
    }
}

/// Where anchor requests go.
#[derive(Debug)]
pub(crate) enum Anchors {
    /// The embedded anchor service, and the sink its finished batches arrive on.
    Embedded { cas: Cas, sink: BroadcastSink },
    /// A remote CAS, polled on `interval`.
    Remote { requester: RemoteRequester, interval: std::time::Duration },
}

/// Refuses a remote CAS whose chain the node cannot check proofs on (js-ceramic uses the
/// intersection of its allowed chains and the CAS's `supported_chains`, and fails when it is
/// empty). A CAS that cannot be reached at start is only logged: requests fail until it is up.
async fn check_cas_chains(client: &CasClient, verifier: &Chains) -> Result<(), Error> {
    let probe = CasClient::with_timeout(client.url(), std::time::Duration::from_secs(10))
        .map_err(|e| ConfigError::Invalid { key: "anchoring.cas_url", reason: e.to_string() })?;
    let answer = tokio::task::spawn_blocking(move || probe.supported_chains())
        .await
        .map_err(|e| Error::Task(e.to_string()))?;
    match answer {
        Ok(chains) => {
            let ours = verifier.ids();
            if chains.iter().any(|c| ours.contains(c)) {
                tracing::info!(url = client.url(), ?chains, "anchoring through a remote CAS");
                Ok(())
            } else {
                let reason = format!(
                    "the CAS at {} anchors on {chains:?}, and this node checks proofs only on {ours:?}: add the chain to [[chains]]",
                    client.url()
                );
                Err(ConfigError::Invalid { key: "anchoring.cas_url", reason }.into())
            }
        }
        Err(error) => {
            tracing::warn!(url = client.url(), %error, "the CAS cannot be reached now; anchor requests fail until it can");
            Ok(())
        }
    }
}

/// Loads unknown streams from the network for the service.
#[derive(Debug)]
struct NetLoader(NetworkHandle);

impl NetworkLoader for NetLoader {
    fn load(&self, stream: StreamId) -> LoadFuture<'_> {
        Box::pin(async move {
            match self.0.load(&stream).await {
                Ok(_) => Ok(true),
                Err(ceramic_net::Error::NotFound(_)) => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
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
