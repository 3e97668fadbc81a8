//! The [`Bitswap`] `NetworkBehaviour`: serves blocks from a [`BlockStore`] and fetches blocks
//! from connected peers.
//!
//! Streams come from `libp2p-stream`: we accept inbound streams on `/ipfs/bitswap/1.2.0` and
//! `/ipfs/bitswap/1.1.0` and read length-prefixed messages from each until it ends; to send, we
//! open a new outbound stream per batch, write its frames and close it (as helia and boxo do).
//! All of it runs inside [`NetworkBehaviour::poll`]: no task is spawned, so it works on any
//! executor the swarm runs on. Only the store is read and written elsewhere, on the
//! behaviour's own thread (`worker`), so a slow disk never holds up the swarm.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use ceramic_codecs::{Block, Cid};
use futures::channel::{mpsc, oneshot};
use futures::future::BoxFuture;
use futures::stream::{BoxStream, FuturesUnordered, SelectAll};
use futures::{AsyncWriteExt, FutureExt, StreamExt};
use futures_timer::Delay;
use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId, Stream, StreamProtocol};
use libp2p_stream::{Control, IncomingStreams, OpenStreamError};
use tracing::{debug, warn};

use crate::error::{DecodeError, GetError};
use crate::message::{Message, Presence, Want, WantType, read_frame};
use crate::store::BlockStore;
use crate::worker::{Done, Lookup, Purpose, StoreWorker};

/// Bitswap 1.2.0.
pub const PROTOCOL_1_2_0: StreamProtocol = StreamProtocol::new("/ipfs/bitswap/1.2.0");
/// Bitswap 1.1.0 (no presences, no want-have): accepted inbound, used outbound when a peer
/// lacks 1.2.0.
pub const PROTOCOL_1_1_0: StreamProtocol = StreamProtocol::new("/ipfs/bitswap/1.1.0");

/// How often pending fetches are checked for their deadline.
const TICK: Duration = Duration::from_millis(100);

/// Limits and timeouts.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long [`Bitswap::get`] waits for a block before [`GetError::Timeout`].
    pub timeout: Duration,
    /// Write fetched blocks to the store ([`BlockStore::put`]). The write runs on the store
    /// thread after the fetch resolves, before any later lookup of this behaviour.
    pub store_received: bool,
    /// The most wants we remember per peer (for blocks we may get later); more are dropped.
    pub max_wants_per_peer: usize,
    /// The most distinct blocks we fetch at once; more fetches fail with [`GetError::Busy`].
    pub max_pending: usize,
    /// The most inbound streams read at once (across peers); more are dropped.
    pub max_inbound_streams: usize,
    /// How long opening a stream and writing one batch may take.
    pub send_timeout: Duration,
    /// Capacity of the [`Client`] command channel.
    pub command_capacity: usize,
    /// How often our pending wants go again to the peers that have not said DontHave (a lost
    /// message then delays a fetch instead of failing it).
    pub rebroadcast: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timeout: Duration::from_secs(30),
            store_received: true,
            max_wants_per_peer: 1024,
            max_pending: 4096,
            max_inbound_streams: 512,
            send_timeout: Duration::from_secs(10),
            command_capacity: 256,
            rebroadcast: Duration::from_secs(2),
        }
    }
}

impl Config {
    /// Sets [`Config::timeout`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`Config::store_received`].
    pub fn with_store_received(mut self, store: bool) -> Self {
        self.store_received = store;
        self
    }
}

/// What happened, for the swarm's owner (all of it is also counted in [`Stats`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A block we wanted arrived, hash checked.
    BlockReceived {
        /// From.
        peer: PeerId,
        /// The block.
        cid: Cid,
    },
    /// A block we did not want (or whose bytes hash to a CID we did not ask for) was dropped.
    UnwantedBlock {
        /// From.
        peer: PeerId,
        /// The CID its bytes hash to.
        cid: Cid,
    },
    /// A peer sent a message we could not decode; its stream was dropped.
    InvalidMessage {
        /// From.
        peer: PeerId,
        /// Why.
        error: Arc<DecodeError>,
    },
    /// A peer said it does not have a block we want.
    DontHave {
        /// From.
        peer: PeerId,
        /// The block.
        cid: Cid,
    },
    /// We sent blocks to a peer.
    BlocksSent {
        /// To.
        peer: PeerId,
        /// How many.
        count: usize,
    },
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Wanted blocks received.
    pub blocks_received: u64,
    /// Blocks dropped because we did not want them (a block whose bytes do not hash to a CID
    /// we asked for lands here).
    pub unwanted_blocks: u64,
    /// Messages that did not decode (bad protobuf, CID, prefix, oversized block...).
    pub invalid_messages: u64,
    /// Blocks queued to peers.
    pub blocks_sent: u64,
    /// Stored blocks that did not hash to their CID and were not served.
    pub corrupt_stored_blocks: u64,
    /// Peer wants dropped because the peer's wantlist was full.
    pub dropped_wants: u64,
    /// Batches that could not be sent.
    pub send_failures: u64,
}

/// A cloneable handle to fetch blocks from another task.
#[derive(Debug, Clone)]
pub struct Client {
    tx: mpsc::Sender<Command>,
}

impl Client {
    /// Fetches block `cid` (from the store, else from connected peers), hash checked.
    /// Dropping the future midway is safe: the want is cancelled at the next tick.
    ///
    /// # Errors
    /// [`GetError`].
    pub async fn get(&self, cid: Cid) -> Result<Block, GetError> {
        let (reply, rx) = oneshot::channel();
        let mut tx = self.tx.clone();
        futures::SinkExt::send(&mut tx, Command::Get { cid, reply })
            .await
            .map_err(|_| GetError::Shutdown)?;
        rx.await.unwrap_or(Err(GetError::Shutdown))
    }

    /// Tells Bitswap that `block` is now in the store, so peers that asked for it get it.
    ///
    /// # Errors
    /// [`GetError::Shutdown`] when the behaviour is gone.
    pub async fn notify(&self, block: Block) -> Result<(), GetError> {
        let mut tx = self.tx.clone();
        futures::SinkExt::send(&mut tx, Command::Notify(block))
            .await
            .map_err(|_| GetError::Shutdown)
    }
}

#[derive(Debug)]
enum Command {
    Get { cid: Cid, reply: oneshot::Sender<Result<Block, GetError>> },
    Notify(Block),
}

/// The result of [`Bitswap::get`]: resolves to the block or a [`GetError`]. Dropping it is safe.
#[derive(Debug)]
pub struct Fetch {
    rx: oneshot::Receiver<Result<Block, GetError>>,
}

impl Future for Fetch {
    type Output = Result<Block, GetError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.rx.poll_unpin(cx).map(|r| r.unwrap_or(Err(GetError::Shutdown)))
    }
}

/// One of our fetches.
#[derive(Debug)]
struct Pending {
    waiters: Vec<oneshot::Sender<Result<Block, GetError>>>,
    deadline: Instant,
    dont_have: HashSet<PeerId>,
}

/// What we will send a peer in its next batch.
#[derive(Debug, Default)]
struct Outbox {
    full: bool,
    wants: HashMap<Cid, Want>,
    blocks: HashMap<Cid, Block>,
    presences: HashMap<Cid, bool>,
}

impl Outbox {
    fn is_empty(&self) -> bool {
        !self.full && self.wants.is_empty() && self.blocks.is_empty() && self.presences.is_empty()
    }

    fn take(&mut self, presences: bool) -> Message {
        let out = std::mem::take(self);
        Message {
            wants: out.wants.into_values().collect(),
            full: out.full,
            blocks: out.blocks.into_values().collect(),
            presences: if presences {
                out.presences.into_iter().map(|(cid, have)| Presence { cid, have }).collect()
            } else {
                Vec::new()
            },
            pending_bytes: 0,
        }
    }
}

#[derive(Debug, Default)]
struct PeerState {
    connected: bool,
    /// The peer's wants we could not serve yet.
    ledger: HashMap<Cid, Want>,
    /// The peer's wants being looked up in the store (the latest want per CID).
    looking: HashMap<Cid, Want>,
    outbox: Outbox,
    sending: bool,
    /// The outbound stream we keep writing batches to (reopened when it fails).
    stream: Option<(Stream, StreamProtocol)>,
    /// The peer speaks only 1.1.0: no presences.
    legacy: bool,
    /// The peer speaks no bitswap.
    unsupported: bool,
    /// Batches that failed in a row.
    failures: u32,
}

/// How many failed batches in a row we follow with our wantlist again.
const MAX_RESENDS: u32 = 3;

type Inbound = (PeerId, bool, Result<Message, DecodeError>);
type Reusable = Option<(Stream, StreamProtocol)>;
type SendResult = (PeerId, Reusable, Result<StreamProtocol, SendError>);

#[derive(Debug)]
enum SendError {
    Unsupported,
    Io(std::io::Error),
    Timeout,
}

/// The Bitswap behaviour. Add it as a field of a `#[derive(NetworkBehaviour)]` struct.
pub struct Bitswap {
    inner: libp2p_stream::Behaviour,
    control: Control,
    incoming: Vec<(IncomingStreams, bool)>,
    store: StoreWorker,
    config: Config,
    peers: HashMap<PeerId, PeerState>,
    wants: HashMap<Cid, Pending>,
    inbound: SelectAll<BoxStream<'static, Inbound>>,
    sends: FuturesUnordered<BoxFuture<'static, SendResult>>,
    commands: mpsc::Receiver<Command>,
    command_tx: mpsc::Sender<Command>,
    tick: Option<Delay>,
    last_broadcast: Instant,
    events: VecDeque<Event>,
    stats: Stats,
    waker: Option<Waker>,
}

impl std::fmt::Debug for Bitswap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bitswap")
            .field("peers", &self.peers.len())
            .field("wants", &self.wants.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Bitswap {
    /// A behaviour serving `store`'s blocks.
    pub fn new(store: Arc<dyn BlockStore>, config: Config) -> Self {
        let inner = libp2p_stream::Behaviour::new();
        let mut control = inner.new_control();
        let incoming = [(PROTOCOL_1_2_0, false), (PROTOCOL_1_1_0, true)]
            .into_iter()
            .map(|(p, legacy)| {
                let streams = control.accept(p).expect("a fresh libp2p-stream behaviour");
                (streams, legacy)
            })
            .collect();
        let (command_tx, commands) = mpsc::channel(config.command_capacity);
        Bitswap {
            inner,
            control,
            incoming,
            store: StoreWorker::spawn(store),
            config,
            peers: HashMap::new(),
            wants: HashMap::new(),
            inbound: SelectAll::new(),
            sends: FuturesUnordered::new(),
            commands,
            command_tx,
            tick: None,
            last_broadcast: Instant::now(),
            events: VecDeque::new(),
            stats: Stats::default(),
            waker: None,
        }
    }

    /// A handle for other tasks.
    pub fn client(&self) -> Client {
        Client { tx: self.command_tx.clone() }
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The CIDs we are fetching.
    pub fn wantlist(&self) -> Vec<Cid> {
        self.wants.keys().copied().collect()
    }

    /// Fetches block `cid`: from the store if it is there, else from every connected peer
    /// (want-block with send-dont-have), resolving with the first block whose bytes hash to
    /// `cid`, or [`GetError::Timeout`] after [`Config::timeout`].
    pub fn get(&mut self, cid: Cid) -> Fetch {
        let (reply, rx) = oneshot::channel();
        self.start_get(cid, reply);
        self.wake();
        Fetch { rx }
    }

    /// Tells Bitswap that `block` is now in the store, so peers that asked for it get it.
    pub fn notify(&mut self, block: &Block) {
        self.on_new_block(None, block);
        self.wake();
    }

    fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    fn start_get(&mut self, cid: Cid, reply: oneshot::Sender<Result<Block, GetError>>) {
        if !matches!(cid.hash().code(), 0x12 | 0x00) {
            let _ = reply.send(Err(GetError::Unsupported(Box::new(cid))));
            return;
        }
        // The store first (on the store thread); `on_lookup` goes on from there.
        self.store.get(cid, Purpose::Fetch(reply));
    }

    /// A store lookup finished: answer the fetch or the peer's want it was made for.
    fn on_lookup(&mut self, done: Done) {
        let Done { cid, purpose, lookup } = done;
        let block = match lookup {
            Lookup::Found(block) => Some(block),
            Lookup::Missing => None,
            Lookup::Corrupt => {
                self.stats.corrupt_stored_blocks += 1;
                None
            }
        };
        match purpose {
            Purpose::Fetch(reply) => match block {
                Some(block) => {
                    let _ = reply.send(Ok(block));
                }
                None => self.want_from_peers(cid, reply),
            },
            Purpose::Serve { peer } => self.serve(peer, cid, block),
        }
    }

    /// Asks connected peers for `cid` (a fetch the store could not answer).
    fn want_from_peers(&mut self, cid: Cid, reply: oneshot::Sender<Result<Block, GetError>>) {
        if reply.is_canceled() {
            return;
        }
        let deadline = Instant::now() + self.config.timeout;
        if let Some(pending) = self.wants.get_mut(&cid) {
            pending.waiters.push(reply);
            pending.deadline = pending.deadline.max(deadline);
            return;
        }
        if self.wants.len() >= self.config.max_pending {
            let _ = reply.send(Err(GetError::Busy(self.config.max_pending)));
            return;
        }
        self.wants
            .insert(cid, Pending { waiters: vec![reply], deadline, dont_have: HashSet::new() });
        for state in self.peers.values_mut().filter(|s| s.connected && !s.unsupported) {
            state.outbox.wants.insert(cid, want_block(cid));
        }
    }

    /// Resolves fetches and serves peers' remembered wants with a block we now have.
    fn on_new_block(&mut self, from: Option<PeerId>, block: &Block) {
        let cid = *block.cid();
        if let Some(pending) = self.wants.remove(&cid) {
            for waiter in pending.waiters {
                let _ = waiter.send(Ok(block.clone()));
            }
            for (peer, state) in &mut self.peers {
                if Some(*peer) != from && state.connected && !state.unsupported {
                    state.outbox.wants.insert(cid, Want { cancel: true, ..want_block(cid) });
                }
            }
        }
        for state in self.peers.values_mut() {
            if let Some(want) = state.ledger.remove(&cid) {
                match want.want_type {
                    WantType::Block => {
                        state.outbox.blocks.insert(cid, block.clone());
                    }
                    WantType::Have => {
                        state.outbox.presences.insert(cid, true);
                    }
                }
            }
        }
    }

    fn on_message(&mut self, peer: PeerId, legacy: bool, msg: Message) {
        for block in msg.blocks {
            let cid = *block.cid();
            if self.wants.contains_key(&cid) {
                self.stats.blocks_received += 1;
                if self.config.store_received {
                    self.store.put(block.clone());
                }
                self.on_new_block(Some(peer), &block);
                self.events.push_back(Event::BlockReceived { peer, cid });
            } else {
                self.stats.unwanted_blocks += 1;
                debug!(%peer, %cid, "dropped a block we did not ask for");
                self.events.push_back(Event::UnwantedBlock { peer, cid });
            }
        }
        for presence in msg.presences {
            if let Some(pending) = self.wants.get_mut(&presence.cid)
                && !presence.have
                && pending.dont_have.insert(peer)
            {
                self.events.push_back(Event::DontHave { peer, cid: presence.cid });
            }
        }
        if msg.wants.is_empty() && !msg.full {
            return;
        }
        let mut served = Vec::new();
        let state = self.peers.entry(peer).or_default();
        state.legacy |= legacy;
        if msg.full {
            state.ledger.clear();
            state.looking.clear();
        }
        for want in msg.wants {
            let cid = want.cid;
            if want.cancel {
                state.ledger.remove(&cid);
                state.looking.remove(&cid);
                state.outbox.blocks.remove(&cid);
                continue;
            }
            served.push(want);
        }
        let max = self.config.max_wants_per_peer;
        for want in served {
            // Looked up on the store thread; `serve` answers the latest want for the CID
            // unless it is cancelled meanwhile.
            let cid = want.cid;
            if state.looking.insert(cid, want).is_none() {
                if state.looking.len() > max {
                    state.looking.remove(&cid);
                    self.stats.dropped_wants += 1;
                    continue;
                }
                self.store.get(cid, Purpose::Serve { peer });
            }
        }
    }

    /// Answers `peer`'s `want` with what the store holds, unless the peer cancelled it (or
    /// sent a full wantlist, or left) while it was looked up.
    fn serve(&mut self, peer: PeerId, cid: Cid, block: Option<Block>) {
        let max = self.config.max_wants_per_peer;
        let Some(state) = self.peers.get_mut(&peer) else { return };
        let Some(want) = state.looking.remove(&cid) else { return };
        match (block, want.want_type) {
            (Some(block), WantType::Block) => {
                state.ledger.remove(&cid);
                state.outbox.blocks.insert(cid, block);
            }
            (Some(_), WantType::Have) => {
                state.ledger.remove(&cid);
                state.outbox.presences.insert(cid, true);
            }
            (None, _) => {
                if want.send_dont_have {
                    state.outbox.presences.insert(cid, false);
                }
                if state.ledger.len() < max || state.ledger.contains_key(&cid) {
                    state.ledger.insert(cid, want);
                } else {
                    self.stats.dropped_wants += 1;
                }
            }
        }
    }

    fn on_connected(&mut self, peer: PeerId) {
        let state = self.peers.entry(peer).or_default();
        state.connected = true;
        if !self.wants.is_empty() {
            state.outbox.full = true;
            state.outbox.wants.extend(self.wants.keys().map(|c| (*c, want_block(*c))));
        }
    }

    fn expire(&mut self) {
        let now = Instant::now();
        if now.duration_since(self.last_broadcast) >= self.config.rebroadcast {
            self.last_broadcast = now;
            for (peer, state) in &mut self.peers {
                if !state.connected || state.unsupported {
                    continue;
                }
                for (cid, pending) in &self.wants {
                    if !pending.dont_have.contains(peer) && !state.outbox.wants.contains_key(cid) {
                        state.outbox.wants.insert(*cid, want_block(*cid));
                    }
                }
            }
        }
        let expired: Vec<Cid> = self
            .wants
            .iter_mut()
            .filter_map(|(cid, p)| {
                p.waiters.retain(|w| !w.is_canceled());
                (p.deadline <= now || p.waiters.is_empty()).then_some(*cid)
            })
            .collect();
        for cid in expired {
            let Some(pending) = self.wants.remove(&cid) else { continue };
            let dont_have = pending.dont_have.len();
            for waiter in pending.waiters {
                let _ = waiter.send(Err(GetError::Timeout { cid: Box::new(cid), dont_have }));
            }
            for state in self.peers.values_mut().filter(|s| s.connected && !s.unsupported) {
                state.outbox.wants.insert(cid, Want { cancel: true, ..want_block(cid) });
            }
        }
    }

    /// Starts a send to every peer with something queued; whether any started.
    fn flush(&mut self) -> bool {
        let mut started = false;
        for (peer, state) in &mut self.peers {
            if state.sending || !state.connected || state.unsupported || state.outbox.is_empty() {
                continue;
            }
            let msg = state.outbox.take(!state.legacy);
            let blocks = msg.blocks.len();
            if blocks > 0 {
                self.stats.blocks_sent += blocks as u64;
                self.events.push_back(Event::BlocksSent { peer: *peer, count: blocks });
            }
            state.sending = true;
            started = true;
            let protocols = if state.legacy {
                vec![PROTOCOL_1_1_0]
            } else {
                vec![PROTOCOL_1_2_0, PROTOCOL_1_1_0]
            };
            let stream = state.stream.take();
            let send = send(self.control.clone(), *peer, protocols, stream, msg.encode_frames());
            let timeout = Delay::new(self.config.send_timeout);
            let peer = *peer;
            self.sends.push(
                async move {
                    futures::pin_mut!(send);
                    match futures::future::select(send, timeout).await {
                        futures::future::Either::Left(((stream, result), _)) => {
                            (peer, stream, result)
                        }
                        futures::future::Either::Right(_) => (peer, None, Err(SendError::Timeout)),
                    }
                }
                .boxed(),
            );
        }
        started
    }

    fn add_reader(&mut self, peer: PeerId, stream: Stream, legacy: bool) {
        if self.inbound.len() >= self.config.max_inbound_streams {
            warn!(%peer, "too many inbound bitswap streams; dropping one");
            return;
        }
        let reader = futures::stream::unfold(Some(stream), move |stream| async move {
            let mut stream = stream?;
            let result = match read_frame(&mut stream).await {
                Ok(Some(frame)) => Message::decode(&frame),
                Ok(None) => return None,
                Err(error) => match error.get_ref().and_then(|e| e.downcast_ref::<DecodeError>()) {
                    Some(DecodeError::TooLarge { size, max }) => {
                        Err(DecodeError::TooLarge { size: *size, max: *max })
                    }
                    Some(_) => Err(DecodeError::Length),
                    None => {
                        debug!(%peer, %error, "bitswap stream ended");
                        return None;
                    }
                },
            };
            // A message that does not decode ends the stream.
            let next = result.is_ok().then_some(stream);
            Some(((peer, legacy, result), next))
        });
        self.inbound.push(reader.boxed());
    }
}

fn want_block(cid: Cid) -> Want {
    Want { cid, priority: 1, cancel: false, want_type: WantType::Block, send_dont_have: true }
}

/// Writes `frames` on the peer's open stream, or on a new one when there is none or it fails
/// (it may have been closed by the peer). Keeping one stream per peer matters: libp2p-stream
/// hands inbound streams over through a channel of one slot, so a burst of new streams can
/// lose one.
async fn send(
    mut control: Control,
    peer: PeerId,
    protocols: Vec<StreamProtocol>,
    reuse: Reusable,
    frames: Vec<Vec<u8>>,
) -> (Reusable, Result<StreamProtocol, SendError>) {
    async fn write(stream: &mut Stream, frames: &[Vec<u8>]) -> std::io::Result<()> {
        for frame in frames {
            stream.write_all(frame).await?;
        }
        stream.flush().await
    }
    if let Some((mut stream, protocol)) = reuse
        && write(&mut stream, &frames).await.is_ok()
    {
        return (Some((stream, protocol.clone())), Ok(protocol));
    }
    let mut last = SendError::Unsupported;
    for protocol in protocols {
        match control.open_stream(peer, protocol.clone()).await {
            Ok(mut stream) => {
                return match write(&mut stream, &frames).await {
                    Ok(()) => (Some((stream, protocol.clone())), Ok(protocol)),
                    Err(e) => (None, Err(SendError::Io(e))),
                };
            }
            Err(OpenStreamError::UnsupportedProtocol(_)) => last = SendError::Unsupported,
            Err(OpenStreamError::Io(e)) => return (None, Err(SendError::Io(e))),
            Err(e) => return (None, Err(SendError::Io(std::io::Error::other(e.to_string())))),
        }
    }
    (None, Err(last))
}

impl NetworkBehaviour for Bitswap {
    type ConnectionHandler = <libp2p_stream::Behaviour as NetworkBehaviour>::ConnectionHandler;
    type ToSwarm = Event;

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.inner.handle_established_inbound_connection(
            connection_id,
            peer,
            local_addr,
            remote_addr,
        )
    }

    fn handle_established_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role_override: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.inner.handle_established_outbound_connection(
            connection_id,
            peer,
            addr,
            role_override,
            port_use,
        )
    }

    fn on_swarm_event(&mut self, event: FromSwarm<'_>) {
        match &event {
            FromSwarm::ConnectionEstablished(e) if e.other_established == 0 => {
                self.on_connected(e.peer_id);
                self.wake();
            }
            FromSwarm::ConnectionClosed(e) if e.remaining_established == 0 => {
                self.peers.remove(&e.peer_id);
            }
            _ => {}
        }
        self.inner.on_swarm_event(event);
    }

    fn on_connection_handler_event(
        &mut self,
        peer_id: PeerId,
        connection_id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        self.inner.on_connection_handler_event(peer_id, connection_id, event);
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        self.waker = Some(cx.waker().clone());
        loop {
            if let Some(event) = self.events.pop_front() {
                return Poll::Ready(ToSwarm::GenerateEvent(event));
            }
            // libp2p-stream asks the swarm to dial peers we open streams to; it never emits
            // events of its own (its ToSwarm is `()`).
            match self.inner.poll(cx) {
                Poll::Ready(ToSwarm::GenerateEvent(())) => {}
                Poll::Ready(other) => {
                    return Poll::Ready(
                        other.map_out(|()| unreachable!("GenerateEvent is matched above")),
                    );
                }
                Poll::Pending => {}
            }
            let mut progress = false;
            while let Poll::Ready(done) = self.store.poll_done(cx) {
                progress = true;
                self.on_lookup(done);
            }
            while let Poll::Ready(Some(command)) = self.commands.poll_next_unpin(cx) {
                progress = true;
                match command {
                    Command::Get { cid, reply } => self.start_get(cid, reply),
                    Command::Notify(block) => self.on_new_block(None, &block),
                }
            }
            let mut accepted = Vec::new();
            for (streams, legacy) in &mut self.incoming {
                while let Poll::Ready(Some((peer, stream))) = streams.poll_next_unpin(cx) {
                    accepted.push((peer, stream, *legacy));
                }
            }
            for (peer, stream, legacy) in accepted {
                progress = true;
                self.add_reader(peer, stream, legacy);
            }
            while let Poll::Ready(Some((peer, legacy, result))) = self.inbound.poll_next_unpin(cx) {
                progress = true;
                match result {
                    Ok(msg) => self.on_message(peer, legacy, msg),
                    Err(error) => {
                        self.stats.invalid_messages += 1;
                        warn!(%peer, %error, "dropped an invalid bitswap message");
                        self.events
                            .push_back(Event::InvalidMessage { peer, error: Arc::new(error) });
                    }
                }
            }
            while let Poll::Ready(Some((peer, stream, result))) = self.sends.poll_next_unpin(cx) {
                progress = true;
                let Some(state) = self.peers.get_mut(&peer) else { continue };
                state.sending = false;
                state.stream = stream;
                let failed = result.is_err();
                match result {
                    Ok(protocol) => {
                        state.legacy = protocol == PROTOCOL_1_1_0;
                        state.failures = 0;
                    }
                    Err(SendError::Unsupported) => {
                        debug!(%peer, "peer does not speak bitswap");
                        state.unsupported = true;
                        state.outbox = Outbox::default();
                    }
                    Err(SendError::Io(error)) => {
                        self.stats.send_failures += 1;
                        debug!(%peer, %error, "could not send a bitswap batch");
                    }
                    Err(SendError::Timeout) => {
                        self.stats.send_failures += 1;
                        debug!(%peer, "sending a bitswap batch timed out");
                    }
                }
                // A lost batch may have carried our wants: send the whole wantlist again, a few
                // times at most.
                if failed && !state.unsupported && !self.wants.is_empty() {
                    state.failures += 1;
                    if state.failures <= MAX_RESENDS {
                        state.outbox.full = true;
                        state.outbox.wants.extend(self.wants.keys().map(|c| (*c, want_block(*c))));
                    }
                }
            }
            if self.wants.is_empty() {
                self.tick = None;
            } else {
                let tick = self.tick.get_or_insert_with(|| Delay::new(TICK));
                if tick.poll_unpin(cx).is_ready() {
                    self.tick = None;
                    self.expire();
                    progress = true;
                }
            }
            progress |= self.flush();
            if !progress && self.events.is_empty() {
                return Poll::Pending;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryBlockStore;
    use ceramic_codecs::Codec;

    /// Polls the behaviour (as a swarm would) until `fetch` resolves or, with `until_idle`,
    /// until the store thread has answered and the fetch is still pending.
    fn drive(bitswap: &mut Bitswap, fetch: &mut Fetch) -> Option<Result<Block, GetError>> {
        let deadline = Instant::now() + Duration::from_secs(5);
        futures::executor::block_on(futures::future::poll_fn(|cx| {
            let _ = bitswap.poll(cx);
            if let Poll::Ready(r) = fetch.poll_unpin(cx) {
                return Poll::Ready(Some(r));
            }
            // The lookup has come back when the fetch has turned into a want.
            if !bitswap.wantlist().is_empty() || Instant::now() > deadline {
                return Poll::Ready(None);
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        }))
    }

    #[test]
    fn get_returns_a_stored_block_without_the_network() {
        let store = Arc::new(MemoryBlockStore::new());
        let block = Block::from_data(Codec::DagCbor, vec![0xa0]).unwrap();
        store.insert(&block);
        let mut bitswap = Bitswap::new(store, Config::default());
        let mut fetch = bitswap.get(*block.cid());
        assert_eq!(drive(&mut bitswap, &mut fetch), Some(Ok(block)));
        assert!(bitswap.wantlist().is_empty());
    }

    #[test]
    fn a_corrupt_stored_block_is_fetched_instead_of_returned() {
        let store = Arc::new(MemoryBlockStore::new());
        let block = Block::from_data(Codec::DagCbor, vec![0xa0]).unwrap();
        store.insert_unchecked(*block.cid(), vec![0x80]);
        let mut bitswap = Bitswap::new(store, Config::default());
        let mut fetch = bitswap.get(*block.cid());
        assert_eq!(drive(&mut bitswap, &mut fetch), None);
        assert_eq!(bitswap.wantlist(), vec![*block.cid()]);
        assert_eq!(bitswap.stats().corrupt_stored_blocks, 1);
    }

    /// A store whose reads block until released: the behaviour keeps polling meanwhile.
    struct Gate {
        inner: MemoryBlockStore,
        open: std::sync::Mutex<bool>,
        changed: std::sync::Condvar,
    }

    impl BlockStore for Gate {
        fn get(&self, cid: &Cid) -> Result<Option<Vec<u8>>, crate::StoreError> {
            let mut open = self.open.lock().unwrap();
            while !*open {
                open = self.changed.wait(open).unwrap();
            }
            self.inner.get(cid)
        }

        fn put(&self, block: &Block) -> Result<bool, crate::StoreError> {
            self.inner.put(block)
        }
    }

    #[test]
    fn a_slow_store_does_not_block_poll() {
        let gate = Arc::new(Gate {
            inner: MemoryBlockStore::new(),
            open: std::sync::Mutex::new(false),
            changed: std::sync::Condvar::new(),
        });
        let block = Block::from_data(Codec::DagCbor, vec![0xa0]).unwrap();
        gate.inner.insert(&block);
        let mut bitswap = Bitswap::new(gate.clone(), Config::default());
        let mut fetch = bitswap.get(*block.cid());
        // The read is stuck in the store; poll returns at once (it used to read in place).
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(bitswap.poll(&mut cx).is_pending());
        assert!(fetch.poll_unpin(&mut cx).is_pending());
        *gate.open.lock().unwrap() = true;
        gate.changed.notify_all();
        assert_eq!(drive(&mut bitswap, &mut fetch), Some(Ok(block)));
    }

    #[test]
    fn dropping_the_behaviour_ends_fetches() {
        let store = Arc::new(MemoryBlockStore::new());
        let mut bitswap = Bitswap::new(store, Config::default());
        let fetch = bitswap.get(ceramic_codecs::cid_of(0x71, b"x"));
        drop(bitswap);
        assert_eq!(futures::executor::block_on(fetch), Err(GetError::Shutdown));
    }
}
