//! Errors for parsing and building StreamIDs and CommitIDs.

/// Why bytes or a string are not a valid StreamID or CommitID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is longer than any valid id (or CID) can be; nothing of it was decoded. The
    /// limits are the constants `MAX_*` of this crate (`specs/streamid.md` § Limits).
    #[error("{field} of {len} bytes is longer than the {max} a valid one can have")]
    TooLong {
        /// What was too long (`id text`, `id bytes`, `CID text`, `stream reference`).
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The longest allowed.
        max: usize,
    },
    /// The input was empty.
    #[error("empty stream reference")]
    Empty,
    /// The input ended in the middle of a field.
    #[error("input ended while reading the {field}")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A varint was not minimally encoded or overflowed 64 bits.
    #[error("invalid varint in the {field}")]
    InvalidVarint {
        /// The field being read.
        field: &'static str,
    },
    /// The first varint was not the StreamID multicodec 0xce.
    #[error("not a StreamID: multicodec {0:#x} instead of 0xce")]
    NotAStreamId(u64),
    /// A CID version other than 1 (CIDv0 cannot be embedded: its bytes have no version).
    #[error("unsupported CID version {0} in the {1} (only CIDv1 is allowed)")]
    UnsupportedCidVersion(u64, &'static str),
    /// A multihash digest longer than 64 bytes.
    #[error("multihash digest of {0} bytes is longer than the 64 allowed")]
    DigestTooLong(u64),
    /// Bytes were left after a complete StreamID or CommitID.
    #[error("{0} unexpected bytes after the end of the id")]
    TrailingBytes(usize),
    /// A CommitID was given where a StreamID is required.
    #[error("expected a StreamID but got a CommitID")]
    ExpectedStreamId,
    /// A StreamID was given where a CommitID is required.
    #[error("expected a CommitID but got a StreamID")]
    ExpectedCommitId,
    /// The text is not multibase base36 lower case (`k…`).
    #[error("not a base36 ('k') multibase string: {0}")]
    NotBase36(String),
    /// The text has a form this parser does not accept.
    #[error("invalid stream reference {input:?}: {reason}")]
    InvalidString {
        /// The rejected input (truncated to 200 characters).
        input: String,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// The `commit` of `?commit=` is neither `0` nor a CID string.
    #[error("invalid commit {0:?}: must be a CID or 0 (the genesis commit)")]
    InvalidCommit(String),
    /// A CID string that does not parse (see [`crate::cid_from_str`]).
    #[error("invalid CID {0:?}")]
    InvalidCid(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn invalid_string(input: &str, reason: &'static str) -> Self {
        Error::InvalidString { input: input.chars().take(200).collect(), reason }
    }
}
