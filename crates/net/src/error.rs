//! Errors of the network layer.

use ceramic_codecs::Cid;
use ceramic_engine::ApplyError;
use ceramic_streamid::StreamId;

/// Why a network operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The swarm could not be built or could not listen.
    #[error("transport: {0}")]
    Transport(String),
    /// A configured multiaddr cannot be used.
    #[error("cannot listen on or dial {addr}: {reason}")]
    Address {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The network task has stopped.
    #[error("the network task has stopped")]
    Stopped,
    /// Publishing on the topic failed (e.g. no peer is subscribed yet).
    #[error("publish failed: {0}")]
    Publish(String),
    /// No peer answered a query for the stream and it is not stored locally.
    #[error("stream {0} not found locally or on the network")]
    NotFound(StreamId),
    /// The engine refused a tip or a load failed.
    #[error(transparent)]
    Apply(#[from] ApplyError),
}

/// Why a block could not be fetched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// No connected peer had the block.
    #[error("no peer sent block {0}")]
    NotFound(Box<Cid>),
    /// A peer sent bytes that do not hash to the CID asked for.
    #[error("block {cid} from {peer} does not match its CID")]
    BadBlock {
        /// The CID asked for.
        cid: Box<Cid>,
        /// Who sent it.
        peer: String,
    },
    /// More blocks were needed than one sync may fetch.
    #[error("more than {0} blocks needed")]
    TooMany(usize),
    /// The network task has stopped.
    #[error("the network task has stopped")]
    Stopped,
}
