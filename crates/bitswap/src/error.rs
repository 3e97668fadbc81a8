//! Typed errors: decoding a message, fetching a block, the block store.

use ceramic_codecs::Cid;

/// Why a Bitswap message was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The frame's varint length prefix is malformed.
    #[error("malformed length prefix")]
    Length,
    /// The frame is longer than the limit.
    #[error("message of {size} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Announced or actual size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The frame ends before its announced length.
    #[error("frame announces {len} bytes but only {have} follow")]
    Truncated {
        /// Announced length.
        len: usize,
        /// Bytes present.
        have: usize,
    },
    /// Not a valid protobuf `Message`.
    #[error("invalid protobuf: {0}")]
    Protobuf(#[source] prost::DecodeError),
    /// More entries than [`MAX_ENTRIES`](crate::MAX_ENTRIES).
    #[error("more than {max} entries in one message")]
    TooManyEntries {
        /// The limit.
        max: usize,
    },
    /// A wantlist entry or presence carries bytes that are not a CID.
    #[error("{0} bytes that are not a CID")]
    Cid(usize),
    /// A want type other than Block (0) or Have (1).
    #[error("unknown want type {0}")]
    UnknownWantType(i32),
    /// A presence type other than Have (0) or DontHave (1).
    #[error("unknown block presence type {0}")]
    UnknownPresence(i32),
    /// A block prefix that is not four varints (version, codec, hash code, digest length).
    #[error("malformed CID prefix")]
    Prefix,
    /// A block prefix names a hash we cannot check (we check sha2-256 and identity).
    #[error("unsupported multihash code {0:#x} in a block prefix")]
    UnsupportedHash(u64),
    /// A block over [`MAX_BLOCK_SIZE`](ceramic_codecs::MAX_BLOCK_SIZE).
    #[error("block of {size} bytes exceeds the limit of {max}")]
    BlockTooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The block does not check out against its CID.
    #[error(transparent)]
    Block(Box<ceramic_codecs::Error>),
}

/// Why [`Bitswap::get`](crate::Bitswap::get) gave no block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GetError {
    /// No peer sent the block in time.
    #[error(
        "no peer sent block {cid} within the timeout ({dont_have} peers said they do not have it)"
    )]
    Timeout {
        /// The wanted block.
        cid: Box<Cid>,
        /// How many peers answered DontHave.
        dont_have: usize,
    },
    /// The CID's hash cannot be checked (only sha2-256 and identity can).
    #[error("cannot check the hash of {0}")]
    Unsupported(Box<Cid>),
    /// The Bitswap behaviour (the swarm) is gone.
    #[error("the bitswap behaviour has shut down")]
    Shutdown,
    /// Too many fetches are waiting.
    #[error("too many pending fetches (limit {0})")]
    Busy(usize),
}

/// A [`BlockStore`](crate::BlockStore) failed (not a problem with a peer's message): the
/// store's own error, boxed so that any store can report its kind (the node's storage reports a
/// `ceramic_storage::Error`, which downcasts back).
#[derive(Debug, thiserror::Error)]
#[error("block store failed: {0}")]
pub struct StoreError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// Wraps a store's error.
    pub fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError(source.into())
    }
}

impl From<ceramic_storage::Error> for StoreError {
    fn from(e: ceramic_storage::Error) -> Self {
        StoreError(Box::new(e))
    }
}
