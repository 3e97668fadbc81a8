//! Errors of the codecs.

use std::convert::Infallible;

use cid::Cid;

/// Why a block, commit, envelope or CAR was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The block is larger than [`crate::MAX_BLOCK_SIZE`].
    #[error("block of {size} bytes is larger than the {max} allowed")]
    BlockTooLarge {
        /// The block's size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Lists and maps nested deeper than [`crate::MAX_DEPTH`].
    #[error("value nested deeper than the {max} levels allowed")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The bytes are not valid canonical dag-cbor, or do not have the expected shape.
    #[error("invalid dag-cbor: {0}")]
    Decode(#[from] serde_ipld_dagcbor::DecodeError<Infallible>),
    /// The value cannot be encoded as dag-cbor (e.g. a non-finite float).
    #[error("cannot encode as dag-cbor: {0}")]
    Encode(#[from] serde_ipld_dagcbor::EncodeError<std::collections::TryReserveError>),
    /// The bytes decode, but re-encode to different bytes (a non-canonical encoding).
    #[error("{what} is not canonical: it does not re-encode to the same bytes")]
    NonCanonical {
        /// What was being decoded.
        what: &'static str,
    },
    /// A commit lacks a field its kind requires.
    #[error("{kind} is missing the field `{field}`")]
    MissingField {
        /// The kind of commit.
        kind: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// A commit has a field its kind must not have.
    #[error("{kind} must not have the field `{field}`")]
    UnexpectedField {
        /// The kind of commit.
        kind: &'static str,
        /// The field.
        field: &'static str,
    },
    /// The envelope's payload is not a CID.
    #[error("dag-jose payload is not a CID: {0}")]
    InvalidPayloadLink(#[source] cid::Error),
    /// A dag-jose envelope with no signature.
    #[error("dag-jose envelope has no signatures")]
    NoSignatures,
    /// A block's bytes do not hash to its CID.
    #[error("block does not match its CID {expected} (its bytes hash to {actual})")]
    HashMismatch {
        /// The CID the block was given under (boxed: CIDs are large and errors stay small).
        expected: Box<Cid>,
        /// The CID its bytes have.
        actual: Box<Cid>,
    },
    /// A CID whose multihash this crate cannot check.
    #[error("unsupported multihash code {0:#x} (sha2-256 and identity are supported)")]
    UnsupportedHash(u64),
    /// A block of a codec other than the one required.
    #[error("expected a {expected} block, got codec {actual:#x}")]
    WrongCodec {
        /// The codec required.
        expected: &'static str,
        /// The codec the CID has.
        actual: u64,
    },
    /// The CAR ended in the middle of a section.
    #[error("CAR truncated at byte {offset} while reading the {what}")]
    CarTruncated {
        /// Where the input ended.
        offset: usize,
        /// What was being read.
        what: &'static str,
    },
    /// The CAR header is not `{roots, version: 1}`.
    #[error("unsupported CAR version {0} (only CAR v1 is supported)")]
    CarVersion(u64),
    /// A CAR section's CID is not valid.
    #[error("invalid CID in the CAR section at byte {offset}: {source}")]
    CarCid {
        /// Where the section starts.
        offset: usize,
        /// What was wrong with the CID.
        #[source]
        source: cid::Error,
    },
    /// A CAR length prefix is not a valid varint or is larger than allowed.
    #[error("invalid CAR length prefix at byte {offset}")]
    CarLength {
        /// Where the prefix starts.
        offset: usize,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
