//! How a node joins the network.

use std::time::Duration;

use libp2p::Multiaddr;
use libp2p::identity::Keypair;

/// Which received UPDATEs the node applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Follow {
    /// Streams the node has stored (pinned or loaded).
    #[default]
    Stored,
    /// Only pinned streams (js-ceramic: "pins or indexes").
    Pinned,
}

/// The network layer's configuration; every field has a default ([`Config::new`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The network name; the pubsub topic is `/ceramic/<network>` unless [`Config::topic`] is set.
    pub network: String,
    /// A custom topic (js-ceramic allows one for `local` and `inmemory` networks).
    pub topic: Option<String>,
    /// The node's identity; a fresh Ed25519 key when `None`.
    pub keypair: Option<Keypair>,
    /// Where to listen (`/ip4/127.0.0.1/tcp/0` by default).
    pub listen: Vec<Multiaddr>,
    /// Peers dialled at start (each must end in `/p2p/<PeerId>` to be added to Kademlia).
    pub bootstrap: Vec<Multiaddr>,
    /// How long a query waits for the first RESPONSE (js `syncTimeoutSeconds`, 3 s).
    pub sync_timeout: Duration,
    /// How long a query waits after the last RESPONSE (js `MAX_RESPONSE_INTERVAL`, 300 ms).
    pub response_quiet: Duration,
    /// QUERYs answered per second per author (js `DEFAULT_QPS_LIMIT`, 10).
    pub query_rate_per_peer: u32,
    /// QUERYs answered per second in all (100).
    pub query_rate_global: u32,
    /// Publish a KEEPALIVE when nothing was published for this long (30 s).
    pub keepalive: Duration,
    /// Gossipsub heartbeat (100 ms: quick mesh repair and gossip on small networks).
    pub heartbeat: Duration,
    /// Established connections in all (256).
    pub max_connections: u32,
    /// Which UPDATEs are applied.
    pub follow: Follow,
    /// How many (stream, tip) pairs are remembered to skip repeated UPDATEs (js: 500).
    pub seen_tips: usize,
    /// The most blocks fetched to sync one tip (4,096).
    pub max_fetch_blocks: usize,
    /// How long one block request may take (5 s).
    pub request_timeout: Duration,
    /// Malformed or oversized messages from one author before it is banned (20).
    pub ban_after_malformed: u32,
    /// Rate-limited QUERYs from one author before it is banned (200).
    pub ban_after_rate_limited: u32,
    /// Tips synced at once; further UPDATEs wait for a slot (64).
    pub max_concurrent_syncs: usize,
    /// Run Bitswap 1.2.0 (`/ipfs/bitswap/1.2.0`, and 1.1.0 inbound) in the swarm: serve stored
    /// blocks to any bitswap peer (helia, kubo, ceramic-one) and fetch blocks the block protocol
    /// did not bring (true).
    pub bitswap: bool,
    /// How long a Bitswap fetch of one block may take before the sync gives up on it (5 s).
    pub bitswap_timeout: Duration,
}

impl Config {
    /// Defaults for network `network` (e.g. `inmemory`, `testnet-clay`, `mainnet`).
    pub fn new(network: impl Into<String>) -> Self {
        Config {
            network: network.into(),
            topic: None,
            keypair: None,
            listen: vec!["/ip4/127.0.0.1/tcp/0".parse().expect("a valid multiaddr")],
            bootstrap: Vec::new(),
            sync_timeout: Duration::from_secs(3),
            response_quiet: Duration::from_millis(300),
            query_rate_per_peer: 10,
            query_rate_global: 100,
            keepalive: Duration::from_secs(30),
            heartbeat: Duration::from_millis(100),
            max_connections: 256,
            follow: Follow::default(),
            seen_tips: 500,
            max_fetch_blocks: 4096,
            request_timeout: Duration::from_secs(5),
            ban_after_malformed: 20,
            ban_after_rate_limited: 200,
            max_concurrent_syncs: 64,
            bitswap: true,
            bitswap_timeout: Duration::from_secs(5),
        }
    }

    /// The pubsub topic: [`Config::topic`] or `/ceramic/<network>`.
    pub fn topic_name(&self) -> String {
        self.topic.clone().unwrap_or_else(|| format!("/ceramic/{}", self.network))
    }

    /// Sets [`Config::bootstrap`].
    pub fn with_bootstrap(mut self, peers: Vec<Multiaddr>) -> Self {
        self.bootstrap = peers;
        self
    }

    /// Sets [`Config::listen`].
    pub fn with_listen(mut self, addrs: Vec<Multiaddr>) -> Self {
        self.listen = addrs;
        self
    }

    /// Sets [`Config::keypair`].
    pub fn with_keypair(mut self, keypair: Keypair) -> Self {
        self.keypair = Some(keypair);
        self
    }

    /// Sets [`Config::topic`].
    pub fn with_topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    /// Sets [`Config::bitswap`].
    pub fn with_bitswap(mut self, on: bool) -> Self {
        self.bitswap = on;
        self
    }

    /// Sets [`Config::bitswap_timeout`].
    pub fn with_bitswap_timeout(mut self, timeout: Duration) -> Self {
        self.bitswap_timeout = timeout;
        self
    }

    /// Sets [`Config::follow`].
    pub fn with_follow(mut self, follow: Follow) -> Self {
        self.follow = follow;
        self
    }

    /// Sets [`Config::sync_timeout`].
    pub fn with_sync_timeout(mut self, timeout: Duration) -> Self {
        self.sync_timeout = timeout;
        self
    }

    /// Sets the per-author and global QUERY rate limits (per second).
    pub fn with_query_rate(mut self, per_peer: u32, global: u32) -> Self {
        self.query_rate_per_peer = per_peer;
        self.query_rate_global = global;
        self
    }

    /// Sets [`Config::ban_after_malformed`] and [`Config::ban_after_rate_limited`].
    pub fn with_ban_thresholds(mut self, malformed: u32, rate_limited: u32) -> Self {
        self.ban_after_malformed = malformed;
        self.ban_after_rate_limited = rate_limited;
        self
    }
}
