//! The swarm task: one task owns the libp2p [`Swarm`]; the [`NetworkHandle`] and the engine's
//! [`Announcer`] talk to it through bounded channels.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ceramic_codecs::{Block, Cid};
use ceramic_engine::{ApplyError, Engine, Publisher};
use ceramic_storage::Storage;
use ceramic_streamid::StreamId;
use futures::StreamExt;
use libp2p::gossipsub::{self, IdentTopic, MessageAcceptance};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{
    Multiaddr, PeerId, StreamProtocol, Swarm, allow_block_list, connection_limits, identify, kad,
    noise, ping, tcp, yamux,
};
use serde_bytes::ByteBuf;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::blocks::{
    BLOCKS_PROTOCOL, BlockFetcher, BlockRequest, BlockResponse, FallbackFetcher, MAX_REQUEST_CIDS,
    MAX_RESPONSE_BYTES, RequestFetcher, StorageBlocks, check_response, envelope_link,
};
use crate::config::{Config, Follow};
use crate::error::{Error, FetchError};
use crate::limits::{RateLimiter, Recent};
use crate::message::{
    Keepalive, MAX_MESSAGE_SIZE, Message, ParseError, Query, Response, Update, query_id,
};
use crate::stats::{Counters, Stats};
use crate::sync::sync_tip;

/// The Kademlia protocol name (the IPFS DHT's, as ceramic-one uses; provider records only).
const KAD_PROTOCOL: &str = "/ipfs/kad/1.0.0";
/// How many announcements may wait for the network task.
const ANNOUNCE_QUEUE: usize = 4096;
/// How many commands may wait for the network task.
const COMMAND_QUEUE: usize = 1024;
/// The largest gossipsub frame accepted: above the pubsub limit, so that oversized Ceramic
/// messages reach our own check (and are counted) instead of vanishing in the transport.
const MAX_TRANSMIT: usize = 4 * MAX_MESSAGE_SIZE;
/// Authors tracked for strikes before the table is reset.
const MAX_TRACKED: usize = 10_000;
/// Our version, sent in KEEPALIVE.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The composed libp2p behaviour.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    limits: connection_limits::Behaviour,
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    gossipsub: gossipsub::Behaviour,
    kad: kad::Behaviour<kad::store::MemoryStore>,
    blocks: request_response::cbor::Behaviour<BlockRequest, BlockResponse>,
    /// Off when [`Config::bitswap`] is false.
    bitswap: Toggle<ceramic_bitswap::Bitswap>,
}

/// Where the blocks of a request go.
type BlocksReply = oneshot::Sender<Result<Vec<Block>, FetchError>>;

/// Messages to the network task.
#[derive(Debug)]
pub(crate) enum Command {
    Publish {
        message: Message,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    PublishRaw {
        bytes: Vec<u8>,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    Query {
        stream: StreamId,
        responses: mpsc::Sender<(PeerId, Response)>,
        reply: oneshot::Sender<Result<String, Error>>,
    },
    Request {
        peer: PeerId,
        cids: Vec<Cid>,
        reply: oneshot::Sender<Result<Vec<Block>, FetchError>>,
    },
    Peers {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    BitswapStats {
        reply: oneshot::Sender<Option<ceramic_bitswap::Stats>>,
    },
    FindProviders {
        stream: StreamId,
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    TopicPeers {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    Dial {
        addr: Multiaddr,
        reply: oneshot::Sender<Result<(), Error>>,
    },
    Block {
        peer: PeerId,
    },
    Unblock {
        peer: PeerId,
    },
    /// Fault injection for tests: serve blocks with their last byte flipped.
    #[cfg_attr(not(any(test, feature = "test-utils")), allow(dead_code))] // sent only by tests
    CorruptServing(bool),
    Shutdown,
}

/// The engine's [`Publisher`]: queues each new tip for the network task, which publishes an
/// UPDATE. Never blocks: when the queue is full the announcement is dropped and counted.
#[derive(Debug, Clone)]
pub struct Announcer {
    tx: mpsc::Sender<(StreamId, Cid)>,
    counters: Arc<Counters>,
}

/// The receiving end of an [`Announcer`], handed to [`Network::start`].
#[derive(Debug)]
pub struct Announcements {
    rx: mpsc::Receiver<(StreamId, Cid)>,
    counters: Arc<Counters>,
}

/// An announcer for the engine and its receiving end for [`Network::start`] (the engine is
/// built before the network, which needs it).
pub fn announcer() -> (Announcer, Announcements) {
    let (tx, rx) = mpsc::channel(ANNOUNCE_QUEUE);
    let counters = Arc::new(Counters::default());
    (Announcer { tx, counters: counters.clone() }, Announcements { rx, counters })
}

impl Publisher for Announcer {
    fn publish_update(&self, stream: &StreamId, tip: &Cid) {
        if self.tx.try_send((*stream, *tip)).is_err() {
            Counters::inc(&self.counters.announcements_dropped);
            tracing::warn!(%stream, %tip, "announcement queue full or closed: UPDATE dropped");
        }
    }
}

/// What the sync tasks share.
pub(crate) struct Shared {
    pub(crate) engine: Arc<Engine>,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) fetcher: Arc<dyn BlockFetcher>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) config: Config,
    pub(crate) syncs: Arc<Semaphore>,
    /// Syncs of one stream run one at a time, so that a burst of UPDATEs does not fetch the
    /// same blocks in parallel: each later tip then finds its `prev` stored.
    pub(crate) stream_locks: std::sync::Mutex<HashMap<StreamId, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("fetcher", &self.fetcher).finish_non_exhaustive()
    }
}

/// A running node's network: clone it freely; every method talks to the network task.
#[derive(Debug, Clone)]
pub struct NetworkHandle {
    commands: mpsc::Sender<Command>,
    shared: Arc<Shared>,
    peer_id: PeerId,
    listen_addrs: Vec<Multiaddr>,
}

/// Starts the network layer.
#[derive(Debug)]
pub struct Network;

impl Network {
    /// Builds the swarm (TCP + noise + yamux; identify, ping, gossipsub, Kademlia, the block
    /// protocol, Bitswap unless [`Config::bitswap`] is off, connection limits and a block
    /// list), listens, subscribes to the topic, dials the
    /// bootstrap peers, and spawns the network task on the current tokio runtime. Returns once
    /// every listen address is bound.
    ///
    /// `announcements` is the other end of the [`Announcer`] given to `engine`; `storage` is the
    /// engine's store (blocks served to peers, states answered to queries, pins).
    ///
    /// # Errors
    /// [`Error::Transport`] or [`Error::Address`] when the swarm cannot be built or listen.
    pub async fn start(
        config: Config,
        engine: Arc<Engine>,
        storage: Arc<dyn Storage>,
        announcements: Announcements,
    ) -> Result<(NetworkHandle, JoinHandle<()>), Error> {
        let keypair =
            config.keypair.clone().unwrap_or_else(libp2p::identity::Keypair::generate_ed25519);
        let corrupt = Arc::new(AtomicBool::new(false));
        let bitswap = config.bitswap.then(|| {
            let store = StorageBlocks { storage: storage.clone(), corrupt: corrupt.clone() };
            let bitswap_config = ceramic_bitswap::Config::default()
                .with_timeout(config.bitswap_timeout)
                .with_store_received(false);
            ceramic_bitswap::Bitswap::new(Arc::new(store), bitswap_config)
        });
        let bitswap_client = bitswap.as_ref().map(ceramic_bitswap::Bitswap::client);
        let mut swarm = build_swarm(keypair, &config, bitswap)?;
        let peer_id = *swarm.local_peer_id();
        let topic = IdentTopic::new(config.topic_name());
        swarm
            .behaviour_mut()
            .gossipsub
            .subscribe(&topic)
            .map_err(|e| Error::Transport(e.to_string()))?;
        for addr in &config.listen {
            swarm
                .listen_on(addr.clone())
                .map_err(|e| Error::Address { addr: addr.to_string(), reason: e.to_string() })?;
        }
        let mut listen_addrs = Vec::new();
        while listen_addrs.len() < config.listen.len() {
            match swarm.select_next_some().await {
                SwarmEvent::NewListenAddr { address, .. } => listen_addrs.push(address),
                SwarmEvent::ListenerError { error, .. } => {
                    return Err(Error::Transport(error.to_string()));
                }
                SwarmEvent::ListenerClosed { reason: Err(error), .. } => {
                    return Err(Error::Transport(error.to_string()));
                }
                _ => {}
            }
        }
        for addr in &config.bootstrap {
            if let Some(peer) = peer_of(addr) {
                swarm.behaviour_mut().kad.add_address(&peer, addr.clone());
            }
            if let Err(e) = swarm.dial(addr.clone()) {
                tracing::warn!(%addr, error = %e, "cannot dial bootstrap peer");
            }
        }
        let (commands, rx) = mpsc::channel(COMMAND_QUEUE);
        let counters = announcements.counters.clone();
        let first = RequestFetcher { commands: commands.clone(), timeout: config.request_timeout };
        let fetcher: Arc<dyn BlockFetcher> = match bitswap_client {
            Some(bitswap) => {
                Arc::new(FallbackFetcher { first, bitswap, timeout: config.bitswap_timeout })
            }
            None => Arc::new(first),
        };
        let shared = Arc::new(Shared {
            engine,
            storage,
            fetcher,
            counters,
            syncs: Arc::new(Semaphore::new(config.max_concurrent_syncs.max(1))),
            stream_locks: std::sync::Mutex::new(HashMap::new()),
            config: config.clone(),
        });
        let task = Task {
            swarm,
            topic,
            shared: shared.clone(),
            commands: rx,
            announcements: announcements.rx,
            queries: HashMap::new(),
            requests: HashMap::new(),
            lookups: HashMap::new(),
            seen: Recent::new(config.seen_tips),
            query_limiter: RateLimiter::new(config.query_rate_per_peer, config.query_rate_global),
            malformed: HashMap::new(),
            limited: HashMap::new(),
            banned: HashSet::new(),
            last_publish: Instant::now(),
            corrupt_serving: corrupt,
        };
        let join = tokio::spawn(task.run());
        Ok((NetworkHandle { commands, shared, peer_id, listen_addrs }, join))
    }
}

fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    addr.iter().find_map(|p| match p {
        libp2p::multiaddr::Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}

fn build_swarm(
    keypair: libp2p::identity::Keypair,
    config: &Config,
    bitswap: Option<ceramic_bitswap::Bitswap>,
) -> Result<Swarm<Behaviour>, Error> {
    let heartbeat = config.heartbeat;
    let max_connections = config.max_connections;
    let request_timeout = config.request_timeout;
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, yamux::Config::default)
        .map_err(|e| Error::Transport(e.to_string()))?
        .with_behaviour(|key| {
            let peer_id = key.public().to_peer_id();
            let gossip_config = gossipsub::ConfigBuilder::default()
                .heartbeat_interval(heartbeat)
                .max_transmit_size(MAX_TRANSMIT)
                .validation_mode(gossipsub::ValidationMode::Strict)
                .validate_messages()
                .flood_publish(true)
                .build()?;
            let gossipsub = gossipsub::Behaviour::new(
                gossipsub::MessageAuthenticity::Signed(key.clone()),
                gossip_config,
            )?;
            let mut kad_config = kad::Config::new(StreamProtocol::new(KAD_PROTOCOL));
            kad_config.set_record_ttl(None);
            let mut kad = kad::Behaviour::with_config(
                peer_id,
                kad::store::MemoryStore::new(peer_id),
                kad_config,
            );
            kad.set_mode(Some(kad::Mode::Server));
            let codec = request_response::cbor::codec::Codec::default()
                .set_request_size_maximum(64 * 1024)
                .set_response_size_maximum(MAX_RESPONSE_BYTES as u64 + 64 * 1024);
            let blocks = request_response::Behaviour::with_codec(
                codec,
                [(StreamProtocol::new(BLOCKS_PROTOCOL), ProtocolSupport::Full)],
                request_response::Config::default().with_request_timeout(request_timeout),
            );
            Ok(Behaviour {
                blocked: Default::default(),
                limits: connection_limits::Behaviour::new(
                    connection_limits::ConnectionLimits::default()
                        .with_max_established(Some(max_connections))
                        .with_max_established_per_peer(Some(4)),
                ),
                identify: identify::Behaviour::new(
                    identify::Config::new("ipfs/0.1.0".into(), key.public())
                        .with_agent_version(format!("ceramic-rs/{VERSION}")),
                ),
                ping: ping::Behaviour::default(),
                gossipsub,
                kad,
                blocks,
                bitswap: bitswap.into(),
            })
        })
        .map_err(|e| Error::Transport(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    Ok(swarm)
}

struct Task {
    swarm: Swarm<Behaviour>,
    topic: IdentTopic,
    shared: Arc<Shared>,
    commands: mpsc::Receiver<Command>,
    announcements: mpsc::Receiver<(StreamId, Cid)>,
    /// Open queries by id: where their RESPONSEs go.
    queries: HashMap<String, Vec<mpsc::Sender<(PeerId, Response)>>>,
    /// Block requests in flight.
    requests: HashMap<request_response::OutboundRequestId, (Vec<Cid>, BlocksReply)>,
    /// Kademlia provider lookups in flight: the providers found so far and who waits.
    lookups: HashMap<kad::QueryId, (HashSet<PeerId>, oneshot::Sender<Vec<PeerId>>)>,
    seen: Recent<(StreamId, Cid)>,
    query_limiter: RateLimiter<PeerId>,
    malformed: HashMap<PeerId, u32>,
    limited: HashMap<PeerId, u32>,
    banned: HashSet<PeerId>,
    last_publish: Instant,
    /// Fault injection: serve corrupt blocks (shared with Bitswap's store, which must refuse).
    corrupt_serving: Arc<AtomicBool>,
}

impl Task {
    async fn run(mut self) {
        let mut keepalive =
            tokio::time::interval(self.shared.config.keepalive.max(Duration::from_millis(100)) / 2);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown) | None => break,
                    Some(command) => self.on_command(command),
                },
                Some((stream, tip)) = self.announcements.recv() => {
                    self.seen.insert((stream, tip));
                    let update = Message::Update(Update { stream, tip, model: None });
                    match self.publish(&update) {
                        Ok(()) => Counters::inc(&self.shared.counters.updates_published),
                        Err(e) => tracing::debug!(%stream, %tip, error = %e, "UPDATE not published"),
                    }
                    self.notify_bitswap(tip);
                    let key = kad::RecordKey::new(&stream.cid().to_bytes());
                    if let Err(e) = self.swarm.behaviour_mut().kad.start_providing(key) {
                        tracing::debug!(%stream, error = %e, "not providing");
                    }
                }
                _ = keepalive.tick() => {
                    if self.last_publish.elapsed() >= self.shared.config.keepalive {
                        let ts = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
                        let message = Message::Keepalive(Keepalive {
                            ts,
                            ver: VERSION.into(),
                            ipfs_ver: format!("rust-libp2p/ceramic-rs-{VERSION}"),
                        });
                        if self.publish(&message).is_ok() {
                            Counters::inc(&self.shared.counters.keepalives_sent);
                        } else {
                            // Nobody to talk to: try again at the next tick.
                            self.last_publish = Instant::now();
                        }
                    }
                }
            }
        }
        tracing::debug!("network task stopped");
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
        self.last_publish = Instant::now();
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
            Command::Query { stream, responses, reply } => {
                let id = query_id(&stream);
                let senders = self.queries.entry(id.clone()).or_default();
                senders.retain(|s| !s.is_closed());
                senders.push(responses);
                let message = Message::Query(Query { id: id.clone(), stream });
                let _ = reply.send(self.publish(&message).map(|()| id));
                self.queries.retain(|_, senders| {
                    senders.retain(|s| !s.is_closed());
                    !senders.is_empty()
                });
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
            Command::BitswapStats { reply } => {
                let stats = self.swarm.behaviour().bitswap.as_ref().map(|b| b.stats());
                let _ = reply.send(stats);
            }
            Command::TopicPeers { reply } => {
                let hash = self.topic.hash();
                let peers = self
                    .swarm
                    .behaviour()
                    .gossipsub
                    .all_peers()
                    .filter(|(_, topics)| topics.contains(&&hash))
                    .map(|(p, _)| *p)
                    .collect();
                let _ = reply.send(peers);
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
            Command::CorruptServing(on) => self.corrupt_serving.store(on, Ordering::Relaxed),
            Command::Shutdown => {}
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => {
                let author = message.source.unwrap_or(propagation_source);
                let acceptance = self.on_pubsub(author, propagation_source, &message.data);
                let _ = self.swarm.behaviour_mut().gossipsub.report_message_validation_result(
                    &message_id,
                    &propagation_source,
                    acceptance,
                );
            }
            SwarmEvent::Behaviour(BehaviourEvent::Identify(identify::Event::Received {
                peer_id,
                info,
                ..
            })) => {
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
            SwarmEvent::ConnectionEstablished { peer_id, endpoint, .. } => {
                tracing::debug!(%peer_id, addr = %endpoint.get_remote_address(), "connected");
            }
            SwarmEvent::ConnectionClosed { peer_id, cause, .. } => {
                tracing::debug!(%peer_id, ?cause, "connection closed");
            }
            _ => {}
        }
    }

    fn strike(&mut self, author: PeerId, rate_limited: bool) {
        let config = &self.shared.config;
        let (table, limit) = if rate_limited {
            (&mut self.limited, config.ban_after_rate_limited)
        } else {
            (&mut self.malformed, config.ban_after_malformed)
        };
        if table.len() >= MAX_TRACKED {
            table.clear();
        }
        let strikes = table.entry(author).or_insert(0);
        *strikes += 1;
        if *strikes >= limit && self.banned.insert(author) {
            tracing::warn!(peer = %author, rate_limited, "peer banned for misbehaving");
            Counters::inc(&self.shared.counters.peers_banned);
            self.swarm.behaviour_mut().blocked.block_peer(author);
        }
    }

    fn on_pubsub(&mut self, author: PeerId, from: PeerId, data: &[u8]) -> MessageAcceptance {
        let counters = self.shared.counters.clone();
        Counters::inc(&counters.messages_received);
        if self.banned.contains(&author) {
            Counters::inc(&counters.from_banned);
            return MessageAcceptance::Reject;
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
                self.strike(author, false);
                return MessageAcceptance::Reject;
            }
        };
        match message {
            Message::Update(update) => {
                Counters::inc(&counters.updates_received);
                if !self.seen.insert((update.stream, update.tip)) {
                    Counters::inc(&counters.updates_skipped);
                    return MessageAcceptance::Accept;
                }
                self.spawn_update(update, from);
                MessageAcceptance::Accept
            }
            Message::Query(query) => {
                Counters::inc(&counters.queries_received);
                if !self.query_limiter.allow(author, Instant::now()) {
                    Counters::inc(&counters.rate_limited);
                    tracing::debug!(peer = %author, "QUERY over the rate limit dropped");
                    self.strike(author, true);
                    return MessageAcceptance::Ignore;
                }
                match self.shared.storage.state(&query.stream) {
                    Ok(Some(state)) => {
                        let tips = [(query.stream, state.tip())].into_iter().collect();
                        let response = Message::Response(Response { id: query.id, tips });
                        match self.publish(&response) {
                            Ok(()) => Counters::inc(&counters.responses_sent),
                            Err(e) => tracing::debug!(error = %e, "RESPONSE not published"),
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(stream = %query.stream, error = %e, "cannot answer QUERY")
                    }
                }
                MessageAcceptance::Accept
            }
            Message::Response(response) => {
                Counters::inc(&counters.responses_received);
                if let Some(senders) = self.queries.get(&response.id) {
                    for sender in senders {
                        let _ = sender.try_send((from, response.clone()));
                    }
                }
                MessageAcceptance::Accept
            }
            Message::Keepalive(_) => MessageAcceptance::Accept,
        }
    }

    /// Syncs an UPDATE's tip in its own task, if the stream is followed.
    fn spawn_update(&self, update: Update, from: PeerId) {
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let storage = shared.storage.clone();
            let follow = shared.config.follow;
            let stream = update.stream;
            let followed = tokio::task::spawn_blocking(move || match follow {
                Follow::Stored => {
                    storage.state(&stream).map(|s| s.is_some()).map_err(|e| e.to_string())
                }
                Follow::Pinned => storage.is_pinned(&stream).map_err(|e| e.to_string()),
            })
            .await;
            match followed {
                Ok(Ok(true)) => {}
                Ok(Ok(false)) => {
                    Counters::inc(&shared.counters.updates_skipped);
                    return;
                }
                Ok(Err(e)) => {
                    tracing::warn!(%stream, error = %e, "cannot tell whether the stream is followed");
                    return;
                }
                Err(_) => return,
            }
            if let Err(e) = sync_tip(&shared, update.stream, update.tip, Some(from)).await {
                tracing::info!(stream = %update.stream, tip = %update.tip, error = %e, "UPDATE not applied");
            }
        });
    }

    fn on_blocks(&mut self, event: request_response::Event<BlockRequest, BlockResponse>) {
        let counters = self.shared.counters.clone();
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request { request, channel, .. } => {
                    let blocks = self.serve(&request);
                    if self
                        .swarm
                        .behaviour_mut()
                        .blocks
                        .send_response(channel, BlockResponse { blocks })
                        .is_err()
                    {
                        tracing::debug!(%peer, "block response not sent: connection gone");
                    }
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
                            self.strike(peer, false);
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

impl Task {
    /// Tells Bitswap that a new commit is stored (its envelope and payload), so that peers
    /// already waiting for it get it now.
    fn notify_bitswap(&mut self, tip: Cid) {
        let Some(bitswap) = self.swarm.behaviour_mut().bitswap.as_mut() else { return };
        let mut next = Some(tip);
        while let Some(cid) = next.take() {
            if let Ok(Some(block)) = self.shared.storage.block(&cid) {
                next = envelope_link(&block);
                bitswap.notify(&block);
            }
        }
    }

    /// The blocks of a request that this node has (each dag-jose envelope followed by its
    /// payload, which the asker will want next), within [`MAX_RESPONSE_BYTES`].
    fn serve(&self, request: &BlockRequest) -> Vec<(ByteBuf, ByteBuf)> {
        let counters = &self.shared.counters;
        let mut blocks = Vec::new();
        let mut size = 0;
        let mut queue: std::collections::VecDeque<Cid> = request
            .cids
            .iter()
            .take(MAX_REQUEST_CIDS)
            .filter_map(|c| Cid::try_from(c.as_slice()).ok())
            .collect();
        let mut sent = HashSet::new();
        while let Some(cid) = queue.pop_front() {
            if !sent.insert(cid) {
                continue;
            }
            let block = match self.shared.storage.block(&cid) {
                Ok(Some(block)) => block,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(%cid, error = %e, "cannot serve block");
                    continue;
                }
            };
            size += block.data().len();
            if size > MAX_RESPONSE_BYTES {
                break;
            }
            if let Some(payload) = envelope_link(&block) {
                queue.push_front(payload);
            }
            Counters::inc(&counters.blocks_served);
            let mut data = block.data().to_vec();
            if self.corrupt_serving.load(Ordering::Relaxed)
                && let Some(last) = data.last_mut()
            {
                *last ^= 1;
            }
            blocks.push((ByteBuf::from(cid.to_bytes()), ByteBuf::from(data)));
        }
        blocks
    }
}

impl NetworkHandle {
    async fn call<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, Error> {
        let (reply, rx) = oneshot::channel();
        self.commands.send(make(reply)).await.map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }

    /// This node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The addresses the node listens on, each with `/p2p/<PeerId>` appended (ready to be
    /// another node's bootstrap address).
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        self.listen_addrs
            .iter()
            .map(|a| a.clone().with(libp2p::multiaddr::Protocol::P2p(self.peer_id)))
            .collect()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.counters.snapshot()
    }

    /// Bitswap's counters (blocks sent and received, corrupt stored blocks refused, ...), or
    /// `None` when [`Config::bitswap`] is off.
    ///
    /// # Errors
    /// [`Error::Stopped`].
    pub async fn bitswap_stats(&self) -> Result<Option<ceramic_bitswap::Stats>, Error> {
        self.call(|reply| Command::BitswapStats { reply }).await
    }

    /// The connected peers.
    ///
    /// # Errors
    /// [`Error::Stopped`].
    pub async fn peers(&self) -> Result<Vec<PeerId>, Error> {
        self.call(|reply| Command::Peers { reply }).await
    }

    /// The peers known to be subscribed to the Ceramic topic.
    ///
    /// # Errors
    /// [`Error::Stopped`].
    pub async fn topic_peers(&self) -> Result<Vec<PeerId>, Error> {
        self.call(|reply| Command::TopicPeers { reply }).await
    }

    /// Dials a peer.
    ///
    /// # Errors
    /// [`Error::Address`], [`Error::Stopped`].
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), Error> {
        self.call(|reply| Command::Dial { addr, reply }).await?
    }

    /// Blocks a peer: its connections are closed and new ones refused until
    /// [`NetworkHandle::unblock`].
    ///
    /// # Errors
    /// [`Error::Stopped`].
    pub async fn block(&self, peer: PeerId) -> Result<(), Error> {
        self.commands.send(Command::Block { peer }).await.map_err(|_| Error::Stopped)
    }

    /// Lifts a [`NetworkHandle::block`] (the peer is not redialled).
    ///
    /// # Errors
    /// [`Error::Stopped`].
    pub async fn unblock(&self, peer: PeerId) -> Result<(), Error> {
        self.commands.send(Command::Unblock { peer }).await.map_err(|_| Error::Stopped)
    }

    /// Publishes a message on the topic.
    ///
    /// # Errors
    /// [`Error::Publish`] (e.g. no subscribed peer yet), [`Error::Stopped`].
    pub async fn publish(&self, message: Message) -> Result<(), Error> {
        self.call(|reply| Command::Publish { message, reply }).await?
    }

    /// Publishes raw bytes on the topic, whatever they are (for tests of misbehaving peers).
    ///
    /// # Errors
    /// As [`NetworkHandle::publish`].
    pub async fn publish_raw(&self, bytes: Vec<u8>) -> Result<(), Error> {
        self.call(|reply| Command::PublishRaw { bytes, reply }).await?
    }

    /// js-ceramic `queryNetwork`: publishes a QUERY for `stream` and collects the tips of the
    /// RESPONSEs with its id, until [`Config::response_quiet`] after the last one or
    /// [`Config::sync_timeout`] in all. Dropping the future midway is safe.
    ///
    /// # Errors
    /// [`Error::Publish`], [`Error::Stopped`].
    pub async fn query(&self, stream: &StreamId) -> Result<Vec<(PeerId, Cid)>, Error> {
        let (tx, mut rx) = mpsc::channel(64);
        let stream = *stream;
        self.call(|reply| Command::Query { stream, responses: tx, reply }).await??;
        let config = &self.shared.config;
        let deadline = tokio::time::Instant::now() + config.sync_timeout;
        let mut tips: Vec<(PeerId, Cid)> = Vec::new();
        loop {
            let wait_until = if tips.is_empty() {
                deadline
            } else {
                deadline.min(tokio::time::Instant::now() + config.response_quiet)
            };
            match tokio::time::timeout_at(wait_until, rx.recv()).await {
                Ok(Some((peer, response))) => {
                    if let Some(tip) = response.tips.get(&stream)
                        && !tips.iter().any(|(_, t)| t == tip)
                    {
                        tips.push((peer, *tip));
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
        Ok(tips)
    }

    /// Feeds a tip to the engine after fetching its missing blocks from `hint` or other peers
    /// (the path an UPDATE takes, without the "seen" and "followed" checks).
    ///
    /// # Errors
    /// [`Error::Apply`] when the engine refuses the tip (blocks missing on every peer, a tip
    /// not leading to the genesis, invalid commits), [`Error::Stopped`].
    pub async fn sync_tip(
        &self,
        stream: &StreamId,
        tip: Cid,
        hint: Option<PeerId>,
    ) -> Result<ceramic_engine::TipOutcome, Error> {
        sync_tip(&self.shared, *stream, tip, hint).await
    }

    /// The stream's state: from the store, else from the network (query, fetch every candidate
    /// tip's blocks, let the engine resolve them). Dropping the future midway is safe.
    ///
    /// # Errors
    /// [`Error::NotFound`] when neither the store nor any peer has it; [`Error::Apply`].
    pub async fn load(&self, stream: &StreamId) -> Result<ceramic_doctype::StreamState, Error> {
        match self.engine_load(*stream).await {
            Ok(state) => return Ok(state),
            Err(ApplyError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.sync(stream).await
    }

    async fn engine_load(
        &self,
        stream: StreamId,
    ) -> Result<ceramic_doctype::StreamState, ApplyError> {
        let engine = self.shared.engine.clone();
        tokio::task::spawn_blocking(move || engine.load(&stream))
            .await
            .unwrap_or(Err(ApplyError::NotFound(stream)))
    }

    /// js-ceramic's load with `SYNC_ALWAYS`: queries the network for `stream` and feeds every
    /// candidate tip to the engine (fetching blocks), even when the stream is stored; returns
    /// the resulting state. Dropping the future midway is safe.
    ///
    /// # Errors
    /// [`Error::NotFound`] when neither the store nor any peer has it; [`Error::Apply`].
    pub async fn sync(&self, stream: &StreamId) -> Result<ceramic_doctype::StreamState, Error> {
        let mut tips = self.query(stream).await.unwrap_or_else(|e| {
            tracing::debug!(%stream, error = %e, "query not published");
            Vec::new()
        });
        if tips.is_empty() {
            tips = self.query_providers(stream).await?;
        }
        for (peer, tip) in tips {
            if let Err(e) = sync_tip(&self.shared, *stream, tip, Some(peer)).await {
                tracing::info!(%stream, %tip, %peer, error = %e, "candidate tip refused");
            }
        }
        match self.engine_load(*stream).await {
            Ok(state) => Ok(state),
            Err(ApplyError::NotFound(_)) => Err(Error::NotFound(*stream)),
            Err(e) => Err(e.into()),
        }
    }

    /// No peer on the topic answered: find the stream's providers on Kademlia, connect to them,
    /// wait (at most [`Config::sync_timeout`]) until one of them is on the topic, and query again.
    async fn query_providers(&self, stream: &StreamId) -> Result<Vec<(PeerId, Cid)>, Error> {
        let stream = *stream;
        let providers = self.call(|reply| Command::FindProviders { stream, reply }).await?;
        if providers.is_empty() {
            return Ok(Vec::new());
        }
        let deadline = tokio::time::Instant::now() + self.shared.config.sync_timeout;
        loop {
            let on_topic = self.topic_peers().await?;
            if providers.iter().any(|p| on_topic.contains(p)) {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(Vec::new());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.query(&stream).await
    }

    /// Fetches blocks the way a sync does: the block protocol from `hint` and then other
    /// connected peers, then Bitswap (when [`Config::bitswap`] is on) for the rest. Returns the
    /// blocks found, every one hash-checked; blocks nobody sent are left out.
    ///
    /// # Errors
    /// [`FetchError::Stopped`] when the network is gone.
    pub async fn fetch_blocks(
        &self,
        hint: Option<PeerId>,
        cids: Vec<Cid>,
    ) -> Result<Vec<Block>, FetchError> {
        self.shared.fetcher.fetch(hint, cids).await
    }

    /// Fault injection for tests: from now on this node serves every block with its last byte
    /// flipped (so that it no longer matches its CID), or stops doing so. Bitswap is handed the
    /// same corrupt bytes and must refuse to serve them.
    ///
    /// # Errors
    /// [`Error::Stopped`].
    #[cfg(any(test, feature = "test-utils"))]
    pub async fn serve_corrupt_blocks(&self, on: bool) -> Result<(), Error> {
        self.commands.send(Command::CorruptServing(on)).await.map_err(|_| Error::Stopped)
    }

    /// Stops the network task (its connections close).
    pub async fn shutdown(&self) {
        let _ = self.commands.send(Command::Shutdown).await;
    }
}
