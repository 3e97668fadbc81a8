//! [`NodeConfig`]: the node's TOML configuration. Every field has a default, so an empty file (or
//! none) runs a local node:
//!
//! ```toml
//! data_dir = "./ceramic-data"        # the store is <data_dir>/store (RocksDB)
//! listen = "127.0.0.1:5101"          # gRPC; port 0 picks a free port (printed at start)
//! http_listen = "127.0.0.1:7007"     # js-ceramic compatible HTTP API (/api/v0), js's port
//! network = "inmemory"               # reported by NodeInfo
//! doctypes = ["tile", "caip10-link"] # which of the node's doctypes run (absent: all of them)
//! shutdown_grace_secs = 10           # how long in-flight requests may finish at shutdown
//! sync = true                        # fsync each write before acknowledging it
//! min_free_bytes = 1073741824        # free space the data dir's disk keeps: below it writes
//!                                    # are refused (503 / UNAVAILABLE), reads still served
//! admin_dids = []                    # DIDs allowed to use the HTTP admin API (pins)
//! log_level = "info"                 # a tracing filter, e.g. "info,ceramic_core=debug"; RUST_LOG wins
//! pins = []                          # StreamIDs pinned at start, e.g. ["kjzl6cwe1jw14…"]
//!
//! [http]                             # the HTTP server's limits (see specs/node.md)
//! header_timeout_ms = 10000          # a request head must arrive whole within this
//! idle_timeout_ms = 30000            # a keep-alive connection without a request is closed
//! request_timeout_ms = 60000         # one request (body, handler, answer) at most this long
//! max_connections = 512              # open connections; beyond: idle ones evicted, else 503
//! max_connections_per_ip = 64        # open connections from one address; beyond: 429
//! multiquery_concurrency = 16        # streams one multiquery loads at once
//! multiquery_timeout_ms = 10000      # a whole multiquery; streams not loaded are left out
//! max_multiquery_queries = 256       # queries in one multiquery; beyond: 400
//! admin_codes_per_client = 8         # unused admin codes one address holds; beyond: 429
//! max_admin_codes = 1000             # unused admin codes in all; beyond: the oldest dropped
//!
//! [p2p]
//! enabled = true                     # libp2p + Ceramic pubsub on /ceramic/<network>
//! listen = ["/ip4/127.0.0.1/tcp/4101"] # libp2p listen addresses (port 0 picks one; printed)
//! bootstrap = []                     # peers to dial, e.g. "/ip4/10.0.0.2/tcp/4101/p2p/12D3Koo…"
//!
//! [anchoring]
//! chain = "dev"                      # "dev": the in-process chain inmemory:12345; "eth": below;
//!                                    # "remote": no embedded anchor service, a remote CAS (below)
//! # cas_url = "http://127.0.0.1:8081" # remote only: the CAS (ours or any) requests go to
//! # poll_interval_secs = 60          # remote only: how often pending requests are polled
//! # rpc_url = "http://127.0.0.1:8545" # eth only: JSON-RPC endpoint
//! # chain_id = 1337                  # eth only: must match the RPC's eth_chainId
//! # contract = "0x…"                 # eth only: the anchor contract; absent sends raw v0 txs
//! # private_key_file = "eth.key"     # eth only: hex private key paying for anchors
//! # batch_interval_secs = 1          # how often the anchor service looks (dev 1, eth 300)
//! # min_streams = 1                  # streams that make a batch at once (dev 1, eth 1024)
//! # max_delay_secs = 43200           # oldest request age that makes a batch anyway
//! # dev_chain_file = "<data_dir>/dev-chain" # the dev chain's blocks (share it to verify elsewhere)
//!
//! # [[chains]]                       # verify-only chains (no key), any number of them
//! # chain_id = "eip155:1"            # CAIP-2 id of an EVM chain
//! # rpc_url = "https://…"            # its JSON-RPC endpoint (eth_chainId must match)
//! # contract = "0x231055A0…"         # the anchor contract (default: the CAS's)
//!
//! [gc]
//! interval_secs = 3600               # scheduled GC of unpinned streams; 0 = never (RunGc still does)
//! pin_on_write = true                # writes without opts.pin (and gRPC writes) pin their stream
//!
//! # [[hooks]]                        # WebAssembly hooks, any number (specs/hooks.md); none by default
//! # name = "policy"                  # required: unique, [A-Za-z0-9_-], metrics label
//! # module = "hooks/policy.wasm"     # required: the module (relative: to the working directory)
//! # events = []                      # after-events: commit_applied, anchored, pinned, unpinned, rejected
//! # veto = false                     # sees writes through this node's APIs before they are stored
//! # on_error = "allow"               # a failing hook: "allow" the write, or "veto" it
//! # fuel = 10000000                  # fuel (~instructions) per call
//! # memory_bytes = 16777216          # linear memory cap (64 KiB … 1 GiB)
//! # timeout_ms = 1000                # wall clock per call, HTTP included (1 … 60000)
//! # allow_http = []                  # URL prefixes http_post may call, e.g. "http://127.0.0.1:9000/hooks/"
//! # config = {}                      # any table, passed to the hook in every event
//! # [hooks.filter]                   # which streams (all keys given must match; none: all)
//! # model = "k…"  family = "…"  tag = "…"  controller = "did:…"
//!
//! [[backup]]                         # any number of backup targets (none by default)
//! name = "local"                     # required, unique: metrics label, `ceramic backup --target`
//! kind = "dir"                       # "dir" | "s3" | "ipfs"
//! path = "/var/backups/ceramic"      # dir: the objects; ipfs: the manifest and segment indexes
//! # control = "http://127.0.0.1:5002" # ipfs only: the peer's control URL (it pins over Bitswap)
//! # endpoint = "https://s3.example"  # s3 only: path-style endpoint
//! # bucket = "ceramic"               # s3 only (must exist)
//! # region = "us-east-1"             # s3 only (default "us-east-1")
//! # prefix = "node-1/"               # s3 only: object name prefix (default "")
//! # access_key_env = "AWS_ACCESS_KEY_ID"     # s3 only: env var holding the key id (default)
//! # secret_key_env = "AWS_SECRET_ACCESS_KEY" # s3 only: env var holding the secret (default)
//! streams = "pinned"                 # "pinned" | "filter" (then family/controller/model)
//! # family = "notes"                 # filter only; every given field must match
//! # controller = "did:key:…"         # filter only
//! # model = "kjzl…"                  # filter only
//! after_anchor = true                # run after each applied anchor batch
//! interval_secs = 0                  # also run every N seconds (0: no timer)
//! ```
//!
//! Unknown keys are errors, so a typo is never silently ignored; a value that does not fit
//! ([`ConfigError::Invalid`]) names its key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ceramic_anchor_service::Policy;
use ceramic_http_api::{AdminCodeLimits, MultiqueryLimits, ServerLimits};
use ceramic_net::{Config as NetConfig, Multiaddr};
use ceramic_storage_rocks::{Config as StoreConfig, DEFAULT_MIN_FREE_BYTES, MIN_RESERVE};
use serde::Deserialize;

use crate::anchoring::{Anchoring, DEFAULT_POLL_INTERVAL, EthAnchoring, RemoteAnchoring};

pub use crate::backup::BackupConfig;

/// Why a configuration could not be read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading the config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML for this configuration (an unknown key, a wrong type).
    #[error("in the config file: {0}")]
    Parse(#[from] Box<toml::de::Error>),
    /// A `[[hooks]]` entry does not load: a bad value (naming its key), an unreadable file, or
    /// a module that is not valid WebAssembly or lacks the ABI's exports.
    #[error("in [[hooks]]: {0}")]
    Hook(#[from] ceramic_hooks::LoadError),
    /// A value does not fit: the key names it.
    #[error("config key `{key}`: {reason}")]
    Invalid {
        /// The key (`anchoring.rpc_url`, `p2p.listen`, `doctypes`, …).
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key, reason: reason.into() }
}

/// Which chain anchors go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ChainName {
    /// The in-process dev chain.
    #[default]
    Dev,
    /// An Ethereum chain over JSON-RPC.
    Eth,
    /// A remote anchor service (`cas_url`); its proofs are checked on the verify-only
    /// `[[chains]]`.
    Remote,
}

/// The `[p2p]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct P2pConfig {
    /// Whether the node joins the network (libp2p, Ceramic pubsub).
    pub enabled: bool,
    /// The multiaddrs to listen on (port 0 picks one).
    pub listen: Vec<String>,
    /// The peers to dial at start.
    pub bootstrap: Vec<String>,
}

impl Default for P2pConfig {
    fn default() -> Self {
        P2pConfig {
            enabled: true,
            listen: vec!["/ip4/127.0.0.1/tcp/4101".into()],
            bootstrap: Vec::new(),
        }
    }
}

impl P2pConfig {
    /// The network's configuration on `network`, or `None` when disabled.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming `p2p.listen` or `p2p.bootstrap` for an address that is
    /// not a multiaddr.
    pub fn to_net_config(&self, network: &str) -> Result<Option<NetConfig>, ConfigError> {
        if !self.enabled {
            return Ok(None);
        }
        let parse = |list: &[String], key| -> Result<Vec<Multiaddr>, ConfigError> {
            list.iter()
                .map(|a| a.parse().map_err(|_| invalid(key, format!("{a:?} is not a multiaddr"))))
                .collect()
        };
        Ok(Some(
            NetConfig::new(network)
                .with_listen(parse(&self.listen, "p2p.listen")?)
                .with_bootstrap(parse(&self.bootstrap, "p2p.bootstrap")?),
        ))
    }
}

/// The `[http]` table: the HTTP server's limits. Every value must be at least 1; timeouts at
/// most an hour.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct HttpConfig {
    /// How long a request head may take from its first byte (slowloris clients are cut off).
    pub header_timeout_ms: u64,
    /// How long a keep-alive connection may stay without a request.
    pub idle_timeout_ms: u64,
    /// How long one request may take, body and answer included.
    pub request_timeout_ms: u64,
    /// The most open connections (idle ones are evicted for new ones; 503 when all are busy).
    pub max_connections: usize,
    /// The most open connections from one IP address (429 beyond it); at most
    /// `max_connections`.
    pub max_connections_per_ip: usize,
    /// How many streams one multiquery loads at once.
    pub multiquery_concurrency: usize,
    /// How long a whole multiquery may take; streams not loaded by then are left out.
    pub multiquery_timeout_ms: u64,
    /// The most queries one multiquery may hold (400 beyond it).
    pub max_multiquery_queries: usize,
    /// The most unused admin codes one client address holds (429 beyond it).
    pub admin_codes_per_client: usize,
    /// The most unused admin codes in all (the oldest is dropped beyond it).
    pub max_admin_codes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let server = ServerLimits::default();
        let multiquery = MultiqueryLimits::default();
        let admin = AdminCodeLimits::default();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        HttpConfig {
            header_timeout_ms: ms(server.header_timeout),
            idle_timeout_ms: ms(server.idle_timeout),
            request_timeout_ms: ms(server.request_timeout),
            max_connections: server.max_connections,
            max_connections_per_ip: server.max_connections_per_ip,
            multiquery_concurrency: multiquery.concurrency,
            multiquery_timeout_ms: ms(multiquery.deadline),
            max_multiquery_queries: multiquery.max_queries,
            admin_codes_per_client: admin.per_client,
            max_admin_codes: admin.max_codes,
        }
    }
}

/// The longest timeout the `[http]` table accepts, in milliseconds (an hour).
const MAX_TIMEOUT_MS: u64 = 3_600_000;

impl HttpConfig {
    /// Checks every value.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first key out of range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (key, ms) in [
            ("http.header_timeout_ms", self.header_timeout_ms),
            ("http.idle_timeout_ms", self.idle_timeout_ms),
            ("http.request_timeout_ms", self.request_timeout_ms),
            ("http.multiquery_timeout_ms", self.multiquery_timeout_ms),
        ] {
            if ms == 0 || ms > MAX_TIMEOUT_MS {
                return Err(invalid(key, format!("{ms} is not between 1 and {MAX_TIMEOUT_MS} ms")));
            }
        }
        for (key, n) in [
            ("http.max_connections", self.max_connections),
            ("http.max_connections_per_ip", self.max_connections_per_ip),
            ("http.multiquery_concurrency", self.multiquery_concurrency),
            ("http.max_multiquery_queries", self.max_multiquery_queries),
            ("http.admin_codes_per_client", self.admin_codes_per_client),
            ("http.max_admin_codes", self.max_admin_codes),
        ] {
            if n == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if self.max_connections_per_ip > self.max_connections {
            return Err(invalid(
                "http.max_connections_per_ip",
                format!(
                    "{} is more than max_connections ({})",
                    self.max_connections_per_ip, self.max_connections
                ),
            ));
        }
        Ok(())
    }

    /// The server's limits, with `grace` for shutdown.
    pub fn server_limits(&self, grace: Duration) -> ServerLimits {
        ServerLimits::default()
            .with_header_timeout(Duration::from_millis(self.header_timeout_ms))
            .with_idle_timeout(Duration::from_millis(self.idle_timeout_ms))
            .with_request_timeout(Duration::from_millis(self.request_timeout_ms))
            .with_max_connections(self.max_connections)
            .with_max_connections_per_ip(self.max_connections_per_ip)
            .with_grace(grace)
    }

    /// The multiquery bounds.
    pub fn multiquery_limits(&self) -> MultiqueryLimits {
        MultiqueryLimits::default()
            .with_concurrency(self.multiquery_concurrency)
            .with_deadline(Duration::from_millis(self.multiquery_timeout_ms))
            .with_max_queries(self.max_multiquery_queries)
    }

    /// The admin code bounds.
    pub fn admin_code_limits(&self) -> AdminCodeLimits {
        AdminCodeLimits::default()
            .with_per_client(self.admin_codes_per_client)
            .with_max_codes(self.max_admin_codes)
    }
}

/// The `[anchoring]` table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct AnchoringConfig {
    /// `dev` (the in-process chain) or `eth`.
    pub chain: ChainName,
    /// eth: the JSON-RPC endpoint.
    pub rpc_url: Option<String>,
    /// eth: the chain id the RPC must report.
    pub chain_id: Option<u64>,
    /// eth: the anchor contract; absent sends raw v0 transactions.
    pub contract: Option<String>,
    /// eth: the file holding the hex private key that pays for anchors.
    pub private_key_file: Option<PathBuf>,
    /// How often the anchor service looks for a batch (dev 1 s, eth 300 s).
    pub batch_interval_secs: Option<u64>,
    /// How many waiting streams make a batch at once (dev 1, eth 1024).
    pub min_streams: Option<usize>,
    /// The oldest request age that makes a batch anyway.
    pub max_delay_secs: Option<u64>,
    /// The file the dev chain keeps its blocks in (default `<data_dir>/dev-chain`): dev
    /// anchors verify after a restart, and on other nodes of this machine (or a shared file
    /// system) that name the same file. Only one node may anchor on a file.
    pub dev_chain_file: Option<PathBuf>,
    /// remote: the CAS's URL (`http://…` or `https://…`).
    pub cas_url: Option<String>,
    /// remote: how often the node asks the CAS about its pending requests (default 60 s, the
    /// js-ceramic minimum).
    pub poll_interval_secs: Option<u64>,
}

impl AnchoringConfig {
    /// The anchoring it names (reading the key file for `eth`).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the missing, misplaced or unreadable key.
    pub fn to_anchoring(&self) -> Result<Anchoring, ConfigError> {
        if self.chain != ChainName::Remote {
            if self.cas_url.is_some() {
                return Err(invalid("anchoring.cas_url", "needs chain = \"remote\""));
            }
            if self.poll_interval_secs.is_some() {
                return Err(invalid("anchoring.poll_interval_secs", "needs chain = \"remote\""));
            }
        }
        match self.chain {
            ChainName::Dev | ChainName::Remote => {
                for (key, set) in [
                    ("anchoring.rpc_url", self.rpc_url.is_some()),
                    ("anchoring.private_key_file", self.private_key_file.is_some()),
                    (
                        "anchoring.chain_id",
                        self.chain_id.is_some() && self.chain == ChainName::Remote,
                    ),
                    (
                        "anchoring.contract",
                        self.contract.is_some() && self.chain == ChainName::Remote,
                    ),
                ] {
                    if set {
                        return Err(invalid(key, "needs chain = \"eth\""));
                    }
                }
                if self.chain == ChainName::Dev {
                    return Ok(Anchoring::Dev);
                }
                for (key, set) in [
                    ("anchoring.batch_interval_secs", self.batch_interval_secs.is_some()),
                    ("anchoring.min_streams", self.min_streams.is_some()),
                    ("anchoring.max_delay_secs", self.max_delay_secs.is_some()),
                ] {
                    if set {
                        return Err(invalid(key, "with chain = \"remote\" the remote CAS batches"));
                    }
                }
                let url = self
                    .cas_url
                    .as_deref()
                    .ok_or_else(|| invalid("anchoring.cas_url", "chain = \"remote\" needs it"))?;
                let client = ceramic_anchor_service::CasClient::new(url)
                    .map_err(|e| invalid("anchoring.cas_url", e.to_string()))?;
                let poll_interval = match self.poll_interval_secs {
                    None => DEFAULT_POLL_INTERVAL,
                    Some(0) => {
                        return Err(invalid("anchoring.poll_interval_secs", "must be at least 1"));
                    }
                    Some(secs) => Duration::from_secs(secs),
                };
                Ok(Anchoring::Remote(RemoteAnchoring {
                    url: client.url().to_owned(),
                    poll_interval,
                }))
            }
            ChainName::Eth => {
                let needed = |key| invalid(key, "chain = \"eth\" needs it");
                let rpc_url = self.rpc_url.clone().ok_or_else(|| needed("anchoring.rpc_url"))?;
                let chain_id = self.chain_id.ok_or_else(|| needed("anchoring.chain_id"))?;
                let key_file = self
                    .private_key_file
                    .as_ref()
                    .ok_or_else(|| needed("anchoring.private_key_file"))?;
                let private_key = std::fs::read_to_string(key_file)
                    .map_err(|e| {
                        invalid(
                            "anchoring.private_key_file",
                            format!("reading {}: {e}", key_file.display()),
                        )
                    })?
                    .trim()
                    .to_owned();
                Ok(Anchoring::Eth(EthAnchoring {
                    rpc_url,
                    chain_id,
                    contract: self.contract.clone(),
                    private_key,
                }))
            }
        }
    }

    /// The batching policy, when any of its fields is set (the rest from the chain's default).
    pub fn policy(&self) -> Option<Policy> {
        if self.batch_interval_secs.is_none()
            && self.min_streams.is_none()
            && self.max_delay_secs.is_none()
        {
            return None;
        }
        let base = match self.chain {
            ChainName::Dev => Anchoring::Dev.default_policy(),
            ChainName::Eth | ChainName::Remote => Policy::default(),
        };
        Some(Policy {
            interval: self.batch_interval_secs.map_or(base.interval, Duration::from_secs),
            min_streams: self.min_streams.unwrap_or(base.min_streams),
            max_delay: self.max_delay_secs.map_or(base.max_delay, Duration::from_secs),
            ..base
        })
    }
}

/// One `[[chains]]` entry: an EVM chain the node checks anchor proofs on, with no key (it
/// never sends transactions there). Several may be configured; each is connected at start (its
/// RPC must answer `eth_chainId` with the configured id).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ChainConfig {
    /// The CAIP-2 id, `eip155:<n>` (e.g. `eip155:1` for Ethereum mainnet).
    pub chain_id: String,
    /// The JSON-RPC endpoint (`http://` or `https://`).
    pub rpc_url: String,
    /// The anchor contract v1 proofs must call; absent: the CAS's contract
    /// (`0x231055A0852D67C7107Ad0d0DFeab60278fE6AdC`).
    pub contract: Option<String>,
}

impl ChainConfig {
    /// The numeric chain id.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming `chains.chain_id` when it is not `eip155:<n>`.
    pub fn eip155(&self) -> Result<u64, ConfigError> {
        self.chain_id.strip_prefix("eip155:").and_then(|n| n.parse::<u64>().ok()).ok_or_else(|| {
            invalid(
                "chains.chain_id",
                format!("{:?} is not an EVM chain id `eip155:<number>`", self.chain_id),
            )
        })
    }

    /// The verify-only chain's configuration (not connected yet).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming `chains.chain_id`, `chains.rpc_url` or
    /// `chains.contract`.
    pub fn to_eth_config(&self) -> Result<ceramic_anchor_eth::Config, ConfigError> {
        let id = self.eip155()?;
        if !(self.rpc_url.starts_with("http://") || self.rpc_url.starts_with("https://")) {
            return Err(invalid(
                "chains.rpc_url",
                format!("{:?} is not an http(s) URL", self.rpc_url),
            ));
        }
        let config = ceramic_anchor_eth::Config::new(self.rpc_url.clone(), id);
        Ok(match &self.contract {
            Some(address) => config.with_contract(
                ceramic_anchor_eth::parse_address(address)
                    .map_err(|e| invalid("chains.contract", format!("{address:?}: {e}")))?,
            ),
            None => config,
        })
    }
}

/// Checks the `[[chains]]` entries: each valid, no chain id twice.
///
/// # Errors
/// [`ConfigError::Invalid`] naming the bad key.
pub fn validate_chains(chains: &[ChainConfig]) -> Result<(), ConfigError> {
    let mut seen = std::collections::HashSet::new();
    for chain in chains {
        chain.to_eth_config()?;
        if !seen.insert(chain.chain_id.as_str()) {
            return Err(invalid(
                "chains.chain_id",
                format!("{} is configured twice", chain.chain_id),
            ));
        }
    }
    Ok(())
}

/// The `[gc]` table: garbage collection of unpinned streams.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct GcConfig {
    /// Seconds between scheduled collections (the first one `interval_secs` after start);
    /// 0 never collects on a schedule (the `RunGc` RPC and `ceramic-cli gc` still do).
    pub interval_secs: u64,
    /// Whether a write whose `opts.pin` is absent (and every gRPC write) pins its stream.
    pub pin_on_write: bool,
}

/// The default `gc.interval_secs`: hourly.
pub const DEFAULT_GC_INTERVAL_SECS: u64 = 3_600;

impl Default for GcConfig {
    fn default() -> Self {
        GcConfig { interval_secs: DEFAULT_GC_INTERVAL_SECS, pin_on_write: true }
    }
}

impl GcConfig {
    /// The scheduled interval, `None` for never.
    pub fn interval(&self) -> Option<Duration> {
        (self.interval_secs > 0).then(|| Duration::from_secs(self.interval_secs))
    }

    /// Checks the values.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming `gc.interval_secs` when it is above a year (a typo in
    /// milliseconds, most likely).
    pub fn validate(&self) -> Result<(), ConfigError> {
        const YEAR: u64 = 365 * 24 * 3_600;
        if self.interval_secs > YEAR {
            return Err(invalid(
                "gc.interval_secs",
                format!(
                    "{} is more than a year ({YEAR} s); 0 turns scheduled GC off",
                    self.interval_secs
                ),
            ));
        }
        Ok(())
    }
}

/// The node's configuration: the TOML file (see the module docs), every field defaulted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct NodeConfig {
    /// The data directory: the store is `<data_dir>/store`, anchor requests `<data_dir>/anchor`.
    pub data_dir: PathBuf,
    /// gRPC (port 0 picks a free port).
    pub listen: SocketAddr,
    /// The js-ceramic compatible HTTP API and `/metrics`.
    pub http_listen: SocketAddr,
    /// The network's name (pubsub topic `/ceramic/<network>`, reported by `NodeInfo`).
    pub network: String,
    /// Which of the doctypes the node was built with it runs, by name (`Doctype::name`);
    /// absent: all of them.
    pub doctypes: Option<Vec<String>>,
    /// The HTTP server's limits.
    pub http: HttpConfig,
    /// The peer-to-peer network.
    pub p2p: P2pConfig,
    /// Anchoring.
    pub anchoring: AnchoringConfig,
    /// Whether each write is fsynced before it is acknowledged.
    pub sync: bool,
    /// The free space (bytes) the store's file system must keep: below it writes are refused
    /// (HTTP 503, gRPC `UNAVAILABLE`) while reads are still served, and they resume by
    /// themselves when space returns (`specs/storage.md`, "A full disk"). Default 1 GiB
    /// (`local`: 64 MiB); at least 4 MiB.
    pub min_free_bytes: u64,
    /// DIDs allowed to use the HTTP admin API (pins).
    pub admin_dids: Vec<String>,
    /// How long in-flight requests may finish at shutdown before connections are dropped.
    pub shutdown_grace_secs: u64,
    /// The log filter (tracing's syntax); `RUST_LOG` wins. Read by the binary.
    pub log_level: String,
    /// WebAssembly hooks (`[[hooks]]`, `specs/hooks.md`); none by default.
    pub hooks: Vec<ceramic_hooks::HookConfig>,
    /// Garbage collection.
    pub gc: GcConfig,
    /// StreamIDs pinned at start (each must be stored, or loadable from the network).
    pub pins: Vec<String>,
    /// Verify-only chains: EVM chains whose anchor proofs the node accepts, without a key.
    pub chains: Vec<ChainConfig>,
    /// The backup targets (`[[backup]]` tables; none by default).
    pub backup: Vec<BackupConfig>,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            data_dir: PathBuf::from("./ceramic-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 5101)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 7007)),
            network: "inmemory".into(),
            doctypes: None,
            http: HttpConfig::default(),
            p2p: P2pConfig::default(),
            anchoring: AnchoringConfig::default(),
            sync: true,
            min_free_bytes: DEFAULT_MIN_FREE_BYTES,
            admin_dids: Vec::new(),
            shutdown_grace_secs: 10,
            log_level: "info".into(),
            hooks: Vec::new(),
            gc: GcConfig::default(),
            pins: Vec::new(),
            chains: Vec::new(),
            backup: Vec::new(),
        }
    }
}

impl NodeConfig {
    /// A configuration for tests and embedding: data under `data_dir`, every listener on
    /// 127.0.0.1 port 0, no network, no fsync, a 64 MiB free-space reserve, a 2 s shutdown
    /// grace.
    pub fn local(data_dir: impl AsRef<Path>) -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        NodeConfig {
            data_dir: data_dir.as_ref().to_path_buf(),
            listen: any,
            http_listen: any,
            p2p: P2pConfig {
                enabled: false,
                listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
                bootstrap: Vec::new(),
            },
            sync: false,
            min_free_bytes: 64 << 20,
            shutdown_grace_secs: 2,
            ..NodeConfig::default()
        }
    }

    /// The configuration in `path`, or the defaults without one.
    ///
    /// # Errors
    /// [`ConfigError::Read`], [`ConfigError::Parse`].
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let Some(path) = path else { return Ok(NodeConfig::default()) };
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        NodeConfig::parse(&text)
    }

    /// Parses TOML text.
    ///
    /// # Errors
    /// [`ConfigError::Parse`] for invalid TOML, an unknown key or a wrong type.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse(Box::new(e)))
    }

    /// The dev chain's file: `anchoring.dev_chain_file`, else `<data_dir>/dev-chain`.
    pub fn dev_chain_file(&self) -> PathBuf {
        self.anchoring.dev_chain_file.clone().unwrap_or_else(|| self.data_dir.join("dev-chain"))
    }

    /// The `pins` list as StreamIDs.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming `pins` for an entry that is not a StreamID.
    pub fn pinned_streams(&self) -> Result<Vec<ceramic_streamid::StreamId>, ConfigError> {
        self.pins
            .iter()
            .map(|text| {
                text.parse::<ceramic_streamid::StreamId>()
                    .ok()
                    .ok_or_else(|| invalid("pins", format!("{text:?} is not a StreamID")))
            })
            .collect()
    }

    /// The store's configuration: `sync` and `min_free_bytes`.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming `min_free_bytes` when it is below 4 MiB.
    pub fn store_config(&self) -> Result<StoreConfig, ConfigError> {
        if self.min_free_bytes < MIN_RESERVE {
            return Err(invalid(
                "min_free_bytes",
                format!(
                    "{} is below {MIN_RESERVE} (4 MiB): RocksDB's own files may not fit",
                    self.min_free_bytes
                ),
            ));
        }
        Ok(StoreConfig::default().with_sync(self.sync).with_min_free_bytes(self.min_free_bytes))
    }

    /// Loads the `[[hooks]]` (compiling and checking every module), counting into `metrics`;
    /// `None` without hooks.
    ///
    /// # Errors
    /// [`ConfigError::Hook`] for the first hook that does not load.
    pub fn load_hooks(
        &self,
        metrics: &ceramic_service::Metrics,
    ) -> Result<Option<ceramic_hooks::WasmHooks>, ConfigError> {
        if self.hooks.is_empty() {
            return Ok(None);
        }
        Ok(Some(ceramic_hooks::WasmHooks::load(&self.hooks, metrics)?))
    }

    /// The shutdown grace as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_defaults() {
        let config = NodeConfig::parse("").unwrap();
        assert_eq!(config, NodeConfig::default());
        assert_eq!(config.listen.to_string(), "127.0.0.1:5101");
        assert_eq!(config.http_listen.to_string(), "127.0.0.1:7007");
        assert_eq!(config.data_dir, PathBuf::from("./ceramic-data"));
        assert_eq!(config.doctypes, None);
    }

    #[test]
    fn every_field_can_be_set() {
        let config = NodeConfig::parse(
            r#"
            data_dir = "/var/lib/ceramic"
            listen = "0.0.0.0:0"
            http_listen = "127.0.0.1:0"
            network = "dev-unstable"
            doctypes = ["caip10-link"]
            sync = false
            log_level = "debug"

            [anchoring]
            chain = "eth"
            rpc_url = "http://127.0.0.1:8545"
            chain_id = 1337
            contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
            private_key_file = "/nonexistent/eth.key"
            batch_interval_secs = 5
            "#,
        )
        .unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/ceramic"));
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.http_listen.port(), 0);
        assert_eq!(config.network, "dev-unstable");
        assert_eq!(config.doctypes, Some(vec!["caip10-link".to_owned()]));
        assert!(!config.sync);
        assert_eq!(config.log_level, "debug");
        assert_eq!(config.anchoring.chain, ChainName::Eth);
        assert_eq!(config.anchoring.chain_id, Some(1337));
        let policy = config.anchoring.policy().unwrap();
        assert_eq!(policy.interval.as_secs(), 5);
        assert_eq!(policy.min_streams, Policy::default().min_streams);
        // The key file is read when the anchoring is built: a missing one is an error.
        let err = config.anchoring.to_anchoring().unwrap_err();
        assert!(err.to_string().contains("/nonexistent/eth.key"), "{err}");
        assert!(err.to_string().contains("anchoring.private_key_file"), "{err}");
    }

    #[test]
    fn gc_and_pins_have_defaults_and_name_their_bad_keys() {
        let config = NodeConfig::parse("").unwrap();
        assert_eq!(config.gc.interval_secs, DEFAULT_GC_INTERVAL_SECS);
        assert!(config.gc.pin_on_write);
        assert_eq!(config.gc.interval(), Some(Duration::from_secs(3_600)));
        assert!(config.pinned_streams().unwrap().is_empty());
        let id = ceramic_streamid::StreamId::new(
            ceramic_streamid::StreamType::TILE,
            ceramic_codecs::cid_of(0x71, b"pinned"),
        )
        .unwrap();
        let text = format!("pins = [\"{id}\"]\n[gc]\ninterval_secs = 0\npin_on_write = false");
        let config = NodeConfig::parse(&text).unwrap();
        assert_eq!(config.gc.interval(), None);
        assert!(!config.gc.pin_on_write);
        config.gc.validate().unwrap();
        assert_eq!(config.pinned_streams().unwrap(), [id]);
        let bad = NodeConfig::parse("pins = [\"kjz-not-an-id\"]").unwrap();
        let err = bad.pinned_streams().unwrap_err();
        assert!(err.to_string().contains("config key `pins`"), "{err}");
        assert!(err.to_string().contains("kjz-not-an-id"), "{err}");
        let commit = id.at_commit(ceramic_codecs::cid_of(0x71, b"c")).unwrap();
        let bad = NodeConfig::parse(&format!("pins = [\"{commit}\"]")).unwrap();
        assert!(bad.pinned_streams().unwrap_err().to_string().contains("`pins`"));
        let bad = NodeConfig::parse("[gc]\ninterval_secs = 3600000000").unwrap();
        let err = bad.gc.validate().unwrap_err();
        assert!(err.to_string().contains("config key `gc.interval_secs`"), "{err}");
        let err = NodeConfig::parse("[gc]\ninterval = 5").unwrap_err();
        assert!(err.to_string().contains("interval"), "{err}");
        assert!(NodeConfig::parse("[gc]\npin_on_write = \"yes\"").is_err());
    }

    #[test]
    fn verify_only_chains_are_checked_and_name_their_bad_keys() {
        let config = NodeConfig::parse(
            r#"
            [[chains]]
            chain_id = "eip155:1"
            rpc_url = "https://mainnet.example"

            [[chains]]
            chain_id = "eip155:11155111"
            rpc_url = "http://127.0.0.1:8545"
            contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
            "#,
        )
        .unwrap();
        assert_eq!(config.chains.len(), 2);
        validate_chains(&config.chains).unwrap();
        assert_eq!(config.chains[1].eip155().unwrap(), 11_155_111);
        assert!(NodeConfig::parse("").unwrap().chains.is_empty());
        for (text, key) in [
            ("[[chains]]\nchain_id = \"inmemory:1\"\nrpc_url = \"http://x\"", "chains.chain_id"),
            ("[[chains]]\nchain_id = \"eip155:x\"\nrpc_url = \"http://x\"", "chains.chain_id"),
            ("[[chains]]\nchain_id = \"eip155:1\"\nrpc_url = \"ws://x\"", "chains.rpc_url"),
            (
                "[[chains]]\nchain_id = \"eip155:1\"\nrpc_url = \"http://x\"\ncontract = \"0x12\"",
                "chains.contract",
            ),
            (
                "[[chains]]\nchain_id = \"eip155:1\"\nrpc_url = \"http://x\"\n[[chains]]\nchain_id = \"eip155:1\"\nrpc_url = \"http://y\"",
                "chains.chain_id",
            ),
        ] {
            let config = NodeConfig::parse(text).unwrap();
            let err = validate_chains(&config.chains).unwrap_err();
            assert!(err.to_string().contains(&format!("config key `{key}`")), "{text}: {err}");
        }
        // No key can be given: verify-only chains never sign.
        let err = NodeConfig::parse(
            "[[chains]]\nchain_id = \"eip155:1\"\nrpc_url = \"http://x\"\nprivate_key_file = \"k\"",
        )
        .unwrap_err();
        assert!(err.to_string().contains("private_key_file"), "{err}");
        assert!(NodeConfig::parse("[[chains]]\nrpc_url = \"http://x\"").is_err());
    }

    #[test]
    fn anchoring_defaults_to_the_dev_chain_and_checks_eth_fields() {
        let config = NodeConfig::parse("").unwrap();
        assert_eq!(config.anchoring.to_anchoring().unwrap(), Anchoring::Dev);
        assert_eq!(config.anchoring.policy(), None);
        let eth = NodeConfig::parse("[anchoring]\nchain = \"eth\"\nchain_id = 1").unwrap();
        let err = eth.anchoring.to_anchoring().unwrap_err();
        assert!(err.to_string().contains("rpc_url"), "{err}");
        let dev = NodeConfig::parse("[anchoring]\nrpc_url = \"http://x\"").unwrap();
        assert!(dev.anchoring.to_anchoring().is_err());
        assert!(NodeConfig::parse("[anchoring]\nchain = \"btc\"").is_err());
        assert!(NodeConfig::parse("[anchoring]\nrpc = \"x\"").is_err());
    }

    #[test]
    fn remote_anchoring_needs_a_cas_url_and_refuses_the_other_chains_keys() {
        let parse = |text: &str| NodeConfig::parse(text).unwrap().anchoring.to_anchoring();
        let remote = parse("[anchoring]\nchain = \"remote\"\ncas_url = \"http://127.0.0.1:8081/\"");
        assert_eq!(
            remote.unwrap(),
            Anchoring::Remote(RemoteAnchoring {
                url: "http://127.0.0.1:8081".into(),
                poll_interval: DEFAULT_POLL_INTERVAL
            })
        );
        let key_of = |text: &str| match parse(text).unwrap_err() {
            ConfigError::Invalid { key, .. } => key,
            other => panic!("{other}"),
        };
        let remote = "[anchoring]\nchain = \"remote\"\ncas_url = \"http://127.0.0.1:8081\"\n";
        assert_eq!(key_of("[anchoring]\nchain = \"remote\""), "anchoring.cas_url");
        assert_eq!(
            key_of("[anchoring]\nchain = \"remote\"\ncas_url = \"ftp://x\""),
            "anchoring.cas_url"
        );
        assert_eq!(
            key_of(&format!("{remote}poll_interval_secs = 0")),
            "anchoring.poll_interval_secs"
        );
        assert_eq!(key_of(&format!("{remote}chain_id = 1337")), "anchoring.chain_id");
        assert_eq!(
            key_of(&format!("{remote}private_key_file = \"k\"")),
            "anchoring.private_key_file"
        );
        assert_eq!(key_of(&format!("{remote}min_streams = 4")), "anchoring.min_streams");
        assert_eq!(key_of("[anchoring]\ncas_url = \"http://x\""), "anchoring.cas_url");
        assert_eq!(
            key_of("[anchoring]\nchain = \"eth\"\npoll_interval_secs = 5"),
            "anchoring.poll_interval_secs"
        );
        let slow = parse(&format!("{remote}poll_interval_secs = 5")).unwrap();
        let Anchoring::Remote(slow) = slow else { panic!("{slow:?}") };
        assert_eq!(slow.poll_interval, Duration::from_secs(5));
    }

    #[test]
    fn the_network_is_on_by_default_and_checks_addresses() {
        let config = NodeConfig::parse("").unwrap();
        assert!(config.p2p.to_net_config("inmemory").unwrap().is_some());
        let off = NodeConfig::parse("[p2p]\nenabled = false").unwrap();
        assert!(off.p2p.to_net_config("inmemory").unwrap().is_none());
        let bad = NodeConfig::parse("[p2p]\nbootstrap = [\"nope\"]").unwrap();
        assert!(bad.p2p.to_net_config("inmemory").is_err());
    }

    #[test]
    fn min_free_bytes_defaults_to_1_gib_and_must_be_at_least_4_mib() {
        let config = NodeConfig::parse("").unwrap();
        assert_eq!(config.store_config().unwrap().min_free_bytes, 1 << 30);
        let small = NodeConfig::parse("min_free_bytes = 8388608\nsync = false").unwrap();
        let store = small.store_config().unwrap();
        assert_eq!((store.min_free_bytes, store.sync), (8 << 20, false));
        let tiny = NodeConfig::parse("min_free_bytes = 4194303").unwrap();
        let err = tiny.store_config().unwrap_err();
        assert!(err.to_string().contains("min_free_bytes"), "{err}");
        assert!(NodeConfig::parse("min_free_bytes = -1").is_err());
    }

    #[test]
    fn the_http_table_sets_and_checks_the_limits() {
        let config = NodeConfig::parse(
            "[http]\nheader_timeout_ms = 500\nidle_timeout_ms = 700\nmax_connections = 9\n\
             max_connections_per_ip = 3\nmultiquery_concurrency = 4\nmultiquery_timeout_ms = 900\n\
             max_multiquery_queries = 5\nadmin_codes_per_client = 2\nmax_admin_codes = 6\n\
             request_timeout_ms = 800",
        )
        .unwrap();
        config.http.validate().unwrap();
        let limits = config.http.server_limits(Duration::from_secs(1));
        assert_eq!(limits.header_timeout, Duration::from_millis(500));
        assert_eq!(limits.idle_timeout, Duration::from_millis(700));
        assert_eq!(limits.request_timeout, Duration::from_millis(800));
        assert_eq!((limits.max_connections, limits.max_connections_per_ip), (9, 3));
        let multiquery = config.http.multiquery_limits();
        assert_eq!(multiquery.concurrency, 4);
        assert_eq!(multiquery.deadline, Duration::from_millis(900));
        assert_eq!(multiquery.max_queries, 5);
        let admin = config.http.admin_code_limits();
        assert_eq!((admin.per_client, admin.max_codes), (2, 6));
        NodeConfig::default().http.validate().unwrap();
        for (text, key) in [
            ("header_timeout_ms = 0", "http.header_timeout_ms"),
            ("idle_timeout_ms = 3600001", "http.idle_timeout_ms"),
            ("max_connections = 0", "http.max_connections"),
            ("max_connections_per_ip = 600", "http.max_connections_per_ip"),
            ("multiquery_concurrency = 0", "http.multiquery_concurrency"),
            ("max_admin_codes = 0", "http.max_admin_codes"),
        ] {
            let config = NodeConfig::parse(&format!("[http]\n{text}")).unwrap();
            let err = config.http.validate().unwrap_err();
            assert!(err.to_string().contains(key), "{text}: {err}");
        }
        assert!(NodeConfig::parse("[http]\nheader_timeout = 5").is_err());
        assert!(NodeConfig::parse("[http]\nmax_connections = -1").is_err());
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values_naming_the_key() {
        assert!(NodeConfig::parse("data-dir = \"x\"").is_err());
        assert!(NodeConfig::parse("listen = \"localhost\"").is_err());
        let bad = NodeConfig::parse("[p2p]\nlisten = [\"nope\"]").unwrap();
        let err = bad.p2p.to_net_config("inmemory").unwrap_err();
        assert!(err.to_string().contains("p2p.listen"), "{err}");
    }

    #[test]
    fn the_readme_lists_every_key_as_these_docs_do() {
        let docs = include_str!("config.rs");
        let (start, end) = (docs.find("//! ```toml\n").unwrap(), docs.find("//! ```\n").unwrap());
        let block: String = docs[start..end + "//! ```\n".len()]
            .lines()
            .map(|l| l.strip_prefix("//! ").or_else(|| l.strip_prefix("//!")).unwrap_or(l))
            .map(|l| format!("{l}\n"))
            .collect();
        let readme = include_str!("../../../README.md");
        assert!(
            readme.contains(&block),
            "README.md's configuration block differs from config.rs's docs"
        );
        let toml = block.trim_start_matches("```toml\n").trim_end_matches("```\n");
        NodeConfig::parse(toml).unwrap();
    }
}
