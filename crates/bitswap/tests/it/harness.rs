//! A Rust node for the tests: a swarm (tcp + noise + yamux, identify, bitswap) on 127.0.0.1
//! driven by its own task, with its events forwarded to a channel.

use std::sync::Arc;
use std::time::Duration;

use ceramic_bitswap::{Bitswap, Client, Config, Event, MemoryBlockStore, Stats};
use futures::StreamExt;
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, identify, noise, tcp, yamux};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// How long a test waits for something that should happen quickly.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    pub(crate) bitswap: Bitswap,
    pub(crate) identify: identify::Behaviour,
}

/// What the node's task reports.
#[derive(Debug)]
pub(crate) enum NodeEvent {
    Connected(PeerId),
    Identified(PeerId, Vec<String>),
    Bitswap(Event),
}

enum Cmd {
    Dial(Multiaddr),
    Stats(oneshot::Sender<Stats>),
}

pub(crate) struct Node {
    pub(crate) peer_id: PeerId,
    pub(crate) addr: Multiaddr,
    pub(crate) client: Client,
    pub(crate) store: Arc<MemoryBlockStore>,
    pub(crate) events: mpsc::Receiver<NodeEvent>,
    cmd: mpsc::Sender<Cmd>,
    task: JoinHandle<()>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Node {
    /// Starts a node listening on 127.0.0.1 with an empty store.
    pub(crate) async fn start(config: Config) -> Node {
        let store = Arc::new(MemoryBlockStore::new());
        let bitswap = Bitswap::new(store.clone(), config);
        let client = bitswap.client();
        let mut slot = Some(bitswap);
        let mut swarm = libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
            .expect("tcp transport")
            .with_behaviour(|key| Behaviour {
                bitswap: slot.take().expect("built once"),
                identify: identify::Behaviour::new(identify::Config::new(
                    "/ipfs/0.1.0".into(),
                    key.public(),
                )),
            })
            .expect("behaviour")
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
            .build();
        swarm.listen_on("/ip4/127.0.0.1/tcp/0".parse().expect("multiaddr")).expect("listen");
        let addr = loop {
            if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
                break address;
            }
        };
        let peer_id = *swarm.local_peer_id();
        let (cmd, mut cmds) = mpsc::channel::<Cmd>(16);
        let (tx, events) = mpsc::channel(4096);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    cmd = cmds.recv() => match cmd {
                        Some(Cmd::Dial(addr)) => swarm.dial(addr).expect("dial"),
                        Some(Cmd::Stats(reply)) => {
                            let _ = reply.send(swarm.behaviour().bitswap.stats());
                        }
                        None => break,
                    },
                    event = swarm.select_next_some() => {
                        let event = match event {
                            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                                NodeEvent::Connected(peer_id)
                            }
                            SwarmEvent::Behaviour(BehaviourEvent::Bitswap(e)) => {
                                NodeEvent::Bitswap(e)
                            }
                            SwarmEvent::Behaviour(BehaviourEvent::Identify(
                                identify::Event::Received { peer_id, info, .. },
                            )) => NodeEvent::Identified(
                                peer_id,
                                info.protocols.iter().map(|p| p.to_string()).collect(),
                            ),
                            _ => continue,
                        };
                        let _ = tx.try_send(event);
                    }
                }
            }
        });
        Node { peer_id, addr, client, store, events, cmd, task }
    }

    /// The address with `/p2p/<peer id>`.
    pub(crate) fn full_addr(&self) -> Multiaddr {
        self.addr.clone().with(libp2p::multiaddr::Protocol::P2p(self.peer_id))
    }

    pub(crate) async fn dial(&self, addr: Multiaddr) {
        self.cmd.send(Cmd::Dial(addr)).await.expect("node task alive");
    }

    pub(crate) async fn stats(&self) -> Stats {
        let (tx, rx) = oneshot::channel();
        self.cmd.send(Cmd::Stats(tx)).await.expect("node task alive");
        rx.await.expect("node task alive")
    }

    /// Waits (up to [`WAIT`]) for the first event `pick` accepts; panics naming `what`.
    pub(crate) async fn wait_for<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&NodeEvent) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Some(event)) => {
                    if let Some(t) = pick(&event) {
                        return t;
                    }
                }
                Ok(None) => panic!("node task ended while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}"),
            }
        }
    }

    /// Dials `other` and waits until connected.
    pub(crate) async fn connect(&mut self, other: &Node) {
        self.dial(other.full_addr()).await;
        let peer = other.peer_id;
        self.wait_for("connection", |e| {
            matches!(e, NodeEvent::Connected(p) if *p == peer).then_some(())
        })
        .await;
    }
}
