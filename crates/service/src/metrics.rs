//! [`Metrics`]: the node's Prometheus metrics (text exposition format, served at `/metrics`):
//! commits applied, writes rejected by reason, connected peers, anchor latency, and
//! subscriptions; peer bans and dropped network messages; HTTP connections refused or cut by
//! the server's limits; each backup target's status (`backup_*{target}`). Uses `prometheus-client` (the Prometheus project's own Rust client, also
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

/// Why something was counted, as one `reason` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// The reason.
    pub reason: &'static str,
}

/// Which hook, as one `hook` label.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HookLabels {
    /// The hook's name.
    pub hook: String,
}

/// A hook and a reason or name.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HookReasonLabels {
    /// The hook's name.
    pub hook: String,
    /// The reason (`trap`, `out_of_fuel`, …) or the guest's metric name.
    pub reason: String,
}

/// A backup target, as one `target` label (its configured name).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TargetLabels {
    /// The target's name.
    pub target: String,
}

/// Totals kept elsewhere (the network's and the HTTP server's own counters), copied into the
/// metrics when they are rendered: `(reason, total)` pairs.
pub type Totals<'a> = &'a [(&'static str, u64)];

/// The node's metrics; cheap to clone (shared counters).
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    commits_applied: Counter,
    writes_rejected: Family<RejectLabels, Counter>,
    peers: Gauge,
    anchor_latency: Histogram,
    anchor_requests_pending: Gauge,
    anchor_remote: Family<ReasonLabels, Counter>,
    subscriptions: Gauge,
    peer_bans: Counter,
    network_messages_dropped: Family<ReasonLabels, Counter>,
    http_connections_refused: Family<ReasonLabels, Counter>,
    http_connections_cut: Family<ReasonLabels, Counter>,
    hook_runs: Family<HookLabels, Counter>,
    hook_failures: Family<HookReasonLabels, Counter>,
    hook_vetoes: Family<HookLabels, Counter>,
    hook_events_dropped: Family<HookLabels, Counter>,
    hook_guest: Family<HookReasonLabels, Counter>,
    gc: GcCounters,
    backup: BackupMetrics,
}

/// The GC counters.
#[derive(Clone, Default)]
struct GcCounters {
    runs: Counter,
    streams_removed: Counter,
    blocks_removed: Counter,
    bytes_freed: Counter,
}

/// Each backup target's status (`ceramic_backup::Status`), by `target`.
#[derive(Clone, Default)]
struct BackupMetrics {
    runs: Family<TargetLabels, Counter>,
    errors: Family<TargetLabels, Counter>,
    commits_sent: Family<TargetLabels, Counter>,
    streams: Family<TargetLabels, Gauge>,
    commits: Family<TargetLabels, Gauge>,
    pending: Family<TargetLabels, Gauge>,
    last_success: Family<TargetLabels, Gauge>,
    retry_at: Family<TargetLabels, Gauge>,
}

impl BackupMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = BackupMetrics::default();
        registry.register("backup_runs", "Backup runs finished, by target", m.runs.clone());
        registry.register("backup_errors", "Backup runs that failed, by target", m.errors.clone());
        registry.register(
            "backup_commits_sent",
            "Commits sent to a backup target since the node started",
            m.commits_sent.clone(),
        );
        registry.register("backup_streams", "Streams a backup target holds", m.streams.clone());
        registry.register("backup_commits", "Commits a backup target holds", m.commits.clone());
        registry.register(
            "backup_pending_streams",
            "Streams with commits not yet backed up after the target's last run",
            m.pending.clone(),
        );
        registry.register(
            "backup_last_success_timestamp_seconds",
            "When the target's last successful run ended (unix seconds; 0: never)",
            m.last_success.clone(),
        );
        registry.register(
            "backup_retry_at_timestamp_seconds",
            "When a failing target's next retry is due (unix seconds; 0: not failing)",
            m.retry_at.clone(),
        );
        m
    }
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
        let anchor_requests_pending = Gauge::default();
        registry.register(
            "anchor_requests_pending",
            "Anchor requests a remote CAS has not finished yet (chain = \"remote\")",
            anchor_requests_pending.clone(),
        );
        let anchor_remote = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "anchor_remote",
            "What polling a remote CAS found, by outcome (anchored, failed, replaced, lost, unreachable, refused, bad_response, not_applied)",
            anchor_remote.clone(),
        );
        let subscriptions = Gauge::default();
        registry.register("subscriptions", "Open Subscribe streams", subscriptions.clone());
        let peer_bans = Counter::default();
        registry.register("peer_bans", "Peers banned for misbehaving", peer_bans.clone());
        let network_messages_dropped = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "network_messages_dropped",
            "Network messages dropped, by reason (pubsub: malformed, oversized, from_banned, rate_limited; blocks not matching their CID: bad_block)",
            network_messages_dropped.clone(),
        );
        let http_connections_refused = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "http_connections_refused",
            "HTTP connections refused at accept, by limit (capacity, per_ip)",
            http_connections_refused.clone(),
        );
        let http_connections_cut = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "http_connections_cut",
            "HTTP connections closed by a limit (header_timeout, idle_timeout, request_timeout, evicted, shutdown)",
            http_connections_cut.clone(),
        );
        let hook_runs = Family::<HookLabels, Counter>::default();
        registry.register("hook_runs", "Hook calls, by hook", hook_runs.clone());
        let hook_failures = Family::<HookReasonLabels, Counter>::default();
        registry.register(
            "hook_failures",
            "Hook calls stopped or failed, by hook and reason (trap, out_of_fuel, timeout, memory, bad_verdict, instantiate)",
            hook_failures.clone(),
        );
        let hook_vetoes = Family::<HookLabels, Counter>::default();
        registry.register("hook_vetoes", "Writes vetoed, by hook", hook_vetoes.clone());
        let hook_events_dropped = Family::<HookLabels, Counter>::default();
        registry.register(
            "hook_events_dropped",
            "Events not given to a hook because its queue was full, by hook",
            hook_events_dropped.clone(),
        );
        let hook_guest = Family::<HookReasonLabels, Counter>::default();
        registry.register(
            "hook_guest",
            "Counters hooks keep through the `metric` host function, by hook and name (the label `reason` holds the name)",
            hook_guest.clone(),
        );
        let gc = GcCounters::default();
        registry.register("gc_runs", "Garbage collections run", gc.runs.clone());
        registry.register(
            "gc_streams_removed",
            "Unpinned streams removed by garbage collection",
            gc.streams_removed.clone(),
        );
        registry.register(
            "gc_blocks_removed",
            "Blocks removed by garbage collection",
            gc.blocks_removed.clone(),
        );
        registry.register(
            "gc_bytes_freed",
            "Bytes (keys and values of states and blocks) removed by garbage collection",
            gc.bytes_freed.clone(),
        );
        let backup = BackupMetrics::register(&mut registry);
        Metrics {
            gc,
            backup,
            registry: Arc::new(registry),
            hook_runs,
            hook_failures,
            hook_vetoes,
            hook_events_dropped,
            hook_guest,
            peer_bans,
            network_messages_dropped,
            http_connections_refused,
            http_connections_cut,
            commits_applied,
            writes_rejected,
            peers,
            anchor_latency,
            anchor_requests_pending,
            anchor_remote,
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

    /// Sets how many anchor requests wait at a remote CAS.
    pub fn set_anchor_requests_pending(&self, n: i64) {
        self.anchor_requests_pending.set(n);
    }

    /// Counts an outcome of polling a remote CAS (`anchored`, `failed`, `replaced`, `lost`,
    /// `unreachable`, `refused`, `bad_response`, `not_applied`).
    pub fn anchor_remote(&self, outcome: &'static str) {
        self.anchor_remote.get_or_create(&ReasonLabels { reason: outcome }).inc();
    }

    /// A subscription opened (`+1`) or closed (`-1`).
    pub fn subscriptions(&self, delta: i64) {
        self.subscriptions.inc_by(delta);
    }

    /// Sets the total of peers banned (the network's own counter).
    pub fn set_peer_bans(&self, total: u64) {
        set(&self.peer_bans, total);
    }

    /// Sets the totals of network messages dropped, by reason.
    pub fn set_network_messages_dropped(&self, totals: Totals<'_>) {
        set_family(&self.network_messages_dropped, totals);
    }

    /// Sets the totals of HTTP connections refused at accept, by limit.
    pub fn set_http_connections_refused(&self, totals: Totals<'_>) {
        set_family(&self.http_connections_refused, totals);
    }

    /// Sets the totals of HTTP connections closed by a limit, by limit.
    pub fn set_http_connections_cut(&self, totals: Totals<'_>) {
        set_family(&self.http_connections_cut, totals);
    }

    /// Counts a call of `hook`.
    pub fn hook_run(&self, hook: &str) {
        self.hook_runs.get_or_create(&HookLabels { hook: hook.to_owned() }).inc();
    }

    /// Counts a failed call of `hook` (`reason`: trap, out_of_fuel, timeout, …).
    pub fn hook_failure(&self, hook: &str, reason: &str) {
        let labels = HookReasonLabels { hook: hook.to_owned(), reason: reason.to_owned() };
        self.hook_failures.get_or_create(&labels).inc();
    }

    /// Counts a write `hook` vetoed.
    pub fn hook_veto(&self, hook: &str) {
        self.hook_vetoes.get_or_create(&HookLabels { hook: hook.to_owned() }).inc();
    }

    /// Counts an event `hook` did not get (its queue was full).
    pub fn hook_event_dropped(&self, hook: &str) {
        self.hook_events_dropped.get_or_create(&HookLabels { hook: hook.to_owned() }).inc();
    }

    /// Adds `delta` to the guest counter `name` of `hook`.
    pub fn hook_guest(&self, hook: &str, name: &str, delta: u64) {
        let labels = HookReasonLabels { hook: hook.to_owned(), reason: name.to_owned() };
        self.hook_guest.get_or_create(&labels).inc_by(delta);
    }

    /// Counts a garbage collection and what it removed.
    pub fn gc_run(&self, streams_removed: u64, blocks_removed: u64, bytes_freed: u64) {
        self.gc.runs.inc();
        self.gc.streams_removed.inc_by(streams_removed);
        self.gc.blocks_removed.inc_by(blocks_removed);
        self.gc.bytes_freed.inc_by(bytes_freed);
    }

    /// Sets one backup target's status (copied from its runner when the metrics are rendered).
    pub fn set_backup(&self, status: &ceramic_backup::Status) {
        let label = TargetLabels { target: status.name.clone() };
        let gauge = |family: &Family<TargetLabels, Gauge>, value: u64| {
            family.get_or_create(&label).set(i64::try_from(value).unwrap_or(i64::MAX));
        };
        let m = &self.backup;
        set(&m.runs.get_or_create(&label), status.runs);
        set(&m.errors.get_or_create(&label), status.errors);
        set(&m.commits_sent.get_or_create(&label), status.commits_sent);
        gauge(&m.streams, status.streams as u64);
        gauge(&m.commits, status.commits as u64);
        gauge(&m.pending, status.pending as u64);
        gauge(&m.last_success, status.last_success.unwrap_or(0));
        gauge(&m.retry_at, status.retry_at.unwrap_or(0));
    }

    /// The metrics in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Sets a counter to a total counted elsewhere (totals only grow).
fn set(counter: &Counter, total: u64) {
    counter.inner().fetch_max(total, std::sync::atomic::Ordering::Relaxed);
}

fn set_family(family: &Family<ReasonLabels, Counter>, totals: Totals<'_>) {
    for &(reason, total) in totals {
        set(&family.get_or_create(&ReasonLabels { reason }), total);
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
        metrics.gc_run(2, 7, 900);
        metrics.gc_run(0, 1, 100);
        let text = metrics.encode();
        for line in [
            "ceramic_gc_runs_total 2",
            "ceramic_gc_streams_removed_total 2",
            "ceramic_gc_blocks_removed_total 8",
            "ceramic_gc_bytes_freed_total 1000",
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
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

    #[test]
    fn totals_kept_elsewhere_are_rendered() {
        let metrics = Metrics::new();
        metrics.set_peer_bans(2);
        metrics.set_network_messages_dropped(&[("malformed", 5), ("oversized", 0)]);
        metrics.set_http_connections_refused(&[("capacity", 1), ("per_ip", 4)]);
        metrics.set_http_connections_cut(&[("header_timeout", 3)]);
        metrics.set_peer_bans(1); // a stale snapshot never lowers a counter
        let text = metrics.encode();
        for line in [
            "ceramic_peer_bans_total 2",
            "ceramic_network_messages_dropped_total{reason=\"malformed\"} 5",
            "ceramic_network_messages_dropped_total{reason=\"oversized\"} 0",
            "ceramic_http_connections_refused_total{reason=\"per_ip\"} 4",
            "ceramic_http_connections_cut_total{reason=\"header_timeout\"} 3",
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
    }

    #[test]
    fn backup_status_is_rendered_by_target() {
        let metrics = Metrics::new();
        let mut status = ceramic_backup::Status::default();
        status.name = "s3-main".into();
        status.runs = 4;
        status.errors = 1;
        status.commits_sent = 12;
        status.streams = 3;
        status.commits = 12;
        status.pending = 2;
        status.retry_at = Some(1_700_000_000);
        metrics.set_backup(&status);
        let text = metrics.encode();
        for line in [
            "ceramic_backup_runs_total{target=\"s3-main\"} 4",
            "ceramic_backup_errors_total{target=\"s3-main\"} 1",
            "ceramic_backup_commits_sent_total{target=\"s3-main\"} 12",
            "ceramic_backup_streams{target=\"s3-main\"} 3",
            "ceramic_backup_pending_streams{target=\"s3-main\"} 2",
            "ceramic_backup_last_success_timestamp_seconds{target=\"s3-main\"} 0",
            "ceramic_backup_retry_at_timestamp_seconds{target=\"s3-main\"} 1700000000",
        ] {
            assert!(text.contains(line), "{line} not in {text}");
        }
    }
}
