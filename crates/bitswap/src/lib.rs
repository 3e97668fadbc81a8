//! Bitswap 1.2.0 block exchange for the Ceramic node, as a rust-libp2p `NetworkBehaviour`
//! that interoperates with helia (js-libp2p) and kubo peers.
//!
//! Layer: above `ceramic-storage` (any `BlockSource`, e.g. the node's storage, can serve
//! blocks through [`ReadOnly`]; its storage errors arrive in a [`StoreError`]; it never
//! names the engine), below `ceramic-net`, which adds [`Bitswap`] as one more field of its
//! `#[derive(NetworkBehaviour)]` struct. Follows `specs/bitswap.md` (the public Bitswap spec,
//! versions 1.2.0 and 1.1.0).
//!
//! - Serving: a peer's want-have is answered with Have (or DontHave when it asked for one), its
//!   want-block with the block (or DontHave); wants we cannot serve yet are remembered (bounded
//!   per peer) and served when the block arrives ([`Bitswap::notify`]); cancel and full
//!   wantlists are honoured. Stored blocks are hash-checked before they are served.
//! - Fetching: [`Bitswap::get`] (or [`Client::get`] from another task) sends want-block with
//!   send-dont-have to every connected peer (and to peers that connect later), and resolves
//!   with the first block whose bytes hash to the CID, or a typed [`GetError`] after the
//!   timeout. Every received block's CID is rebuilt from its prefix and the hash of its bytes,
//!   so a block can only answer the want for its own CID; any other block is dropped, logged
//!   and counted ([`Stats::unwanted_blocks`]).
//! - Limits: frames up to [`MAX_MESSAGE_SIZE`] in, about [`MAX_OUTGOING_MESSAGE_SIZE`] out,
//!   blocks up to [`MAX_BLOCK_SIZE`](ceramic_codecs::MAX_BLOCK_SIZE), [`MAX_ENTRIES`] entries
//!   per message, [`Config`] bounds per peer.
//!
//! ```no_run
//! use std::sync::Arc;
//! use ceramic_bitswap::{Bitswap, Config, MemoryBlockStore};
//! # async fn example(cid: ceramic_codecs::Cid) -> Result<(), ceramic_bitswap::GetError> {
//! let store = Arc::new(MemoryBlockStore::new());
//! let bitswap = Bitswap::new(store, Config::default());
//! let client = bitswap.client();
//! // ... put `bitswap` into the swarm's behaviour and drive the swarm, then elsewhere:
//! let block = client.get(cid).await?;
//! assert_eq!(block.cid(), &cid);
//! # Ok(()) }
//! ```
//!
//! Why hand-written: rust-libp2p has no Bitswap. `beetswap` 0.5 is built on libp2p-swarm 0.47
//! (libp2p 0.56), so it would bring a second libp2p next to our 0.57; `libp2p-bitswap` and
//! `iroh-bitswap` are older still. The protobuf structs are hand-written `prost`
//! derives (five small messages), so no codegen step is needed. Streams come from
//! `libp2p-stream`, which keeps the logic in plain async code instead of a custom
//! `ConnectionHandler`.
//!
//! Feature flags: `net` (default: the libp2p behaviour; without it, only the message codec
//! and the store trait), `test-utils` (proptest strategies in [`test_utils`]), `fuzzing` (the body of
//! the cargo-fuzz target in [`fuzzing`]).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

#[cfg(feature = "net")]
mod behaviour;
mod error;
mod message;
mod store;
mod worker;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

#[cfg(feature = "net")]
pub use behaviour::{Bitswap, Client, Config, Event, Fetch, PROTOCOL_1_1_0, PROTOCOL_1_2_0, Stats};
pub use error::{DecodeError, GetError, StoreError};
pub use message::{
    MAX_ENTRIES, MAX_MESSAGE_SIZE, MAX_OUTGOING_MESSAGE_SIZE, Message, Presence, Want, WantType,
    block_from_prefix, prefix_of,
};
pub use store::{BlockStore, MemoryBlockStore, ReadOnly};
