//! Starting the network layer: [`Network::start`] builds the swarm, listens, joins the topic,
//! dials the bootstrap peers and spawns the swarm task ([`crate::task`]) and its store worker
//! ([`crate::serve`]); [`Shared`] is what the syncs started by the task and the handle share.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use ceramic_engine::Engine;
use ceramic_storage::Storage;
use ceramic_streamid::StreamId;
use futures::StreamExt;
use libp2p::gossipsub::IdentTopic;
use libp2p::swarm::SwarmEvent;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

use crate::blocks::{BlockFetcher, FallbackFetcher, RequestFetcher, StorageBlocks};
use crate::config::Config;
use crate::error::Error;
use crate::handle::{Announcements, NetworkHandle};
use crate::stats::Counters;
use crate::swarm::{build_swarm, peer_of};
use crate::task::{Inputs, Task};

/// How many commands may wait for the network task.
const COMMAND_QUEUE: usize = 1024;

/// What the sync tasks share.
pub(crate) struct Shared {
    pub(crate) engine: Arc<Engine>,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) fetcher: Arc<dyn BlockFetcher>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) config: Config,
    pub(crate) syncs: Arc<Semaphore>,
    /// Syncs of one stream run one at a time, so that a burst of UPDATEs does not fetch the
    /// same blocks in parallel: each later tip then finds its `prev` stored.
    pub(crate) stream_locks: std::sync::Mutex<HashMap<StreamId, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("fetcher", &self.fetcher).finish_non_exhaustive()
    }
}

/// Starts the network layer.
#[derive(Debug)]
pub struct Network;

impl Network {
    /// Builds the swarm (TCP + noise + yamux; identify, ping, gossipsub, Kademlia, the block
    /// protocol, Bitswap unless [`Config::bitswap`] is off, connection limits and a block
    /// list), listens, subscribes to the topic, dials the
    /// bootstrap peers, and spawns the network task on the current tokio runtime. Returns once
    /// every listen address is bound.
    ///
    /// `announcements` is the other end of the [`Announcer`](crate::Announcer) given to `engine`; `storage` is the
    /// engine's store (blocks served to peers, states answered to queries, pins).
    ///
    /// # Errors
    /// [`Error::Transport`] or [`Error::Address`] when the swarm cannot be built or listen.
    pub async fn start(
        config: Config,
        engine: Arc<Engine>,
        storage: Arc<dyn Storage>,
        announcements: Announcements,
    ) -> Result<(NetworkHandle, JoinHandle<()>), Error> {
        let keypair =
            config.keypair.clone().unwrap_or_else(libp2p::identity::Keypair::generate_ed25519);
        let corrupt = Arc::new(AtomicBool::new(false));
        let bitswap = config.bitswap.then(|| {
            let store = StorageBlocks { storage: storage.clone(), corrupt: corrupt.clone() };
            let bitswap_config = ceramic_bitswap::Config::default()
                .with_timeout(config.bitswap_timeout)
                .with_store_received(false);
            ceramic_bitswap::Bitswap::new(Arc::new(store), bitswap_config)
        });
        let bitswap_client = bitswap.as_ref().map(ceramic_bitswap::Bitswap::client);
        let mut swarm = build_swarm(keypair, &config, bitswap)?;
        let peer_id = *swarm.local_peer_id();
        let topic = IdentTopic::new(config.topic_name());
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&topic)
            .map_err(|e| Error::Transport(e.to_string()))?;
        for addr in &config.listen {
            swarm
                .listen_on(addr.clone())
                .map_err(|e| Error::Address { addr: addr.to_string(), reason: e.to_string() })?;
        }
        let mut listen_addrs = Vec::new();
        while listen_addrs.len() < config.listen.len() {
            match swarm.select_next_some().await {
                SwarmEvent::NewListenAddr { address, .. } => listen_addrs.push(address),
                SwarmEvent::ListenerError { error, .. } => {
                    return Err(Error::Transport(error.to_string()));
                }
                SwarmEvent::ListenerClosed { reason: Err(error), .. } => {
                    return Err(Error::Transport(error.to_string()));
                }
                _ => {}
            }
        }
        for addr in &config.bootstrap {
            if let Some(peer) = peer_of(addr) {
                swarm.behaviour_mut().kad.add_address(&peer, addr.clone());
            }
            if let Err(e) = swarm.dial(addr.clone()) {
                tracing::warn!(%addr, error = %e, "cannot dial bootstrap peer");
            }
        }
        let (commands, rx) = mpsc::channel(COMMAND_QUEUE);
        let counters = announcements.counters.clone();
        let first = RequestFetcher { commands: commands.clone(), timeout: config.request_timeout };
        let fetcher: Arc<dyn BlockFetcher> = match bitswap_client {
            Some(bitswap) => {
                Arc::new(FallbackFetcher { first, bitswap, timeout: config.bitswap_timeout })
            }
            None => Arc::new(first),
        };
        let shared = Arc::new(Shared {
            engine,
            storage,
            fetcher,
            counters,
            syncs: Arc::new(Semaphore::new(config.max_concurrent_syncs.max(1))),
            stream_locks: std::sync::Mutex::new(HashMap::new()),
            config: config.clone(),
        });
        let (on_topic_tx, on_topic) = watch::channel(HashSet::new());
        let inputs =
            Inputs { commands: rx, announcements: announcements.rx, on_topic: on_topic_tx };
        let task = Task::new(swarm, topic, shared.clone(), inputs, corrupt);
        let join = tokio::spawn(task.run());
        Ok((NetworkHandle { commands, shared, peer_id, listen_addrs, on_topic }, join))
    }
}
