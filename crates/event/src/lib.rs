//! Ceramic events: init, data and time events as the CAR files `@ceramic-sdk/events` 0.12 and
//! ceramic-one write and read, and ceramic-one's EventIDs.
//!
//! Layer 5, next to `ceramic-doctype` (depends on `ceramic-streamid`, `ceramic-codecs` and
//! `ceramic-did` only). Follows `specs/ceramic-events.md`.
//!
//! ```text
//! signed init / data event   CAR root = dag-jose envelope; blocks: [CACAO], payload, envelope
//! unsigned init event        CAR root = dag-cbor {data: null, header}; one block
//! time event                 CAR root = dag-cbor {id, prev, proof, path}; blocks: event,
//!                            proof, the Merkle nodes from the proof's root down the path
//! ```
//!
//! ```
//! use ceramic_did::{KeySigner, KeyType, Signer};
//! use ceramic_event::{Event, EventKind, InitHeader, InitPayload, Network};
//! use ceramic_streamid::StreamId;
//!
//! let signer = KeySigner::from_seed(KeyType::Ed25519, &[7; 32])?;
//! let model: StreamId = "kjzl6hvfrbw6c90uwoyz8j519gxma787qbsfjtrarkr1huq1g1s224k7hopvsyg".parse()?;
//! let header = InitHeader::new(signer.did(), model);
//! let payload = InitPayload { header: header.clone(), data: Some(ceramic_codecs::Ipld::Null) };
//! let event = Event::sign(&signer, payload.into())?;
//!
//! let car = event.encode_car()?;
//! let decoded = Event::decode_car(&car)?;
//! assert_eq!(decoded, event);
//! assert_eq!(decoded.kind(), EventKind::Init);
//! assert_eq!(decoded.blocks().len(), 2); // payload, envelope
//! let id = decoded.event_id(Network::TestnetClay, &header);
//! assert_eq!(id.cid(), *decoded.cid());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Which layer checks what
//! * This crate ([`Event::decode_car`]): the CAR (v1, one root, the root is the event, every
//!   needed block present, no other block, none repeated, every block hashing to its CID and
//!   at most 256 000 bytes, the whole CAR at most [`MAX_CAR_SIZE`]); each block's codec and
//!   strict shape (canonical dag-cbor, no unknown field, bytes that round-trip, as ceramic-one's
//!   `decode_car(…, deny_unexpected_fields = true)`); exactly one controller; `model` and
//!   `context` are StreamIDs; `unique` is bytes; data events are signed, time events are not,
//!   unsigned init events carry no content; a signed event has exactly one signature with a
//!   parseable protected header, and the CACAO its `cap` names is in the CAR and decodes; a
//!   time event's path (`0`/`1` steps, at most [`MAX_PATH_DEPTH`]) leads from the proof's root
//!   to its `prev` through the CAR's Merkle nodes.
//! * This crate on request ([`Event::verify_signature`]): the JWS signature against the `kid`'s
//!   key (`ceramic-did`).
//! * The engine and the doctypes (not here): whether the signer may write the stream
//!   (controller, CACAO issuer, audience, resources and expiry at the anchor time), whether
//!   `prev` is the tip, the model's schema and relations, and whether the anchor transaction
//!   exists on chain and holds the proof's root.
//!
//! Hand-written, and why: nothing else exists in Rust for these events except rust-ceramic's
//! own crate, which pulls its whole workspace (sqlx, arrow, libp2p) and anyhow errors.
//!
//! Feature flags: `test-utils` (proptest strategies in [`test_utils`]), `fuzzing` (the body of
//! the cargo-fuzz target in [`fuzzing`]).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod error;
mod event;
mod event_id;
mod payload;
mod text;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use error::{Error, EventIdError, Result};
pub use event::{Event, EventKind, Signature};
pub use event_id::{EventId, Network};
pub use payload::{
    AnchorProof, DEFAULT_SEP, DataHeader, DataPayload, EventPayload, InitHeader, InitPayload,
    METAMODEL_STREAM_ID, TimePayload, set_unique,
};
pub use text::{CarBase, car_from_multibase, car_to_multibase};

/// The largest event CAR accepted, in bytes: three blocks of the largest size
/// ([`ceramic_codecs::MAX_BLOCK_SIZE`]: a CACAO, a payload and an envelope) with their section
/// headers, and room for the CAR header. Refused before anything is decoded.
pub const MAX_CAR_SIZE: usize = 3 * (ceramic_codecs::MAX_BLOCK_SIZE + 128) + 1024;

/// The longest Merkle path of a time event, in steps. ceramic-one's local tree of 1,000,000
/// events is 20 deep, and a CAS path above it adds the CAS tree's depth.
pub const MAX_PATH_DEPTH: usize = 64;
