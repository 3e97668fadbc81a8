//! The node's TOML configuration. Every field has a default, so an empty file (or none) runs
//! a local node:
//!
//! ```toml
//! data_dir = "./ceramic-data"        # the store is <data_dir>/store (RocksDB)
//! listen = "127.0.0.1:5101"          # gRPC; port 0 picks a free port (printed at start)
//! http_listen = "127.0.0.1:7007"     # js-ceramic compatible HTTP API (/api/v0), js's port
//! network = "inmemory"               # reported by NodeInfo
//! doctypes = ["tile", "caip10-link"] # the stream types this node applies commits of
//! sync = true                        # fsync each write before acknowledging it
//! admin_dids = []                    # DIDs allowed to use the HTTP admin API (pins)
//! log_level = "info"                 # a tracing filter, e.g. "info,ceramic_core=debug"; RUST_LOG wins
//!
//! [p2p]
//! enabled = true                     # libp2p + Ceramic pubsub on /ceramic/<network>
//! listen = ["/ip4/127.0.0.1/tcp/4101"] # libp2p listen addresses (port 0 picks one; printed)
//! bootstrap = []                     # peers to dial, e.g. "/ip4/10.0.0.2/tcp/4101/p2p/12D3Koo…"
//!
//! [anchoring]
//! chain = "dev"                      # "dev": the in-process chain inmemory:12345; "eth": below
//! # rpc_url = "http://127.0.0.1:8545" # eth only: JSON-RPC endpoint
//! # chain_id = 1337                  # eth only: must match the RPC's eth_chainId
//! # contract = "0x…"                 # eth only: the anchor contract; absent sends raw v0 txs
//! # private_key_file = "eth.key"     # eth only: hex private key paying for anchors
//! # batch_interval_secs = 1          # how often the anchor service looks (dev 1, eth 300)
//! # min_streams = 1                  # streams that make a batch at once (dev 1, eth 1024)
//! # max_delay_secs = 43200           # oldest request age that makes a batch anyway
//! ```
//!
//! Unknown keys are errors, so a typo is never silently ignored.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use ceramic_anchor_service::Policy;
use ceramic_core::{Anchoring, EthAnchoring};
use ceramic_net::{Config as NetConfig, Multiaddr};
use serde::Deserialize;

/// A doctype the configuration can enable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum DoctypeName {
    /// `tile`: TileDocument (stream type 0).
    Tile,
    /// `caip10-link`: CAIP-10 account link (stream type 1).
    Caip10Link,
}

/// Which chain anchors go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ChainName {
    /// The in-process dev chain.
    #[default]
    Dev,
    /// An Ethereum chain over JSON-RPC.
    Eth,
}

/// The `[p2p]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct NetworkConfig {
    pub(crate) enabled: bool,
    pub(crate) listen: Vec<String>,
    pub(crate) bootstrap: Vec<String>,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            enabled: true,
            listen: vec!["/ip4/127.0.0.1/tcp/4101".into()],
            bootstrap: Vec::new(),
        }
    }
}

impl NetworkConfig {
    /// The network's configuration on `network`, or `None` when disabled.
    pub(crate) fn to_net_config(&self, network: &str) -> Result<Option<NetConfig>> {
        if !self.enabled {
            return Ok(None);
        }
        let parse = |list: &[String], what: &str| -> Result<Vec<Multiaddr>> {
            list.iter()
                .map(|a| {
                    a.parse().with_context(|| format!("[p2p] {what}: {a:?} is not a multiaddr"))
                })
                .collect()
        };
        Ok(Some(
            NetConfig::new(network)
                .with_listen(parse(&self.listen, "listen")?)
                .with_bootstrap(parse(&self.bootstrap, "bootstrap")?),
        ))
    }
}

/// The `[anchoring]` table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct AnchoringConfig {
    pub(crate) chain: ChainName,
    pub(crate) rpc_url: Option<String>,
    pub(crate) chain_id: Option<u64>,
    pub(crate) contract: Option<String>,
    pub(crate) private_key_file: Option<PathBuf>,
    pub(crate) batch_interval_secs: Option<u64>,
    pub(crate) min_streams: Option<usize>,
    pub(crate) max_delay_secs: Option<u64>,
}

impl AnchoringConfig {
    /// The anchoring it names (reading the key file for `eth`).
    pub(crate) fn to_anchoring(&self) -> Result<Anchoring> {
        match self.chain {
            ChainName::Dev => {
                if self.rpc_url.is_some() || self.private_key_file.is_some() {
                    bail!("[anchoring] rpc_url and private_key_file need chain = \"eth\"");
                }
                Ok(Anchoring::Dev)
            }
            ChainName::Eth => {
                let rpc_url =
                    self.rpc_url.clone().context("[anchoring] chain = \"eth\" needs rpc_url")?;
                let chain_id =
                    self.chain_id.context("[anchoring] chain = \"eth\" needs chain_id")?;
                let key_file = self
                    .private_key_file
                    .as_ref()
                    .context("[anchoring] chain = \"eth\" needs private_key_file")?;
                let private_key = std::fs::read_to_string(key_file)
                    .with_context(|| format!("reading {}", key_file.display()))?
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
    pub(crate) fn policy(&self) -> Option<Policy> {
        if self.batch_interval_secs.is_none()
            && self.min_streams.is_none()
            && self.max_delay_secs.is_none()
        {
            return None;
        }
        let base = match self.chain {
            ChainName::Dev => Anchoring::Dev.default_policy(),
            ChainName::Eth => Policy::default(),
        };
        Some(Policy {
            interval: self
                .batch_interval_secs
                .map_or(base.interval, std::time::Duration::from_secs),
            min_streams: self.min_streams.unwrap_or(base.min_streams),
            max_delay: self.max_delay_secs.map_or(base.max_delay, std::time::Duration::from_secs),
            ..base
        })
    }
}

/// The configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Config {
    pub(crate) data_dir: PathBuf,
    pub(crate) listen: SocketAddr,
    pub(crate) http_listen: SocketAddr,
    pub(crate) network: String,
    pub(crate) doctypes: Vec<DoctypeName>,
    #[serde(rename = "p2p")]
    pub(crate) network_p2p: NetworkConfig,
    pub(crate) anchoring: AnchoringConfig,
    pub(crate) sync: bool,
    pub(crate) admin_dids: Vec<String>,
    pub(crate) log_level: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./ceramic-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 5101)),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 7007)),
            network: "inmemory".into(),
            doctypes: vec![DoctypeName::Tile, DoctypeName::Caip10Link],
            network_p2p: NetworkConfig::default(),
            anchoring: AnchoringConfig::default(),
            sync: true,
            admin_dids: Vec::new(),
            log_level: "info".into(),
        }
    }
}

impl Config {
    /// The configuration in `path`, or the defaults without one.
    pub(crate) fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else { return Ok(Config::default()) };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the config file {}", path.display()))?;
        Config::parse(&text).with_context(|| format!("in the config file {}", path.display()))
    }

    fn parse(text: &str) -> Result<Self> {
        Ok(toml::from_str(text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_defaults() {
        let config = Config::parse("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.listen.to_string(), "127.0.0.1:5101");
        assert_eq!(config.http_listen.to_string(), "127.0.0.1:7007");
        assert_eq!(config.data_dir, PathBuf::from("./ceramic-data"));
        assert_eq!(config.doctypes, [DoctypeName::Tile, DoctypeName::Caip10Link]);
    }

    #[test]
    fn every_field_can_be_set() {
        let config = Config::parse(
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
        assert_eq!(config.doctypes, [DoctypeName::Caip10Link]);
        assert!(!config.sync);
        assert_eq!(config.log_level, "debug");
        assert_eq!(config.anchoring.chain, ChainName::Eth);
        assert_eq!(config.anchoring.chain_id, Some(1337));
        let policy = config.anchoring.policy().unwrap();
        assert_eq!(policy.interval.as_secs(), 5);
        assert_eq!(policy.min_streams, Policy::default().min_streams);
        // The key file is read when the anchoring is built: a missing one is an error.
        let err = config.anchoring.to_anchoring().unwrap_err();
        assert!(format!("{err:#}").contains("/nonexistent/eth.key"), "{err:#}");
    }

    #[test]
    fn anchoring_defaults_to_the_dev_chain_and_checks_eth_fields() {
        let config = Config::parse("").unwrap();
        assert_eq!(config.anchoring.to_anchoring().unwrap(), Anchoring::Dev);
        assert_eq!(config.anchoring.policy(), None);
        let eth = Config::parse("[anchoring]\nchain = \"eth\"\nchain_id = 1").unwrap();
        let err = eth.anchoring.to_anchoring().unwrap_err();
        assert!(err.to_string().contains("rpc_url"), "{err}");
        let dev = Config::parse("[anchoring]\nrpc_url = \"http://x\"").unwrap();
        assert!(dev.anchoring.to_anchoring().is_err());
        assert!(Config::parse("[anchoring]\nchain = \"btc\"").is_err());
        assert!(Config::parse("[anchoring]\nrpc = \"x\"").is_err());
    }

    #[test]
    fn the_network_is_on_by_default_and_checks_addresses() {
        let config = Config::parse("").unwrap();
        assert!(config.network_p2p.to_net_config("inmemory").unwrap().is_some());
        let off = Config::parse("[p2p]\nenabled = false").unwrap();
        assert!(off.network_p2p.to_net_config("inmemory").unwrap().is_none());
        let bad = Config::parse("[p2p]\nbootstrap = [\"nope\"]").unwrap();
        assert!(bad.network_p2p.to_net_config("inmemory").is_err());
    }

    #[test]
    fn rejects_unknown_keys_and_doctypes() {
        assert!(Config::parse("data-dir = \"x\"").is_err());
        assert!(Config::parse("doctypes = [\"model\"]").is_err());
        assert!(Config::parse("listen = \"localhost\"").is_err());
    }
}
