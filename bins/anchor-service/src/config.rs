//! The anchor service's TOML configuration. Every field has a default, so an empty file (or
//! none) runs a local service on the dev chain:
//!
//! ```toml
//! data_dir = "./cas-data"          # the request store is <data_dir>/requests (RocksDB)
//! http_listen = "127.0.0.1:8081"   # the CAS HTTP API; port 0 picks a free port (printed)
//! grpc_listen = "127.0.0.1:8082"   # ceramic.v1.AnchorService; port 0 picks a free port
//! chain = "dev"                    # the in-process dev chain (inmemory:12345), or "eth":
//! log_level = "info"               # a tracing filter; RUST_LOG wins
//!
//! [eth]                            # chain = "eth" only
//! rpc_url = "http://127.0.0.1:8545"
//! chain_id = 1337                  # must match the RPC's eth_chainId
//! contract = "0x…"                 # the anchor contract; absent sends raw v0 transactions
//! private_key_file = "eth.key"     # hex private key paying for anchor transactions
//!
//! [policy]
//! interval_ms = 300000             # how often the scheduler looks (CAS schedulerIntervalMS)
//! min_streams = 1024               # streams that make a batch at once (CAS minStreamCount)
//! max_delay_ms = 43200000          # the longest a request waits (CAS maxAnchoringDelayMS)
//! max_batch = 65536                # the most requests in a batch
//! ```
//!
//! Unknown keys are errors, so a typo is never silently ignored.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ceramic_anchor_service::Policy;
use serde::Deserialize;

/// The chains the configuration can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ChainName {
    /// `dev`: `ceramic_anchor::DevChain`, in this process (proofs are checkable only here).
    #[default]
    Dev,
    /// `eth`: an Ethereum chain over JSON-RPC (the `[eth]` table).
    Eth,
}

/// The `[eth]` table.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct EthConfig {
    pub(crate) rpc_url: Option<String>,
    pub(crate) chain_id: Option<u64>,
    pub(crate) contract: Option<String>,
    pub(crate) private_key_file: Option<PathBuf>,
}

impl EthConfig {
    /// Connects to the chain (reading the key file).
    pub(crate) fn connect(&self) -> Result<ceramic_anchor_eth::EthChain> {
        let rpc_url = self.rpc_url.as_deref().context("chain = \"eth\" needs [eth] rpc_url")?;
        let chain_id = self.chain_id.context("chain = \"eth\" needs [eth] chain_id")?;
        let key_file = self
            .private_key_file
            .as_ref()
            .context("chain = \"eth\" needs [eth] private_key_file")?;
        let key = std::fs::read_to_string(key_file)
            .with_context(|| format!("reading {}", key_file.display()))?;
        Ok(ceramic_anchor_eth::EthChain::connect_signing(
            rpc_url,
            chain_id,
            self.contract.as_deref(),
            key.trim(),
        )?)
    }
}

/// The `[policy]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct PolicyConfig {
    pub(crate) interval_ms: u64,
    pub(crate) min_streams: usize,
    pub(crate) max_delay_ms: u64,
    pub(crate) max_batch: usize,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        let policy = Policy::default();
        PolicyConfig {
            interval_ms: u64::try_from(policy.interval.as_millis()).unwrap_or(u64::MAX),
            min_streams: policy.min_streams,
            max_delay_ms: u64::try_from(policy.max_delay.as_millis()).unwrap_or(u64::MAX),
            max_batch: policy.max_batch,
        }
    }
}

impl PolicyConfig {
    pub(crate) fn to_policy(self) -> Policy {
        Policy {
            interval: Duration::from_millis(self.interval_ms),
            min_streams: self.min_streams,
            max_delay: Duration::from_millis(self.max_delay_ms),
            max_batch: self.max_batch,
        }
    }
}

/// The configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct Config {
    pub(crate) data_dir: PathBuf,
    pub(crate) http_listen: SocketAddr,
    pub(crate) grpc_listen: SocketAddr,
    pub(crate) chain: ChainName,
    pub(crate) eth: EthConfig,
    pub(crate) log_level: String,
    pub(crate) policy: PolicyConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./cas-data"),
            http_listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            grpc_listen: SocketAddr::from(([127, 0, 0, 1], 8082)),
            chain: ChainName::Dev,
            eth: EthConfig::default(),
            log_level: "info".into(),
            policy: PolicyConfig::default(),
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
        let config: Config = toml::from_str(text)?;
        if config.policy.interval_ms == 0 {
            bail!("policy.interval_ms must be at least 1");
        }
        if config.policy.max_batch == 0 {
            bail!("policy.max_batch must be at least 1");
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_defaults() {
        let config = Config::parse("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.http_listen.to_string(), "127.0.0.1:8081");
        assert_eq!(config.grpc_listen.to_string(), "127.0.0.1:8082");
        assert_eq!(config.policy.to_policy(), Policy::default());
    }

    #[test]
    fn every_field_can_be_set() {
        let config = Config::parse(
            r#"
            data_dir = "/var/lib/cas"
            http_listen = "127.0.0.1:0"
            grpc_listen = "0.0.0.0:0"
            chain = "dev"
            log_level = "debug"
            [policy]
            interval_ms = 50
            min_streams = 2
            max_delay_ms = 1000
            max_batch = 8
            "#,
        )
        .unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/cas"));
        assert_eq!(config.http_listen.port(), 0);
        assert_eq!(config.log_level, "debug");
        let policy = config.policy.to_policy();
        assert_eq!(policy.interval, Duration::from_millis(50));
        assert_eq!((policy.min_streams, policy.max_batch), (2, 8));
        assert_eq!(policy.max_delay, Duration::from_secs(1));
    }

    #[test]
    fn rejects_unknown_keys_chains_and_zero_sizes() {
        assert!(Config::parse("data-dir = \"x\"").is_err());
        assert!(Config::parse("chain = \"btc\"").is_err());
        assert!(Config::parse("[eth]\nrpc = \"x\"").is_err());
        // `eth` without its settings parses but cannot connect, and says what is missing.
        let eth = Config::parse("chain = \"eth\"").unwrap();
        let error = eth.eth.connect().unwrap_err();
        assert!(error.to_string().contains("rpc_url"), "{error}");
        assert!(Config::parse("[policy]\nmin_stream = 3").is_err());
        assert!(Config::parse("[policy]\nmax_batch = 0").is_err());
        assert!(Config::parse("[policy]\ninterval_ms = 0").is_err());
        assert!(Config::parse("http_listen = \"localhost\"").is_err());
    }
}
