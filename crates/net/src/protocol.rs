//! The Ceramic pubsub protocol's rules (js-ceramic `message-bus.ts`, `dispatcher.ts`;
//! `specs/network.md` "Behaviour" and "Misbehaving peers") as a state machine with no I/O:
//! inputs are received pubsub bytes, local announcements, query starts and clock ticks, each
//! with the time passed in; outputs are a [`Verdict`] for gossipsub and [`Action`]s that the
//! swarm task carries out (publish, answer from the store, sync a tip, ban a peer, ...).
//!
//! It owns what those rules remember: the recently seen `(stream, tip)` pairs, the QUERY rate
//! limiter, strikes and bans, the pending queries and their RESPONSEs, and when the node last
//! published (for KEEPALIVE). Counters are bumped here, except for messages actually published
//! (the swarm task counts those, since only it knows whether publishing worked).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ceramic_codecs::Cid;
use ceramic_streamid::StreamId;
use libp2p::PeerId;

use crate::bans::{Bans, Strike};
use crate::config::Config;
use crate::limits::{RateLimiter, Recent};
use crate::message::{Keepalive, Message, ParseError, Query, Update, query_id};
use crate::stats::Counters;

/// Our version, sent in KEEPALIVE and identify.
pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The shortest KEEPALIVE period honoured (a zero one would publish in a loop).
const MIN_KEEPALIVE: Duration = Duration::from_millis(50);

/// What gossipsub is told about a received message (whether it is forwarded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Valid: forward it.
    Accept,
    /// Invalid (malformed, oversized, banned author): do not forward, penalise the sender.
    Reject,
    /// Valid but dropped (rate limited): do not forward, no penalty.
    Ignore,
}

/// Which pending query an [`Action::QueryDone`] ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct QueryToken(u64);

/// What the swarm task must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Publish this message on the topic.
    Publish(Message),
    /// Look `stream` up in the store and, if it is there, publish
    /// `RESPONSE {id, tips: {stream: tip}}`.
    Answer {
        /// The QUERY's id.
        id: String,
        /// The stream asked about.
        stream: StreamId,
    },
    /// Sync `tip` of `stream` if the stream is followed, asking `from` first for blocks.
    StartSync {
        /// The stream.
        stream: StreamId,
        /// Its announced tip.
        tip: Cid,
        /// The peer that relayed the UPDATE.
        from: PeerId,
    },
    /// Block this peer (connections closed, new ones refused).
    Ban(PeerId),
    /// Provide the stream's genesis CID on Kademlia.
    Provide(StreamId),
    /// Hand the new tip's blocks (and an envelope's payload) to Bitswap.
    NotifyBitswap(Cid),
    /// A query ended: the distinct tips received for its stream, with who sent each first.
    QueryDone {
        /// The query.
        query: QueryToken,
        /// The tips.
        tips: Vec<(PeerId, Cid)>,
    },
}

/// A query waiting for RESPONSEs.
#[derive(Debug)]
struct Pending {
    id: String,
    stream: StreamId,
    /// When it ends at the latest ([`Config::sync_timeout`] after it started).
    deadline: Instant,
    /// When the last RESPONSE with its id came.
    last: Option<Instant>,
    tips: Vec<(PeerId, Cid)>,
}

impl Pending {
    /// [`Config::response_quiet`] after the last answer once a tip came, else the deadline.
    fn end(&self, quiet: Duration) -> Instant {
        match self.last {
            Some(last) if !self.tips.is_empty() => self.deadline.min(last + quiet),
            _ => self.deadline,
        }
    }
}

/// The pubsub protocol's state.
#[derive(Debug)]
pub(crate) struct Protocol {
    counters: Arc<Counters>,
    keepalive: Duration,
    sync_timeout: Duration,
    response_quiet: Duration,
    seen: Recent<(StreamId, Cid)>,
    limiter: RateLimiter<PeerId>,
    bans: Bans,
    last_publish: Instant,
    queries: HashMap<QueryToken, Pending>,
    next_token: u64,
}

impl Protocol {
    /// A fresh state at `now` (which counts as the last publish, as at start nothing was).
    pub(crate) fn new(config: &Config, counters: Arc<Counters>, now: Instant) -> Self {
        Protocol {
            counters,
            keepalive: config.keepalive.max(MIN_KEEPALIVE),
            sync_timeout: config.sync_timeout,
            response_quiet: config.response_quiet,
            seen: Recent::new(config.seen_tips),
            limiter: RateLimiter::new(config.query_rate_per_peer, config.query_rate_global, now),
            bans: Bans::new(config.ban_after_malformed, config.ban_after_rate_limited),
            last_publish: now,
            queries: HashMap::new(),
            next_token: 0,
        }
    }

    /// A pubsub message `data` written by `author` and relayed to us by `from`, at `now`.
    pub(crate) fn on_message(
        &mut self,
        author: PeerId,
        from: PeerId,
        data: &[u8],
        now: Instant,
    ) -> (Verdict, Vec<Action>) {
        let counters = self.counters.clone();
        Counters::inc(&counters.messages_received);
        if self.bans.is_banned(&author) {
            Counters::inc(&counters.from_banned);
            return (Verdict::Reject, Vec::new());
        }
        let message = match Message::decode(data) {
            Ok(message) => message,
            Err(e) => {
                if matches!(e, ParseError::TooLarge { .. }) {
                    Counters::inc(&counters.oversized);
                } else {
                    Counters::inc(&counters.malformed);
                }
                tracing::info!(peer = %author, error = %e, "malformed pubsub message dropped");
                return (Verdict::Reject, self.strike(author, Strike::Malformed));
            }
        };
        match message {
            Message::Update(update) => {
                Counters::inc(&counters.updates_received);
                if !self.seen.insert((update.stream, update.tip)) {
                    Counters::inc(&counters.updates_skipped);
                    return (Verdict::Accept, Vec::new());
                }
                let sync = Action::StartSync { stream: update.stream, tip: update.tip, from };
                (Verdict::Accept, vec![sync])
            }
            Message::Query(query) => {
                Counters::inc(&counters.queries_received);
                if !self.limiter.allow(author, now) {
                    Counters::inc(&counters.rate_limited);
                    tracing::debug!(peer = %author, "QUERY over the rate limit dropped");
                    return (Verdict::Ignore, self.strike(author, Strike::RateLimited));
                }
                (Verdict::Accept, vec![Action::Answer { id: query.id, stream: query.stream }])
            }
            Message::Response(response) => {
                Counters::inc(&counters.responses_received);
                let quiet = self.response_quiet;
                let open = self.queries.values_mut().filter(|p| p.id == response.id);
                for pending in open.filter(|p| now < p.end(quiet)) {
                    pending.last = Some(now);
                    if let Some(tip) = response.tips.get(&pending.stream)
                        && !pending.tips.iter().any(|(_, t)| t == tip)
                    {
                        pending.tips.push((from, *tip));
                    }
                }
                (Verdict::Accept, Vec::new())
            }
            Message::Keepalive(_) => (Verdict::Accept, Vec::new()),
        }
    }

    /// The engine has a new tip for `stream`: remember it (so its UPDATE coming back is
    /// skipped), announce it, hand it to Bitswap and provide the stream.
    pub(crate) fn on_announce(&mut self, stream: StreamId, tip: Cid) -> Vec<Action> {
        self.seen.insert((stream, tip));
        vec![
            Action::Publish(Message::Update(Update { stream, tip, model: None })),
            Action::NotifyBitswap(tip),
            Action::Provide(stream),
        ]
    }

    /// Starts a query for `stream` at `now`: returns its token and the QUERY to publish (if
    /// publishing fails, [`Protocol::cancel_query`] it). It ends with an [`Action::QueryDone`]
    /// from [`Protocol::on_tick`].
    pub(crate) fn start_query(&mut self, stream: StreamId, now: Instant) -> (QueryToken, Message) {
        let token = QueryToken(self.next_token);
        self.next_token = self.next_token.wrapping_add(1);
        let id = query_id(&stream);
        let pending = Pending {
            id: id.clone(),
            stream,
            deadline: now + self.sync_timeout,
            last: None,
            tips: Vec::new(),
        };
        self.queries.insert(token, pending);
        (token, Message::Query(Query { id, stream }))
    }

    /// Forgets a query (its QUERY could not be published, or nobody waits for it any more).
    pub(crate) fn cancel_query(&mut self, query: QueryToken) {
        self.queries.remove(&query);
    }

    /// A message was published at `now` (KEEPALIVE waits for a quiet [`Config::keepalive`]).
    pub(crate) fn published(&mut self, now: Instant) {
        self.last_publish = now;
    }

    /// A peer misbehaved outside pubsub (e.g. sent blocks that do not match their CIDs).
    pub(crate) fn strike(&mut self, peer: PeerId, kind: Strike) -> Vec<Action> {
        if self.bans.strike(peer, kind) {
            tracing::warn!(%peer, ?kind, "peer banned for misbehaving");
            Counters::inc(&self.counters.peers_banned);
            vec![Action::Ban(peer)]
        } else {
            Vec::new()
        }
    }

    /// The clock reached `now` (`wall_ms`: milliseconds since the epoch, for KEEPALIVE): ends
    /// the queries whose time is up and publishes a KEEPALIVE after [`Config::keepalive`] of
    /// silence. Whether or not it gets out, the next one waits another full period.
    pub(crate) fn on_tick(&mut self, now: Instant, wall_ms: u64) -> Vec<Action> {
        let mut actions = Vec::new();
        let quiet = self.response_quiet;
        let mut done: Vec<QueryToken> =
            self.queries.iter().filter(|(_, p)| p.end(quiet) <= now).map(|(t, _)| *t).collect();
        done.sort_by_key(|t| t.0);
        for query in done {
            if let Some(pending) = self.queries.remove(&query) {
                actions.push(Action::QueryDone { query, tips: pending.tips });
            }
        }
        if now.saturating_duration_since(self.last_publish) >= self.keepalive {
            self.last_publish = now;
            actions.push(Action::Publish(Message::Keepalive(Keepalive {
                ts: wall_ms,
                ver: VERSION.into(),
                ipfs_ver: format!("rust-libp2p/ceramic-rs-{VERSION}"),
            })));
        }
        actions
    }

    /// When [`Protocol::on_tick`] has something to do next.
    pub(crate) fn next_deadline(&self) -> Instant {
        let quiet = self.response_quiet;
        let keepalive = self.last_publish + self.keepalive;
        self.queries.values().map(|p| p.end(quiet)).fold(keepalive, Instant::min)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ceramic_codecs::{Block, Codec};

    use super::*;
    use crate::message::{MAX_MESSAGE_SIZE, Response};

    const STREAM: &str = "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s";

    fn stream() -> StreamId {
        STREAM.parse().unwrap()
    }

    fn cid(n: u8) -> Cid {
        *Block::from_data(Codec::DagCbor, vec![n]).unwrap().cid()
    }

    fn protocol(now: Instant) -> (Protocol, Arc<Counters>) {
        let counters = Arc::new(Counters::default());
        (Protocol::new(&Config::new("inmemory"), counters.clone(), now), counters)
    }

    fn update(tip: Cid) -> Vec<u8> {
        Message::Update(Update { stream: stream(), tip, model: None }).encode()
    }

    fn query(id: &str) -> Vec<u8> {
        Message::Query(Query { id: id.into(), stream: stream() }).encode()
    }

    fn response(id: &str, tip: Cid) -> Vec<u8> {
        let tips: BTreeMap<StreamId, Cid> = [(stream(), tip)].into_iter().collect();
        Message::Response(Response { id: id.into(), tips }).encode()
    }

    #[test]
    fn an_update_with_a_new_tip_starts_one_sync() {
        let t = Instant::now();
        let (mut p, counters) = protocol(t);
        let (author, relay) = (PeerId::random(), PeerId::random());
        let (verdict, actions) = p.on_message(author, relay, &update(cid(1)), t);
        assert_eq!(verdict, Verdict::Accept);
        let sync = Action::StartSync { stream: stream(), tip: cid(1), from: relay };
        assert_eq!(actions, vec![sync]);
        // The same tip again, and one we announced ourselves, are skipped.
        assert_eq!(p.on_message(author, relay, &update(cid(1)), t), (Verdict::Accept, vec![]));
        p.on_announce(stream(), cid(2));
        assert_eq!(p.on_message(author, relay, &update(cid(2)), t), (Verdict::Accept, vec![]));
        let stats = counters.snapshot();
        assert_eq!((stats.updates_received, stats.updates_skipped), (3, 2));
    }

    #[test]
    fn an_announcement_publishes_the_update_notifies_bitswap_and_provides() {
        let (mut p, _) = protocol(Instant::now());
        let actions = p.on_announce(stream(), cid(3));
        let update = Message::Update(Update { stream: stream(), tip: cid(3), model: None });
        assert_eq!(
            actions,
            vec![Action::Publish(update), Action::NotifyBitswap(cid(3)), Action::Provide(stream())]
        );
    }

    #[test]
    fn queries_are_answered_within_ten_per_second_per_peer() {
        let t = Instant::now();
        let (mut p, counters) = protocol(t);
        let peer = PeerId::random();
        let answer = Action::Answer { id: "q".into(), stream: stream() };
        for _ in 0..10 {
            assert_eq!(
                p.on_message(peer, peer, &query("q"), t),
                (Verdict::Accept, vec![answer.clone()])
            );
        }
        let late = t + Duration::from_millis(999);
        assert_eq!(p.on_message(peer, peer, &query("q"), late), (Verdict::Ignore, vec![]));
        assert_eq!(counters.snapshot().rate_limited, 1);
        // Another peer is not held back by this one.
        let other = PeerId::random();
        assert_eq!(p.on_message(other, peer, &query("q"), late).0, Verdict::Accept);
        // A new one-second window.
        let next = t + Duration::from_secs(1);
        assert_eq!(p.on_message(peer, peer, &query("q"), next), (Verdict::Accept, vec![answer]));
        assert_eq!(counters.snapshot().queries_received, 13);
    }

    #[test]
    fn queries_are_answered_within_a_hundred_per_second_overall() {
        let t = Instant::now();
        let (mut p, counters) = protocol(t);
        for _ in 0..10 {
            let peer = PeerId::random();
            for _ in 0..10 {
                assert_eq!(p.on_message(peer, peer, &query("q"), t).0, Verdict::Accept);
            }
        }
        let fresh = PeerId::random();
        assert_eq!(p.on_message(fresh, fresh, &query("q"), t), (Verdict::Ignore, vec![]));
        assert_eq!(counters.snapshot().rate_limited, 1);
        let next = t + Duration::from_secs(1);
        assert_eq!(p.on_message(fresh, fresh, &query("q"), next).0, Verdict::Accept);
    }

    #[test]
    fn malformed_and_oversized_messages_strike_and_the_twentieth_bans() {
        let t = Instant::now();
        let (mut p, counters) = protocol(t);
        let (bad, relay) = (PeerId::random(), PeerId::random());
        let oversized = vec![b' '; MAX_MESSAGE_SIZE + 1];
        for i in 0..19 {
            let data: &[u8] = if i % 2 == 0 { b"{\"typ\":9}" } else { &oversized };
            assert_eq!(p.on_message(bad, relay, data, t), (Verdict::Reject, vec![]));
        }
        assert_eq!(
            p.on_message(bad, relay, b"not json", t),
            (Verdict::Reject, vec![Action::Ban(bad)])
        );
        // Banned: even a valid message, even relayed by someone else, is rejected, unparsed.
        assert_eq!(p.on_message(bad, relay, &update(cid(1)), t), (Verdict::Reject, vec![]));
        assert_eq!(p.on_message(bad, relay, b"again", t), (Verdict::Reject, vec![]));
        let stats = counters.snapshot();
        assert_eq!((stats.malformed, stats.oversized), (11, 9));
        assert_eq!((stats.from_banned, stats.peers_banned, stats.updates_received), (2, 1, 0));
        // Others are unaffected.
        assert_eq!(p.on_message(relay, relay, &update(cid(1)), t).0, Verdict::Accept);
    }

    #[test]
    fn two_hundred_rate_limited_queries_ban() {
        let t = Instant::now();
        let (mut p, counters) = protocol(t);
        let flood = PeerId::random();
        let mut banned_at = None;
        for i in 0..300 {
            let (verdict, actions) = p.on_message(flood, flood, &query("q"), t);
            if actions == vec![Action::Ban(flood)] {
                banned_at = Some(i);
            }
            if i >= 10 && banned_at.is_none() {
                assert_eq!(verdict, Verdict::Ignore);
            }
        }
        // Ten answered, then the 200th refused one bans.
        assert_eq!(banned_at, Some(209));
        assert_eq!(counters.snapshot().rate_limited, 200);
        assert_eq!(counters.snapshot().from_banned, 90);
    }

    #[test]
    fn bad_blocks_count_as_malformed_strikes() {
        let (mut p, _) = protocol(Instant::now());
        let liar = PeerId::random();
        for _ in 0..19 {
            assert_eq!(p.strike(liar, Strike::Malformed), vec![]);
        }
        assert_eq!(p.strike(liar, Strike::Malformed), vec![Action::Ban(liar)]);
        assert_eq!(p.strike(liar, Strike::Malformed), vec![], "banned once");
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_query_with_no_answer_ends_after_three_seconds() {
        let t = Instant::now();
        let (mut p, _) = protocol(t);
        let (query, message) = p.start_query(stream(), t);
        assert_eq!(message, Message::Query(Query { id: query_id(&stream()), stream: stream() }));
        assert_eq!(p.next_deadline(), t + ms(3000));
        assert_eq!(p.on_tick(t + ms(2999), 0), vec![]);
        assert_eq!(p.on_tick(t + ms(3000), 0), vec![Action::QueryDone { query, tips: vec![] }]);
        assert_eq!(p.on_tick(t + ms(3001), 0), vec![], "ended once");
    }

    #[test]
    fn a_query_collects_distinct_tips_until_300_ms_after_the_last_answer() {
        let t = Instant::now();
        let (mut p, counters) = protocol(t);
        let (query, _) = p.start_query(stream(), t);
        let id = query_id(&stream());
        let (a, b, c) = (PeerId::random(), PeerId::random(), PeerId::random());
        assert_eq!(p.on_message(a, a, &response(&id, cid(1)), t + ms(1000)).0, Verdict::Accept);
        assert_eq!(p.next_deadline(), t + ms(1300));
        p.on_message(b, b, &response(&id, cid(2)), t + ms(1200));
        p.on_message(c, c, &response(&id, cid(1)), t + ms(1250)); // a tip already known
        p.on_message(c, c, &response("another query", cid(3)), t + ms(1400));
        assert_eq!(p.next_deadline(), t + ms(1550));
        assert_eq!(p.on_tick(t + ms(1549), 0), vec![]);
        let tips = vec![(a, cid(1)), (b, cid(2))];
        assert_eq!(p.on_tick(t + ms(1550), 0), vec![Action::QueryDone { query, tips }]);
        assert_eq!(counters.snapshot().responses_received, 4);
    }

    #[test]
    fn a_query_answered_steadily_still_ends_after_three_seconds() {
        let t = Instant::now();
        let (mut p, _) = protocol(t);
        let (query, _) = p.start_query(stream(), t);
        let id = query_id(&stream());
        let peer = PeerId::random();
        for n in 1..=14 {
            let now = t + ms(200 * n);
            assert_eq!(p.on_tick(now, 0), vec![]);
            p.on_message(peer, peer, &response(&id, cid(n as u8)), now);
        }
        let tips: Vec<_> = (1..=14).map(|n| (peer, cid(n))).collect();
        assert_eq!(p.on_tick(t + ms(3000), 0), vec![Action::QueryDone { query, tips }]);
    }

    #[test]
    fn two_queries_for_one_stream_each_get_the_answers() {
        let t = Instant::now();
        let (mut p, _) = protocol(t);
        let (first, _) = p.start_query(stream(), t);
        let (second, _) = p.start_query(stream(), t + ms(100));
        let (cancelled, _) = p.start_query(stream(), t + ms(100));
        p.cancel_query(cancelled);
        let peer = PeerId::random();
        p.on_message(peer, peer, &response(&query_id(&stream()), cid(1)), t + ms(200));
        let tips = vec![(peer, cid(1))];
        assert_eq!(
            p.on_tick(t + ms(500), 0),
            vec![
                Action::QueryDone { query: first, tips: tips.clone() },
                Action::QueryDone { query: second, tips }
            ]
        );
    }

    #[test]
    fn a_keepalive_goes_out_after_thirty_quiet_seconds() {
        let t = Instant::now();
        let (mut p, _) = protocol(t);
        assert_eq!(p.next_deadline(), t + ms(30_000));
        assert_eq!(p.on_tick(t + ms(29_999), 7), vec![]);
        let keepalive = Message::Keepalive(Keepalive {
            ts: 42,
            ver: VERSION.into(),
            ipfs_ver: format!("rust-libp2p/ceramic-rs-{VERSION}"),
        });
        assert_eq!(p.on_tick(t + ms(30_000), 42), vec![Action::Publish(keepalive)]);
        assert_eq!(p.next_deadline(), t + ms(60_000));
        // Anything published postpones the next one.
        p.published(t + ms(50_000));
        assert_eq!(p.on_tick(t + ms(60_000), 0), vec![]);
        assert_eq!(p.next_deadline(), t + ms(80_000));
    }
}
