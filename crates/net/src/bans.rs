//! Strikes and bans: a peer that sends malformed or oversized pubsub messages (or blocks that do
//! not match their CIDs), or floods QUERYs past the rate limit, gets a strike of that kind;
//! enough strikes of one kind ban it for the life of the process (`specs/network.md`,
//! "Misbehaving peers"). Pure bookkeeping: blocking the peer in the swarm is the caller's job.

use std::collections::{HashMap, HashSet};

use libp2p::PeerId;

/// Peers tracked for strikes of one kind before that table is reset (a bound on memory).
const MAX_TRACKED: usize = 10_000;

/// What a peer did wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strike {
    /// A malformed or oversized pubsub message, or blocks that do not match their CIDs.
    Malformed,
    /// A QUERY over the rate limit.
    RateLimited,
}

/// The strike tables and the banned peers.
#[derive(Debug)]
pub(crate) struct Bans {
    ban_after_malformed: u32,
    ban_after_rate_limited: u32,
    malformed: HashMap<PeerId, u32>,
    limited: HashMap<PeerId, u32>,
    banned: HashSet<PeerId>,
}

impl Bans {
    /// Bans after `malformed` strikes of [`Strike::Malformed`] or `rate_limited` strikes of
    /// [`Strike::RateLimited`].
    pub(crate) fn new(malformed: u32, rate_limited: u32) -> Self {
        Bans {
            ban_after_malformed: malformed,
            ban_after_rate_limited: rate_limited,
            malformed: HashMap::new(),
            limited: HashMap::new(),
            banned: HashSet::new(),
        }
    }

    /// Whether `peer` is banned.
    pub(crate) fn is_banned(&self, peer: &PeerId) -> bool {
        self.banned.contains(peer)
    }

    /// Counts a strike; `true` when it bans `peer` (only the first time).
    pub(crate) fn strike(&mut self, peer: PeerId, kind: Strike) -> bool {
        let (table, limit) = match kind {
            Strike::Malformed => (&mut self.malformed, self.ban_after_malformed),
            Strike::RateLimited => (&mut self.limited, self.ban_after_rate_limited),
        };
        if table.len() >= MAX_TRACKED {
            table.clear();
        }
        let strikes = table.entry(peer).or_insert(0);
        *strikes = strikes.saturating_add(1);
        *strikes >= limit && self.banned.insert(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bans_after_the_threshold_of_one_kind_once() {
        let mut bans = Bans::new(3, 5);
        let peer = PeerId::random();
        assert!(!bans.strike(peer, Strike::Malformed));
        for _ in 0..4 {
            assert!(!bans.strike(peer, Strike::RateLimited));
        }
        assert!(!bans.strike(peer, Strike::Malformed), "kinds are counted apart");
        assert!(!bans.is_banned(&peer));
        assert!(bans.strike(peer, Strike::Malformed), "third malformed strike bans");
        assert!(bans.is_banned(&peer));
        assert!(!bans.strike(peer, Strike::RateLimited), "banned only once");
        assert!(!bans.is_banned(&PeerId::random()));
    }

    #[test]
    fn a_full_table_is_reset_but_bans_stay() {
        let mut bans = Bans::new(2, 2);
        let bad = PeerId::random();
        assert!(!bans.strike(bad, Strike::Malformed));
        assert!(bans.strike(bad, Strike::Malformed));
        let first = PeerId::random();
        bans.strike(first, Strike::Malformed);
        for _ in 2..MAX_TRACKED {
            bans.strike(PeerId::random(), Strike::Malformed);
        }
        // The table is full: the next strike resets it, so `first` starts over (its second
        // strike would have banned it).
        assert!(!bans.strike(first, Strike::Malformed));
        assert!(bans.strike(first, Strike::Malformed));
        assert!(bans.is_banned(&bad));
    }
}
