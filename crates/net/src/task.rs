//! The swarm task: the one task that owns the libp2p [`Swarm`]. It drives the swarm, feeds
//! what arrives (pubsub messages, announcements, the clock) to the [`Protocol`] state machine
//! and carries out the [`Action`]s it returns, answers the [`NetworkHandle`]'s
//! [`Command`]s, and tracks its own requests in flight (block requests, Kademlia lookups,
//! queries). It never reads the store: block requests, QUERY answers and Bitswap notifications
//! go to the store worker ([`crate::serve`]) and come back as [`Done`]s. It never sleeps: it
//! waits for the swarm, its channels, or the protocol's next deadline.
//!
//! [`NetworkHandle`]: crate::NetworkHandle

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ceramic_codecs::{Block, Cid};
use ceramic_streamid::StreamId;
use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance};
use libp2p::multiaddr::Protocol as AddrProtocol;
use libp2p::request_response::{self, OutboundRequestId};
use libp2p::swarm::{ConnectionId, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, identify, kad};
use serde_bytes::ByteBuf;
use tokio::sync::{mpsc, oneshot, watch};

use crate::bans::Strike;
use crate::blocks::{BlockRequest, BlockResponse, check_response};
use crate::error::{Error, FetchError};
use crate::handle::Command;
use crate::message::Message;
use crate::network::Shared;
use crate::protocol::{Action, Protocol, QueryToken, Verdict};
use crate::serve::{Done, Job, Reader};
use crate::stats::Counters;
use crate::swarm::{Behaviour, BehaviourEvent};
use crate::sync::spawn_update;

/// Where the blocks of a request go.
type BlocksReply = oneshot::Sender<Result<Vec<Block>, FetchError>>;
/// Where the tips of a query go.
type QueryReply = oneshot::Sender<Result<Vec<(PeerId, Cid)>, Error>>;

/// The task's channels to the rest of the node.
#[derive(Debug)]
pub(crate) struct Inputs {
    /// From the [`NetworkHandle`](crate::NetworkHandle)s and the block fetcher.
    pub(crate) commands: mpsc::Receiver<Command>,
    /// From the engine's [`Announcer`](crate::Announcer).
    pub(crate) announcements: mpsc::Receiver<(StreamId, Cid)>,
    /// The peers on the topic, for handles waiting for one.
    pub(crate) on_topic: watch::Sender<HashSet<PeerId>>,
}

/// The swarm task's state.
pub(crate) struct Task {
    swarm: Swarm<Behaviour>,
    topic: IdentTopic,
    shared: Arc<Shared>,
    inputs: Inputs,
    protocol: Protocol,
    /// Store reads for the worker, and their results.
    jobs: mpsc::Sender<Job>,
    done: mpsc::Receiver<Done>,
    /// Queries published, by token: who waits for their tips.
    queries: HashMap<QueryToken, QueryReply>,
    /// Block requests in flight.
    requests: HashMap<OutboundRequestId, (Vec<Cid>, BlocksReply)>,
    /// Kademlia provider lookups in flight: the providers found so far and who waits.
    lookups: HashMap<kad::QueryId, (HashSet<PeerId>, oneshot::Sender<Vec<PeerId>>)>,
    /// Fault injection: serve corrupt blocks (shared with Bitswap's store, which must refuse).
    corrupt: Arc<AtomicBool>,
    /// What is known of each connected peer's addresses.
    addresses: HashMap<PeerId, PeerAddresses>,
}

/// A connected peer's addresses: its open connections' remote addresses, and the listen
/// addresses it announced through identify.
#[derive(Debug, Default)]
struct PeerAddresses {
    connections: HashMap<ConnectionId, Multiaddr>,
    announced: Vec<Multiaddr>,
}

impl PeerAddresses {
    /// The announced addresses, or the connections' when none were announced; each with
    /// `/p2p/<peer>`, deduplicated.
    fn known(&self, peer: PeerId) -> Vec<Multiaddr> {
        let from = if self.announced.is_empty() {
            self.connections.values().cloned().collect()
        } else {
            self.announced.clone()
        };
        let mut known: Vec<Multiaddr> = from.into_iter().map(|a| with_peer(a, peer)).collect();
        known.sort();
        known.dedup();
        known
    }
}

/// `addr` ending in `/p2p/<peer>` (added when missing).
fn with_peer(addr: Multiaddr, peer: PeerId) -> Multiaddr {
    match addr.iter().last() {
        Some(AddrProtocol::P2p(_)) => addr,
        _ => addr.with(AddrProtocol::P2p(peer)),
    }
}

impl Task {
    /// A task for `swarm` (already listening and subscribed to `topic`); spawns its store
    /// worker on the current runtime.
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        topic: IdentTopic,
        shared: Arc<Shared>,
        inputs: Inputs,
        corrupt: Arc<AtomicBool>,
    ) -> Self {
        let reader = Reader {
            storage: shared.storage.clone(),
            counters: shared.counters.clone(),
            corrupt: corrupt.clone(),
        };
        let (jobs, done) = crate::serve::spawn(reader);
        let protocol = Protocol::new(&shared.config, shared.counters.clone(), Instant::now());
        Task {
            swarm,
            topic,
            shared,
            inputs,
            protocol,
            jobs,
            done,
            queries: HashMap::new(),
            requests: HashMap::new(),
            lookups: HashMap::new(),
            corrupt,
            addresses: HashMap::new(),
        }
    }

    /// Runs until [`Command::Shutdown`] or every handle is gone.
    pub(crate) async fn run(mut self) {
        let timer = tokio::time::sleep_until(self.protocol.next_deadline().into());
        tokio::pin!(timer);
        loop {
            timer.as_mut().reset(self.protocol.next_deadline().into());
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.inputs.commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(command) => self.on_command(command),
                },
                Some((stream, tip)) = self.inputs.announcements.recv() => {
                    let actions = self.protocol.on_announce(stream, tip);
                    self.execute(actions);
                }
                Some(done) = self.done.recv() => self.on_done(done),
                () = &mut timer => {
                    let actions = self.protocol.on_tick(Instant::now(), wall_ms());
                    self.execute(actions);
                }
            }
        }
        tracing::debug!("network task stopped");
    }

    fn execute(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Publish(message) => self.publish_counted(&message),
                Action::Answer { id, stream } => self.submit(Job::Answer { id, stream }),
                Action::StartSync { stream, tip, from } => {
                    spawn_update(&self.shared, stream, tip, from);
                }
                Action::Ban(peer) => {
                    self.swarm.behaviour_mut().blocked.block_peer(peer);
                }
                Action::Provide(stream) => {
                    let key = kad::RecordKey::new(&stream.cid().to_bytes());
                    if let Err(e) = self.swarm.behaviour_mut().kad.start_providing(key) {
                        tracing::debug!(%stream, error = %e, "not providing");
                    }
                }
                Action::NotifyBitswap(tip) => {
                    if self.swarm.behaviour().bitswap.is_enabled() {
                        self.submit(Job::Notify(tip));
                    }
                }
                Action::QueryDone { query, tips } => {
                    if let Some(reply) = self.queries.remove(&query) {
                        let _ = reply.send(Ok(tips));
                    }
                }
            }
        }
    }

    /// Hands a store read to the worker without waiting; a full queue drops it.
    fn submit(&mut self, job: Job) {
        if let Err(e) = self.jobs.try_send(job) {
            tracing::warn!(job = ?e.into_inner(), "store worker busy or gone: job dropped");
        }
    }

    fn on_done(&mut self, done: Done) {
        match done {
            Done::Serve { peer, id, channel, response } => {
                if self.swarm.behaviour_mut().blocks.send_response(channel, response).is_err() {
                    tracing::debug!(%peer, %id, "block response not sent: connection gone");
                }
            }
            Done::Answer(response) => self.publish_counted(&response),
            Done::Notify(blocks) => {
                if let Some(bitswap) = self.swarm.behaviour_mut().bitswap.as_mut() {
                    for block in &blocks {
                        bitswap.notify(block);
                    }
                }
            }
        }
    }

    /// Publishes a message of the protocol and counts it.
    fn publish_counted(&mut self, message: &Message) {
        let counters = &self.shared.counters.clone();
        match self.publish(message) {
            Ok(()) => match message {
                Message::Update(_) => Counters::inc(&counters.updates_published),
                Message::Response(_) => Counters::inc(&counters.responses_sent),
                Message::Keepalive(_) => Counters::inc(&counters.keepalives_sent),
                _ => {}
            },
            Err(e) => tracing::debug!(message = ?message, error = %e, "not published"),
        }
    }

    fn publish(&mut self, message: &Message) -> Result<(), Error> {
        self.publish_bytes(message.encode())
    }

    fn publish_bytes(&mut self, bytes: Vec<u8>) -> Result<(), Error> {
        self.swarm
            .behaviour_mut()
            .gossipsub
            .publish(self.topic.clone(), bytes)
            .map_err(|e| Error::Publish(e.to_string()))?;
        self.protocol.published(Instant::now());
        Ok(())
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Publish { message, reply } => {
                let _ = reply.send(self.publish(&message));
            }
            Command::PublishRaw { bytes, reply } => {
                let _ = reply.send(self.publish_bytes(bytes));
            }
            Command::Query { stream, reply } => {
                let protocol = &mut self.protocol;
                self.queries.retain(|query, reply| {
                    if reply.is_closed() {
                        protocol.cancel_query(*query);
                    }
                    !reply.is_closed()
                });
                let (query, message) = self.protocol.start_query(stream, Instant::now());
                match self.publish(&message) {
                    Ok(()) => {
                        self.queries.insert(query, reply);
                    }
                    Err(e) => {
                        self.protocol.cancel_query(query);
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Command::Request { peer, cids, reply } => {
                let request = BlockRequest {
                    cids: cids.iter().map(|c| ByteBuf::from(c.to_bytes())).collect(),
                };
                let id = self.swarm.behaviour_mut().blocks.send_request(&peer, request);
                self.requests.insert(id, (cids, reply));
            }
            Command::FindProviders { stream, reply } => {
                let key = kad::RecordKey::new(&stream.cid().to_bytes());
                let id = self.swarm.behaviour_mut().kad.get_providers(key);
                self.lookups.insert(id, (HashSet::new(), reply));
            }
            Command::Peers { reply } => {
                let _ = reply.send(self.swarm.connected_peers().copied().collect());
            }
            Command::PeerAddresses { reply } => {
                let mut peers: Vec<(PeerId, Vec<Multiaddr>)> = self
                    .swarm
                    .connected_peers()
                    .map(|peer| {
                        let known = self.addresses.get(peer).map(|a| a.known(*peer));
                        (*peer, known.unwrap_or_default())
                    })
                    .collect();
                peers.sort();
                let _ = reply.send(peers);
            }
            Command::BitswapStats { reply } => {
                let stats = self.swarm.behaviour().bitswap.as_ref().map(|b| b.stats());
                let _ = reply.send(stats);
            }
            Command::TopicPeers { reply } => {
                let _ = reply.send(self.topic_peers().into_iter().collect());
            }
            Command::Dial { addr, reply } => {
                let result = self
                    .swarm
                    .dial(addr.clone())
                    .map_err(|e| Error::Address { addr: addr.to_string(), reason: e.to_string() });
                let _ = reply.send(result);
            }
            Command::Block { peer } => {
                self.swarm.behaviour_mut().blocked.block_peer(peer);
            }
            Command::Unblock { peer } => {
                self.swarm.behaviour_mut().blocked.unblock_peer(peer);
            }
            Command::CorruptServing(on) => self.corrupt.store(on, Ordering::Relaxed),
            Command::Shutdown => {}
        }
    }

    /// The peers gossipsub knows to be subscribed to the topic.
    fn topic_peers(&self) -> HashSet<PeerId> {
        let hash = self.topic.hash();
        let gossipsub = &self.swarm.behaviour().gossipsub;
        gossipsub
            .all_peers()
            .filter(|(_, topics)| topics.contains(&&hash))
            .map(|(p, _)| *p)
            .collect()
    }

    /// Publishes the topic's peers to the handles if they changed.
    fn update_topic_peers(&mut self) {
        let peers = self.topic_peers();
        self.inputs.on_topic.send_if_modified(|current| {
            let changed = *current != peers;
            if changed {
                *current = peers;
            }
            changed
        });
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(event)) => self.on_gossipsub(event),
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
                if let Some(known) = self.addresses.get_mut(&peer_id) {
                    known.announced.clone_from(&info.listen_addrs);
                }
                for addr in info.listen_addrs {
                    self.swarm.behaviour_mut().kad.add_address(&peer_id, addr);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Blocks(event)) => self.on_blocks(event),
            SwarmEvent::Behaviour(BehaviourEvent::Bitswap(event)) => {
                tracing::debug!(?event, "bitswap");
            }
            SwarmEvent::Behaviour(BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
                id,
                result: kad::QueryResult::GetProviders(result),
                step,
                ..
            })) => {
                if let Some((found, _)) = self.lookups.get_mut(&id)
                    && let Ok(kad::GetProvidersOk::FoundProviders { providers, .. }) = result
                {
                    found.extend(providers);
                }
                if step.last
                    && let Some((found, reply)) = self.lookups.remove(&id)
                {
                    let me = *self.swarm.local_peer_id();
                    let found: Vec<PeerId> = found.into_iter().filter(|p| *p != me).collect();
                    for peer in &found {
                        if !self.swarm.is_connected(peer)
                            && let Err(e) = self.swarm.dial(*peer)
                        {
                            tracing::debug!(%peer, error = %e, "cannot dial provider");
                        }
                    }
                    let _ = reply.send(found);
                }
            }
            SwarmEvent::ConnectionEstablished { peer_id, connection_id, endpoint, .. } => {
                let addr = endpoint.get_remote_address().clone();
                tracing::debug!(%peer_id, %addr, "connected");
                self.addresses.entry(peer_id).or_default().connections.insert(connection_id, addr);
            }
            SwarmEvent::ConnectionClosed { peer_id, connection_id, cause, .. } => {
                tracing::debug!(%peer_id, ?cause, "connection closed");
                if let Some(known) = self.addresses.get_mut(&peer_id) {
                    known.connections.remove(&connection_id);
                    if known.connections.is_empty() {
                        self.addresses.remove(&peer_id);
                    }
                }
                self.update_topic_peers();
            }
            _ => {}
        }
    }

    fn on_gossipsub(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message { propagation_source, message_id, message } => {
                let author = message.source.unwrap_or(propagation_source);
                let (verdict, actions) = self.protocol.on_message(
                    author,
                    propagation_source,
                    &message.data,
                    Instant::now(),
                );
                self.execute(actions);
                let acceptance = match verdict {
                    Verdict::Accept => MessageAcceptance::Accept,
                    Verdict::Reject => MessageAcceptance::Reject,
                    Verdict::Ignore => MessageAcceptance::Ignore,
                };
                let _ = self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                    &message_id,
                    &propagation_source,
                    acceptance,
                );
            }
            gossipsub::Event::Subscribed { .. } | gossipsub::Event::Unsubscribed { .. } => {
                self.update_topic_peers();
            }
            _ => {}
        }
    }

    fn on_blocks(&mut self, event: request_response::Event<BlockRequest, BlockResponse>) {
        let counters = self.shared.counters.clone();
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request_id, request, channel } => {
                    self.submit(Job::Serve { peer, id: request_id, request, channel });
                }
                request_response::Message::Response { request_id, response } => {
                    if let Some((asked, reply)) = self.requests.remove(&request_id) {
                        let (good, bad) = check_response(&asked, response);
                        for _ in 0..bad {
                            Counters::inc(&counters.bad_blocks);
                        }
                        for _ in &good {
                            Counters::inc(&counters.blocks_fetched);
                        }
                        if bad > 0 {
                            tracing::warn!(%peer, bad, "peer sent blocks that do not match their CIDs");
                            let actions = self.protocol.strike(peer, Strike::Malformed);
                            self.execute(actions);
                        }
                        let _ = reply.send(Ok(good));
                    }
                }
            },
            request_response::Event::OutboundFailure { request_id, peer, error, .. } => {
                if let Some((asked, reply)) = self.requests.remove(&request_id) {
                    tracing::debug!(%peer, %error, "block request failed");
                    let cid = asked.first().copied().unwrap_or_default();
                    let _ = reply.send(Err(FetchError::NotFound(Box::new(cid))));
                }
            }
            _ => {}
        }
    }
}

/// Milliseconds since the epoch (0 if the clock is before it), for KEEPALIVE.
fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
