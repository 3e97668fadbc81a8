//! Counters of what the network layer did, for logs, metrics and tests.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! stats {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// A snapshot of the counters (see [`crate::NetworkHandle::stats`]).
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct Stats {
            $($(#[$doc])* pub $name: u64,)*
        }

        #[derive(Debug, Default)]
        pub(crate) struct Counters {
            $(pub(crate) $name: AtomicU64,)*
        }

        impl Counters {
            pub(crate) fn snapshot(&self) -> Stats {
                Stats { $($name: self.$name.load(Ordering::Relaxed),)* }
            }
        }
    };
}

stats! {
    /// Pubsub messages received on the topic (any type, valid or not).
    messages_received,
    /// Messages dropped because they did not parse.
    malformed,
    /// Messages dropped because they were larger than the limit.
    oversized,
    /// Messages dropped because their author is banned.
    from_banned,
    /// UPDATEs received and parsed.
    updates_received,
    /// UPDATEs skipped: the tip was seen already, or the stream is not followed.
    updates_skipped,
    /// QUERYs received and parsed.
    queries_received,
    /// QUERYs dropped by the per-peer or global rate limit.
    rate_limited,
    /// RESPONSEs published.
    responses_sent,
    /// RESPONSEs received.
    responses_received,
    /// UPDATEs published.
    updates_published,
    /// KEEPALIVEs published.
    keepalives_sent,
    /// Announcements dropped because the queue to the network task was full.
    announcements_dropped,
    /// Tips that changed a local stream (created, extended or won a fork).
    tips_applied,
    /// Tips that left the stream unchanged (known, or the local branch won).
    tips_unchanged,
    /// Tips the engine refused (invalid, not leading to the genesis, blocks missing).
    tips_rejected,
    /// Blocks received that hashed to their CID.
    blocks_fetched,
    /// Blocks received that did not hash to their CID (dropped).
    bad_blocks,
    /// Blocks sent to peers.
    blocks_served,
    /// Peers banned for misbehaving.
    peers_banned,
}

impl Counters {
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
