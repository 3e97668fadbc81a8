//! What the rest of the node holds: [`NetworkHandle`] (every method a [`Command`] to the swarm
//! task, or work done off the task: syncs, loads, fetches) and the engine's [`Announcer`].

use std::collections::HashSet;
use std::sync::Arc;

use ceramic_codecs::{Block, Cid};
use ceramic_engine::{ApplyError, Publisher};
use ceramic_streamid::StreamId;
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot, watch};

use crate::error::{Error, FetchError};
use crate::message::Message;
use crate::network::Shared;
use crate::stats::{Counters, Stats};
use crate::sync::sync_tip;

/// How many announcements may wait for the network task.
const ANNOUNCE_QUEUE: usize = 4096;

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
    /// Publish a QUERY and collect the tips of its RESPONSEs.
    Query {
        stream: StreamId,
        reply: oneshot::Sender<Result<Vec<(PeerId, Cid)>, Error>>,
    },
    Request {
        peer: PeerId,
        cids: Vec<Cid>,
        reply: oneshot::Sender<Result<Vec<Block>, FetchError>>,
    },
    Peers {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    PeerAddresses {
        reply: oneshot::Sender<Vec<(PeerId, Vec<Multiaddr>)>>,
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

/// The receiving end of an [`Announcer`], handed to [`Network::start`](crate::Network::start).
#[derive(Debug)]
pub struct Announcements {
    pub(crate) rx: mpsc::Receiver<(StreamId, Cid)>,
    pub(crate) counters: Arc<Counters>,
}

/// An announcer for the engine and its receiving end for [`Network::start`](crate::Network::start) (the engine is
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

/// A running node's network: clone it freely; every method talks to the network task.
#[derive(Debug, Clone)]
pub struct NetworkHandle {
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) peer_id: PeerId,
    pub(crate) listen_addrs: Vec<Multiaddr>,
    /// The peers subscribed to the topic, kept up to date by the network task.
    pub(crate) on_topic: watch::Receiver<HashSet<PeerId>>,
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
    /// `None` when [`Config::bitswap`](crate::Config::bitswap) is off.
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

    /// The connected peers with the addresses known for each, every one ending in
    /// `/p2p/<PeerId>`: the listen addresses the peer announced through identify, or, until it
    /// has, the remote addresses of its open connections.
    ///
    /// # Errors
    /// [`Error::Stopped`].
    pub async fn peer_addresses(&self) -> Result<Vec<(PeerId, Vec<Multiaddr>)>, Error> {
        self.call(|reply| Command::PeerAddresses { reply }).await
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
    /// RESPONSEs with its id, until [`Config::response_quiet`](crate::Config::response_quiet) after the last one or
    /// [`Config::sync_timeout`](crate::Config::sync_timeout) in all. Dropping the future midway is safe.
    ///
    /// # Errors
    /// [`Error::Publish`], [`Error::Stopped`].
    pub async fn query(&self, stream: &StreamId) -> Result<Vec<(PeerId, Cid)>, Error> {
        let stream = *stream;
        self.call(|reply| Command::Query { stream, reply }).await?
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
    /// wait (at most [`Config::sync_timeout`](crate::Config::sync_timeout)) until one of them is on the topic, and query again.
    async fn query_providers(&self, stream: &StreamId) -> Result<Vec<(PeerId, Cid)>, Error> {
        let stream = *stream;
        let providers = self.call(|reply| Command::FindProviders { stream, reply }).await?;
        if providers.is_empty() {
            return Ok(Vec::new());
        }
        let mut on_topic = self.on_topic.clone();
        let joined = on_topic.wait_for(|peers| providers.iter().any(|p| peers.contains(p)));
        match tokio::time::timeout(self.shared.config.sync_timeout, joined).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return Err(Error::Stopped),
            Err(_) => return Ok(Vec::new()),
        }
        self.query(&stream).await
    }

    /// Fetches blocks the way a sync does: the block protocol from `hint` and then other
    /// connected peers, then Bitswap (when [`Config::bitswap`](crate::Config::bitswap) is on) for the rest. Returns the
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
