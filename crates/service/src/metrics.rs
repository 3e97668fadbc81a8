//! [`Metrics`]: the node's Prometheus metrics (text exposition format, served at `/metrics`):
//! commits applied, writes rejected by reason, connected peers, anchor latency, and
//! subscriptions. Uses `prometheus-client` (the Prometheus project's own Rust client, also
//! what libp2p's metrics use).

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Why a write was rejected: the [`ErrorKind`](crate::ErrorKind)'s name (`invalid_input`,
/// `stale`, …).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RejectLabels {
    /// The reason.
    pub reason: String,
}

/// The node's metrics; cheap to clone (shared counters).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    commits_applied: Counter,
    writes_rejected: Family<RejectLabels, Counter>,
    peers: Gauge,
    anchor_latency: Histogram,
    subscriptions: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Fresh metrics, all zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ceramic");
        let commits_applied = Counter::default();
        registry.register(
            "commits_applied",
            "Commits applied to streams (client writes and tips from the network)",
            commits_applied.clone(),
        );
        let writes_rejected = Family::<RejectLabels, Counter>::default();
        registry.register(
            "writes_rejected",
            "Client writes rejected, by reason (the kind of error)",
            writes_rejected.clone(),
        );
        let peers = Gauge::default();
        registry.register("peers", "Connected libp2p peers", peers.clone());
        // 1 s … ~4.5 h: anchors take from seconds (dev chain) to hours (CAS batching).
        let anchor_latency = Histogram::new(exponential_buckets(1.0, 2.0, 15));
        registry.register(
            "anchor_latency_seconds",
            "Time from an anchor request to the applied anchor commit",
            anchor_latency.clone(),
        );
        let subscriptions = Gauge::default();
        registry.register("subscriptions", "Open Subscribe streams", subscriptions.clone());
        Metrics {
            registry: Arc::new(registry),
            commits_applied,
            writes_rejected,
            peers,
            anchor_latency,
            subscriptions,
        }
    }

    /// Counts `n` applied commits.
    pub fn commits_applied(&self, n: u64) {
        self.commits_applied.inc_by(n);
    }

    /// Counts a rejected write.
    pub fn write_rejected(&self, reason: &str) {
        self.writes_rejected.get_or_create(&RejectLabels { reason: reason.to_owned() }).inc();
    }

    /// Sets the number of connected peers.
    pub fn set_peers(&self, peers: i64) {
        self.peers.set(peers);
    }

    /// Records how long an anchor took, in seconds.
    pub fn anchor_latency(&self, seconds: f64) {
        self.anchor_latency.observe(seconds);
    }

    /// A subscription opened (`+1`) or closed (`-1`).
    pub fn subscriptions(&self, delta: i64) {
        self.subscriptions.inc_by(delta);
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_was_counted() {
        let metrics = Metrics::new();
        metrics.commits_applied(3);
        metrics.write_rejected("invalid_input");
        metrics.write_rejected("invalid_input");
        metrics.write_rejected("stale");
        metrics.set_peers(2);
        metrics.anchor_latency(3.5);
        let text = metrics.encode();
        assert!(text.contains("ceramic_commits_applied_total 3"), "{text}");
        assert!(
            text.contains("ceramic_writes_rejected_total{reason=\"invalid_input\"} 2"),
            "{text}"
        );
        assert!(text.contains("ceramic_writes_rejected_total{reason=\"stale\"} 1"));
        assert!(text.contains("ceramic_peers 2"), "{text}");
        assert!(text.contains("ceramic_anchor_latency_seconds_count 1"), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
