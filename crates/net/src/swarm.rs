//! The libp2p swarm: the composed [`Behaviour`] (block list, connection limits, identify, ping,
//! gossipsub, Kademlia, the block protocol, Bitswap) and how it is built (TCP + noise + yamux).
//! `specs/network.md` "Transport and behaviours".

use std::time::Duration;

use libp2p::gossipsub;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    Multiaddr, PeerId, StreamProtocol, Swarm, allow_block_list, connection_limits, identify, kad,
    noise, ping, tcp, yamux,
};

use crate::blocks::{BLOCKS_PROTOCOL, BlockRequest, BlockResponse};
use crate::config::Config;
use crate::error::Error;
use crate::message::MAX_MESSAGE_SIZE;
use crate::protocol::VERSION;

/// The Kademlia protocol name (the IPFS DHT's, as ceramic-one uses; provider records only).
const KAD_PROTOCOL: &str = "/ipfs/kad/1.0.0";
/// The largest gossipsub frame accepted: above the pubsub limit, so that oversized Ceramic
/// messages reach our own check (and are counted) instead of vanishing in the transport.
const MAX_TRANSMIT: usize = 4 * MAX_MESSAGE_SIZE;

/// The composed libp2p behaviour.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    pub(crate) blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    pub(crate) limits: connection_limits::Behaviour,
    pub(crate) identify: identify::Behaviour,
    pub(crate) ping: ping::Behaviour,
    pub(crate) gossipsub: gossipsub::Behaviour,
    pub(crate) kad: kad::Behaviour<kad::store::MemoryStore>,
    pub(crate) blocks: request_response::cbor::Behaviour<BlockRequest, BlockResponse>,
    /// Off when [`Config::bitswap`] is false.
    pub(crate) bitswap: Toggle<ceramic_bitswap::Bitswap>,
}

/// The peer id at the end of `addr` (`/p2p/<PeerId>`), if any.
pub(crate) fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    addr.iter().find_map(|p| match p {
        libp2p::multiaddr::Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}

/// Builds the swarm with `bitswap` (when on) as the last behaviour.
pub(crate) fn build_swarm(
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
            let codec = crate::blocks::codec();
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
