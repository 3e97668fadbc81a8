//! Canonical dag-cbor and dag-jose codecs for Ceramic commits (genesis, data and anchor commits,
//! anchor proofs, signed envelopes) and CAR v1 archives.
//!
//! Layer: above `ceramic-streamid`, below `ceramic-did` and the doctypes. Follows
//! `specs/commits.md` (CIP-59/CIP-69/CIP-110 commit shapes as js-ceramic writes them).
//!
//! Every decoder here is strict: a block over [`MAX_BLOCK_SIZE`] bytes, a block that is not
//! canonical dag-cbor, a field the commit shape does not have, or bytes that do not re-encode
//! to exactly the same bytes are rejected with a typed [`Error`]. Since a commit's CID is the hash
//! of its bytes, accepting a second encoding of the same value would give one commit two names.
//!
//! ```
//! use ceramic_codecs::{Block, Codec, GenesisCommit, Header, Payload};
//!
//! let genesis = GenesisCommit {
//!     header: Header {
//!         controllers: Some(vec!["did:key:z6MkfZ6S4NVVTEuts8o5xFzRMR8eC6Y1bngoBQNnXiCvhH8H".into()]),
//!         family: Some("example".into()),
//!         ..Header::default()
//!     },
//!     data: None,
//! };
//! let block = Block::encode(Codec::DagCbor, &genesis)?;
//! let decoded = Payload::decode(block.data())?;
//! assert_eq!(decoded, Payload::Genesis(genesis));
//! # Ok::<(), ceramic_codecs::Error>(())
//! ```
//!
//! Hand-written parts, and why: the dag-jose codec (the only crate, `dag-jose` 0.2, pins
//! `serde_ipld_dagcbor` 0.6 and would bring a second dag-cbor stack) and CAR v1 (`iroh-car` is
//! async-only and also on dag-cbor 0.6); both are small. `libipld`, which our user named, is
//! archived and no longer resolves; `ipld-core` and `serde_ipld_dagcbor` are its successors.
//!
//! Feature flags: `test-utils` (proptest strategies in [`test_utils`]), `fuzzing` (the bodies of
//! the cargo-fuzz targets in [`fuzzing`]).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod block;
mod car;
mod commit;
mod dagcbor;
mod envelope;
mod error;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use block::{Block, Codec, cid_of};
pub use car::{Car, read_car, write_car};
pub use cid::Cid;
pub use commit::{AnchorCommit, AnchorProof, DataCommit, GenesisCommit, Header, Payload, Unique};
pub use dagcbor::{MAX_DEPTH, decode, encode, to_dag_json};
pub use envelope::{Envelope, Signature};
pub use error::{Error, Result};
pub use ipld_core::ipld::Ipld;

/// The largest block a node accepts, in bytes (js-ceramic `IPFS_MAX_COMMIT_SIZE`).
pub const MAX_BLOCK_SIZE: usize = 256_000;
