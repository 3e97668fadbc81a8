//! StreamID and CommitID (CIP-59): the immutable name of a Ceramic stream and the name of one of
//! its versions.
//!
//! This is the lowest layer of ceramic-rs: it depends on no other crate of ours and follows
//! `specs/streamid.md` (CIP-59 as the JavaScript `@ceramicnetwork/streamid` 5.6.0 implements it).
//!
//! ```text
//! StreamID bytes = varint(0xce) varint(stream type) genesis-CID
//! CommitID bytes = varint(0xce) varint(stream type) genesis-CID (00 | commit-CID)
//! string form    = multibase base36 lower case ("k…")
//! ```
//!
//! ```
//! use ceramic_streamid::{CommitId, StreamId, StreamRef, StreamType};
//!
//! let id: StreamId = "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s".parse()?;
//! assert_eq!(id.stream_type(), StreamType::TILE);
//! assert_eq!(id.to_url(), format!("ceramic://{id}"));
//!
//! // A CommitID at the genesis is written with the 0x00 marker.
//! let genesis = id.genesis_commit_id();
//! assert!(genesis.is_genesis());
//! assert_eq!(genesis.commit(), id.cid());
//!
//! // Where either may come, parse a StreamRef; a StreamId never parses from a CommitID string.
//! let parsed: StreamRef = format!("ceramic://{id}?commit=0").parse()?;
//! assert_eq!(parsed, StreamRef::Commit(genesis.clone()));
//! assert!(genesis.to_string().parse::<StreamId>().is_err());
//! # Ok::<(), ceramic_streamid::Error>(())
//! ```
//!
//! Limits: every parser checks the length of its input first (bytes at most [`MAX_ID_BYTES`],
//! text at most [`MAX_REF_TEXT_LEN`], CID strings through [`cid_from_str`] at most
//! [`MAX_CID_TEXT_LEN`]) and refuses longer input with [`Error::TooLong`] before decoding any
//! of it; the limits are the sizes of the longest valid ids (`specs/streamid.md` § Limits), so
//! the cost of parsing is bounded whatever the input.
//!
//! Strictness (decided here, documented in `specs/streamid.md`): bytes must be canonical
//! (minimal varints, CIDv1, nothing after the id), and strings must be exactly one of the accepted
//! forms. The JavaScript parser also takes the first alphanumeric run of any string (so it accepts
//! a trailing space or `/path`); we reject those with [`Error::InvalidString`].
//!
//! Feature flags: `test-utils` (proptest strategies in [`test_utils`]), `fuzzing` (the bodies of the
//! cargo-fuzz targets in [`fuzzing`]).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod error;
mod id;
mod limits;
mod reading;
mod stream_type;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use cid::Cid;
pub use error::{Error, Result};
pub use id::{CommitId, StreamId, StreamRef, cid_from_str};
pub use limits::{
    MAX_CID_BYTES, MAX_CID_TEXT_LEN, MAX_ID_BYTES, MAX_ID_TEXT_LEN, MAX_REF_TEXT_LEN,
    MAX_STREAM_ID_BYTES,
};
pub use stream_type::StreamType;

/// The multicodec of a StreamID (`0xce`), the first varint of every StreamID and CommitID.
pub const STREAMID_CODEC: u64 = 0xce;
