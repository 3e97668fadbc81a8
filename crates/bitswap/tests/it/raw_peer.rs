//! A hand-driven Bitswap peer: raw streams from `libp2p-stream`, so a test can send any bytes
//! (bad blocks, garbage) and read exactly what our node answers.

use std::time::Duration;

use ceramic_bitswap::{Message, PROTOCOL_1_2_0};
use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, StreamProtocol, noise, tcp, yamux};
use libp2p_stream::Control;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::harness::WAIT;

pub(crate) struct RawPeer {
    protocol: StreamProtocol,
    control: Control,
    received: mpsc::Receiver<Message>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for RawPeer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl RawPeer {
    /// Starts a 1.2.0 peer and dials `addr` (a node's address with `/p2p/`).
    pub(crate) async fn connect(addr: Multiaddr) -> RawPeer {
        Self::connect_with(addr, PROTOCOL_1_2_0).await
    }

    /// Starts a peer that speaks only `protocol` and dials `addr`.
    pub(crate) async fn connect_with(addr: Multiaddr, protocol: StreamProtocol) -> RawPeer {
        let mut swarm = libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(tcp::Config::default(), noise::Config::new, yamux::Config::default)
            .expect("tcp transport")
            .with_behaviour(|_| libp2p_stream::Behaviour::new())
            .expect("behaviour")
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
            .build();
        let mut control = swarm.behaviour().new_control();
        let mut incoming = control.accept(protocol.clone()).expect("fresh behaviour");
        swarm.dial(addr).expect("dial");
        loop {
            match tokio::time::timeout(WAIT, swarm.select_next_some()).await {
                Ok(SwarmEvent::ConnectionEstablished { .. }) => break,
                Ok(SwarmEvent::OutgoingConnectionError { error, .. }) => panic!("dial: {error}"),
                Ok(_) => {}
                Err(_) => panic!("raw peer: no connection"),
            }
        }
        let driver = tokio::spawn(async move {
            loop {
                swarm.select_next_some().await;
            }
        });
        let (tx, received) = mpsc::channel(256);
        let reader = tokio::spawn(async move {
            while let Some((_peer, mut stream)) = incoming.next().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    // The node keeps its stream open: decode frames as they complete.
                    let mut bytes = Vec::new();
                    let mut chunk = [0u8; 16 * 1024];
                    loop {
                        let n = match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        bytes.extend_from_slice(&chunk[..n]);
                        while let Ok((msg, rest)) = Message::decode_frame(&bytes) {
                            let used = bytes.len() - rest.len();
                            let _ = tx.send(msg).await;
                            bytes.drain(..used);
                        }
                    }
                });
            }
        });
        RawPeer { protocol, control, received, tasks: vec![driver, reader] }
    }

    /// Sends raw bytes on a new stream to `peer`.
    pub(crate) async fn send_bytes(&mut self, peer: PeerId, bytes: &[u8]) {
        let mut stream =
            self.control.open_stream(peer, self.protocol.clone()).await.expect("open stream");
        stream.write_all(bytes).await.expect("write");
        stream.close().await.expect("close");
    }

    /// Sends one message to `peer`.
    pub(crate) async fn send(&mut self, peer: PeerId, msg: &Message) {
        self.send_bytes(peer, &msg.encode_frame()).await;
    }

    /// The next message from the node.
    pub(crate) async fn recv(&mut self) -> Message {
        tokio::time::timeout(WAIT, self.received.recv())
            .await
            .expect("a message from the node in time")
            .expect("reader alive")
    }

    /// Whether a message arrives within `wait`.
    pub(crate) async fn recv_within(&mut self, wait: Duration) -> Option<Message> {
        tokio::time::timeout(wait, self.received.recv()).await.ok().flatten()
    }
}
