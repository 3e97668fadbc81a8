//! [`Info`]: what the node reports about itself (gRPC `NodeInfo`, logs).

use ceramic_streamid::StreamType;

/// The node's network, enabled doctypes and anchor verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    network: String,
    doctypes: Vec<(StreamType, &'static str)>,
    anchor_verifier: String,
}

impl Info {
    /// A node on `network` (e.g. `inmemory`) with no doctypes and no anchor verifier named.
    pub fn new(network: impl Into<String>) -> Self {
        Info { network: network.into(), doctypes: Vec::new(), anchor_verifier: String::new() }
    }

    /// Adds an enabled doctype.
    #[must_use]
    pub fn with_doctype(mut self, stream_type: StreamType, name: &'static str) -> Self {
        self.doctypes.push((stream_type, name));
        self
    }

    /// Names the anchor verifier (e.g. `dev (inmemory:12345)`).
    #[must_use]
    pub fn with_anchor_verifier(mut self, name: impl Into<String>) -> Self {
        self.anchor_verifier = name.into();
        self
    }

    /// The network name.
    pub fn network(&self) -> &str {
        &self.network
    }

    /// The enabled doctypes, in the order they were enabled.
    pub fn doctypes(&self) -> &[(StreamType, &'static str)] {
        &self.doctypes
    }

    /// The anchor verifier's name.
    pub fn anchor_verifier(&self) -> &str {
        &self.anchor_verifier
    }

    /// This build's version.
    pub fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }
}
