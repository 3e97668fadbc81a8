//! When the service makes a batch (cas:config/default.json, cas:src/services/anchor-service.ts).

use std::time::Duration;

/// The batching policy. At each tick (every [`Policy::interval`]) a batch is made if at least
/// [`Policy::min_streams`] streams have a PENDING request, **or** the oldest PENDING request is
/// older than [`Policy::max_delay`]; it takes the oldest requests, at most
/// [`Policy::max_batch`] of them (one per stream). A manual trigger ignores the two thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// How often the scheduler looks (CAS `schedulerIntervalMS`, 5 minutes).
    pub interval: Duration,
    /// Streams needed for a batch before the delay runs out (CAS `minStreamCount`, 1024).
    pub min_streams: usize,
    /// The longest a request waits before a batch is made anyway (CAS `maxAnchoringDelayMS`,
    /// 12 hours).
    pub max_delay: Duration,
    /// The most requests in one batch (CAS `2^merkleDepthLimit`; here 2^16 by default). At
    /// least 1.
    pub max_batch: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            interval: Duration::from_secs(300),
            min_streams: 1024,
            max_delay: Duration::from_secs(12 * 3600),
            max_batch: 1 << 16,
        }
    }
}

impl Policy {
    /// Whether `pending` pending streams, the oldest stored at `oldest_ms`, make a batch at
    /// `now_ms`.
    pub fn is_due(&self, pending: usize, oldest_ms: Option<u64>, now_ms: u64) -> bool {
        let Some(oldest) = oldest_ms else { return false };
        let delay = u64::try_from(self.max_delay.as_millis()).unwrap_or(u64::MAX);
        pending >= self.min_streams.max(1) || now_ms.saturating_sub(oldest) >= delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_on_stream_count_or_delay() {
        let policy =
            Policy { min_streams: 3, max_delay: Duration::from_secs(10), ..Policy::default() };
        assert!(!policy.is_due(0, None, 1_000_000));
        assert!(!policy.is_due(2, Some(1000), 1000 + 9_999));
        assert!(policy.is_due(2, Some(1000), 1000 + 10_000));
        assert!(policy.is_due(3, Some(1000), 1000));
    }
}
