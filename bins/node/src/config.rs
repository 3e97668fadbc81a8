//! The node's TOML configuration. Every field has a default, so an empty file (or none) runs
//! a local node:
//!
//! ```toml
//! data_dir = "./ceramic-data"        # the store is <data_dir>/store (RocksDB)
//! listen = "127.0.0.1:5101"          # gRPC; port 0 picks a free port (printed at start)
//! http_listen = "127.0.0.1:7007"     # js-ceramic compatible HTTP API (/api/v0), js's port
//! network = "inmemory"               # reported by NodeInfo; no networking yet
//! doctypes = ["tile", "caip10-link"] # the stream types this node applies commits of
//! anchor_verifier = "fake"           # placeholder: refuses every anchor commit
//! sync = true                        # fsync each write before acknowledging it
//! log_level = "info"                 # a tracing filter, e.g. "info,ceramic_proto=debug"; RUST_LOG wins
//! ```
//!
//! Unknown keys are errors, so a typo is never silently ignored.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ceramic_proto::AnchorVerifierKind;
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

/// The anchor verifiers the configuration can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum AnchorVerifierName {
    /// `fake`: see [`AnchorVerifierKind::Fake`].
    #[default]
    Fake,
}

impl From<AnchorVerifierName> for AnchorVerifierKind {
    fn from(name: AnchorVerifierName) -> Self {
        match name {
            AnchorVerifierName::Fake => AnchorVerifierKind::Fake,
        }
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
    pub(crate) anchor_verifier: AnchorVerifierName,
    pub(crate) sync: bool,
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
            anchor_verifier: AnchorVerifierName::Fake,
            sync: true,
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
            anchor_verifier = "fake"
            sync = false
            log_level = "debug"
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
    }

    #[test]
    fn rejects_unknown_keys_and_doctypes() {
        assert!(Config::parse("data-dir = \"x\"").is_err());
        assert!(Config::parse("doctypes = [\"model\"]").is_err());
        assert!(Config::parse("listen = \"localhost\"").is_err());
    }
}
