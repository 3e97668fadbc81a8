//! The body of the `core_node_config` cargo-fuzz target (`fuzz/fuzz_targets/`), kept here so
//! that a unit test replays the committed corpus on stable.

use std::time::Duration;

use ceramic_net::Multiaddr;

use crate::config::{ChainName, NodeConfig};
use crate::{Anchoring, ConfigError};

/// Parses `data` as the node's TOML configuration and runs the checks the node runs at start
/// that read no files: the `[p2p]` addresses and the `[anchoring]` table (on the dev chain or a
/// remote CAS; an `eth` table names a key file, which is not read here) and its batching policy.
///
/// A configuration that parses parses the same again with a comment and blank lines around it,
/// every address accepted is a multiaddr that survives its own text form, a dev-chain
/// anchoring is refused exactly when it names a key of another chain (eth's or remote's), a
/// remote one is refused naming an `anchoring.` key or has an http(s) URL and a poll interval
/// of at least a second, and the policy says what the keys said.
pub fn node_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(config) = NodeConfig::parse(text) else { return };
    let again = NodeConfig::parse(&format!("# leading comment\n\n{text}\n\n# trailing comment\n"));
    // A text ending inside a multi-line string or an unterminated comment-less construct can
    // take the comment in; every other text must parse to the same configuration.
    if let Ok(again) = again {
        assert_eq!(again, config, "comments change nothing");
    }
    assert_eq!(config.shutdown_grace(), Duration::from_secs(config.shutdown_grace_secs));

    match config.p2p.to_net_config(&config.network) {
        Ok(net) => {
            assert_eq!(net.is_some(), config.p2p.enabled);
            if config.p2p.enabled {
                for address in config.p2p.listen.iter().chain(&config.p2p.bootstrap) {
                    let parsed: Multiaddr = address.parse().expect("an accepted multiaddr parses");
                    let text = parsed.to_string();
                    assert_eq!(text.parse::<Multiaddr>().ok(), Some(parsed), "{address:?}");
                }
            }
        }
        Err(ConfigError::Invalid { key, .. }) => {
            assert!(config.p2p.enabled, "a disabled network checks nothing");
            assert!(key == "p2p.listen" || key == "p2p.bootstrap", "{key}");
        }
        Err(other) => panic!("the p2p table failed with {other}"),
    }

    match config.gc.validate() {
        Ok(()) => assert_eq!(config.gc.interval().is_none(), config.gc.interval_secs == 0),
        Err(ConfigError::Invalid { key, .. }) => assert_eq!(key, "gc.interval_secs"),
        Err(other) => panic!("the gc table failed with {other}"),
    }
    match config.pinned_streams() {
        Ok(ids) => assert_eq!(ids.len(), config.pins.len()),
        Err(ConfigError::Invalid { key, .. }) => assert_eq!(key, "pins"),
        Err(other) => panic!("pins failed with {other}"),
    }
    match crate::config::validate_chains(&config.chains) {
        Ok(()) => {
            for chain in &config.chains {
                assert!(chain.eip155().is_ok(), "{chain:?}");
            }
        }
        Err(ConfigError::Invalid { key, .. }) => assert!(key.starts_with("chains."), "{key}"),
        Err(other) => panic!("the chains failed with {other}"),
    }

    let anchoring = &config.anchoring;
    if anchoring.chain == ChainName::Dev {
        // The keys of the other chains: eth's, and remote's.
        let other_chains = anchoring.rpc_url.is_some()
            || anchoring.private_key_file.is_some()
            || anchoring.cas_url.is_some()
            || anchoring.poll_interval_secs.is_some();
        match anchoring.to_anchoring() {
            Ok(Anchoring::Dev) => assert!(!other_chains, "a dev chain took another chain's key"),
            Ok(other) => panic!("a dev chain became {other:?}"),
            Err(ConfigError::Invalid { key, .. }) => {
                assert!(other_chains, "a dev chain refused without another chain's key: {key}");
            }
            Err(other) => panic!("the anchoring table failed with {other}"),
        }
    }
    if anchoring.chain == ChainName::Remote {
        match anchoring.to_anchoring() {
            Ok(Anchoring::Remote(remote)) => {
                assert!(anchoring.cas_url.is_some() && anchoring.rpc_url.is_none());
                assert!(remote.poll_interval >= std::time::Duration::from_secs(1));
                assert!(remote.url.starts_with("http://") || remote.url.starts_with("https://"));
            }
            Ok(other) => panic!("a remote table became {other:?}"),
            Err(ConfigError::Invalid { key, .. }) => {
                assert!(key.starts_with("anchoring."), "{key}")
            }
            Err(other) => panic!("the anchoring table failed with {other}"),
        }
    }
    let set = anchoring.batch_interval_secs.is_some()
        || anchoring.min_streams.is_some()
        || anchoring.max_delay_secs.is_some();
    let policy = anchoring.policy();
    assert_eq!(policy.is_some(), set, "a policy exactly when one of its keys is set");
    if let Some(policy) = policy {
        if let Some(secs) = anchoring.batch_interval_secs {
            assert_eq!(policy.interval, Duration::from_secs(secs));
        }
        if let Some(min) = anchoring.min_streams {
            assert_eq!(policy.min_streams, min);
        }
        if let Some(secs) = anchoring.max_delay_secs {
            assert_eq!(policy.max_delay, Duration::from_secs(secs));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("core_node_config", super::node_config)],
        );
    }

    #[test]
    fn checks_what_the_node_checks() {
        for text in [
            "",
            "[p2p]\nlisten = [\"/ip4/1.2.3.4/tcp/1\", \"nope\"]",
            "[p2p]\nenabled = false\nlisten = [\"nope\"]",
            "[anchoring]\nrpc_url = \"http://x\"",
            "[anchoring]\nchain = \"eth\"\nmin_streams = 3",
            "[anchoring]\nchain = \"remote\"\ncas_url = \"http://127.0.0.1:8081\"",
            "[anchoring]\nchain = \"remote\"\ncas_url = \"http://x\"\npoll_interval_secs = 0",
            "[anchoring]\ncas_url = \"http://x\"",
            "log_level = \"\"\"\nx",
        ] {
            super::node_config(text.as_bytes());
        }
    }
}
