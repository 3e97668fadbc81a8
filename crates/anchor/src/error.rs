//! Errors of building batches and of reading Merkle nodes, calldata, tx hashes and witnesses.

use ceramic_codecs::Cid;

/// What went wrong building a batch or reading anchoring data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A Merkle tree needs at least one leaf (a batch at least one request).
    #[error("a Merkle tree needs at least one leaf")]
    EmptyBatch,
    /// No leaf or request has this index.
    #[error("no leaf {index} in a batch of {len}")]
    NoSuchLeaf {
        /// The index asked for.
        index: usize,
        /// How many there are.
        len: usize,
    },
    /// A Merkle node is not the list `[link, link | null]` or `[link, link | null, link]`.
    #[error("invalid Merkle node: {0}")]
    InvalidNode(&'static str),
    /// A contract (v1) anchor carries a sha2-256 digest, so its root must be a dag-cbor
    /// sha2-256 CIDv1.
    #[error("root {0} is not a dag-cbor sha2-256 CIDv1, so a v1 anchor cannot carry it")]
    NotDagCborSha256(Box<Cid>),
    /// Calldata of the wrong length.
    #[error("calldata is {got} bytes, expected {expected}")]
    CalldataLength {
        /// The length required.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// v1 calldata that does not call `anchorDagCbor(bytes32)`.
    #[error("calldata selector 0x{} is not anchorDagCbor(bytes32) (0x97ad09eb)", hex::encode(.0))]
    WrongSelector([u8; 4]),
    /// v0 calldata that does not start with the byte `0x0f` (`"0x0f…"`: the padding `0` and
    /// the base16 multibase prefix `f`).
    #[error("v0 calldata does not start with 0x0f (found {0:?})")]
    NotV0Calldata(Option<u8>),
    /// v0 calldata text that is not hex.
    #[error("v0 calldata is not hex: {0}")]
    Hex(#[from] hex::FromHexError),
    /// Bytes that are not a CID.
    #[error("invalid CID: {0}")]
    Cid(#[from] cid::Error),
    /// A CID followed by bytes that are not part of it.
    #[error("{0} bytes follow the CID")]
    TrailingBytes(usize),
    /// A CID that is not an Ethereum transaction hash (codec 0x93 eth-tx, keccak-256 0x1b,
    /// 32 bytes).
    #[error("{0} is not an eth-tx keccak-256 CID")]
    NotEthTxHash(Box<Cid>),
    /// A witness CAR without exactly one root.
    #[error("a witness CAR has {0} roots, expected 1")]
    WitnessRoots(usize),
    /// A block a witness needs is not in its CAR.
    #[error("block {0} is not in the witness CAR")]
    MissingBlock(Box<Cid>),
    /// The witness CAR's root is not an anchor commit.
    #[error("the witness CAR's root {0} is not an anchor commit")]
    NotAnAnchorCommit(Box<Cid>),
    /// The witness's path does not lead from the proof's root to `prev`
    /// ([`verify_merkle_path`](crate::verify_merkle_path)'s check).
    #[error("witness path: {0}")]
    Path(#[source] Box<crate::PathError>),
    /// A block is malformed.
    #[error(transparent)]
    Codec(#[from] ceramic_codecs::Error),
}

/// The result of this crate's fallible functions.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a chain does not confirm a proof, or could not take a root.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The proof names another chain.
    #[error("proof is for chain {got:?}, this chain is {expected:?}")]
    WrongChain {
        /// This chain's id.
        expected: String,
        /// The proof's `chainId`.
        got: String,
    },
    /// No chain this node knows has the proof's `chainId`.
    #[error("unsupported chain {0:?}")]
    UnsupportedChain(String),
    /// The chain could not be reached or answered with an error; retrying may help.
    #[error("chain {chain_id} unavailable: {reason}")]
    Unavailable {
        /// The chain.
        chain_id: String,
        /// What the client saw.
        reason: String,
    },
    /// The transaction exists but does not anchor the proof's root by the chain's rules
    /// (wrong contract, wrong calldata, wrong `txType`, failed or unmined transaction).
    #[error("transaction {tx_hash} does not anchor the root: {reason}")]
    InvalidTransaction {
        /// The transaction.
        tx_hash: Box<Cid>,
        /// Which rule it breaks.
        reason: String,
    },
    /// The chain was given no key, so it can check proofs but not send transactions.
    #[error("chain {0} has no key to send anchor transactions with")]
    NoSigner(String),
    /// The root cannot be carried by this chain's anchor transaction (a v1 anchor carries a
    /// sha2-256 digest, so its root must be a dag-cbor sha2-256 CIDv1).
    #[error("root {0} cannot be anchored: a v1 anchor carries only dag-cbor sha2-256 roots")]
    UnsupportedRoot(Box<Cid>),
    /// The chain has no such transaction.
    #[error("unknown transaction {0}")]
    UnknownTransaction(Box<Cid>),
    /// The transaction carries another root than the proof's.
    #[error("transaction {tx_hash} carries root {recorded}, the proof says {proof}")]
    RootMismatch {
        /// The transaction.
        tx_hash: Box<Cid>,
        /// The root the transaction carries.
        recorded: Box<Cid>,
        /// The proof's root.
        proof: Box<Cid>,
    },
}
