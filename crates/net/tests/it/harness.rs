//! In-process nodes: each has its own engine (with the test doctype `Adder`) over its own
//! `MemoryStorage`, and its network on 127.0.0.1 with a free port. Nodes share one fake chain
//! so that anchors verify everywhere.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ceramic_codecs::Cid;
use ceramic_doctype::{Registry, StreamState};
use ceramic_engine::Engine;
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::test_utils::{ADDER, Adder, Made};
use ceramic_net::{Config, Multiaddr, Network, NetworkHandle};
use ceramic_storage::{MemoryStorage, Storage};
use ceramic_streamid::StreamId;
use tokio::task::JoinHandle;

/// How long any awaited condition may take.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Node {
    pub(crate) net: NetworkHandle,
    pub(crate) engine: Arc<Engine>,
    pub(crate) storage: Arc<MemoryStorage>,
    task: JoinHandle<()>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A test configuration: the `inmemory` network on a topic of its own.
pub(crate) fn config(topic: &str, bootstrap: Vec<Multiaddr>) -> Config {
    Config::new("inmemory")
        .with_topic(format!("/ceramic/inmemory-{topic}"))
        .with_bootstrap(bootstrap)
}

pub(crate) async fn start(config: Config, chain: &Arc<FakeAnchorVerifier>) -> Node {
    init_tracing();
    let storage = Arc::new(MemoryStorage::new());
    let (announcer, announcements) = ceramic_net::announcer();
    let mut registry = Registry::new();
    registry.register(Adder).expect("one doctype");
    let engine =
        Arc::new(Engine::new(storage.clone(), registry, chain.clone(), Arc::new(announcer)));
    let dyn_storage: Arc<dyn Storage> = storage.clone();
    let (net, task) =
        Network::start(config, engine.clone(), dyn_storage, announcements).await.expect("starts");
    Node { net, engine, storage, task }
}

impl Node {
    pub(crate) fn addrs(&self) -> Vec<Multiaddr> {
        self.net.listen_addrs()
    }

    /// Applies a local write.
    pub(crate) fn write(&self, made: &Made) -> StreamState {
        self.engine.apply_commit(ADDER, made.cid, &made.blocks).expect("the write applies")
    }

    pub(crate) fn tip(&self, stream: &StreamId) -> Option<Cid> {
        self.storage.state(stream).expect("reads").map(|s| s.tip())
    }

    /// Waits until at least `n` peers are subscribed to the topic.
    pub(crate) async fn wait_topic_peers(&self, n: usize) {
        let net = self.net.clone();
        eventually("topic peers", || {
            let net = net.clone();
            async move { net.topic_peers().await.expect("running").len() >= n }
        })
        .await;
    }

    /// Waits until the node has `tip` as the tip of `stream`.
    pub(crate) async fn wait_tip(&self, stream: &StreamId, tip: Cid) {
        eventually("tip", || async { self.tip(stream) == Some(tip) }).await;
    }
}

/// Polls `check` until it holds; panics after [`TIMEOUT`].
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        if check().await {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
