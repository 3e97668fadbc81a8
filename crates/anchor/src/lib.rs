//! Anchoring without a chain client: the Merkle tree the Ceramic Anchor Service (CAS) builds
//! over a batch of commits, the proof and anchor commits it makes once the root is in a
//! transaction, witness CARs, the calldata forms that carry the root, and an in-process
//! [`DevChain`].
//!
//! It also defines how an anchor is checked, for the engine and for witnesses: the
//! [`AnchorVerifier`] trait (the dev chain and [`Chains`] implement it) with its
//! [`AnchorError`], and [`verify_merkle_path`] over a
//! [`BlockSource`](ceramic_storage::BlockSource).
//!
//! Layer: above `ceramic-codecs` and `ceramic-storage` (block sources only), below the engine
//! (which verifies anchor commits with this crate), the anchor service and the Ethereum client,
//! which add a real chain. Follows `specs/anchoring.md` (CIP-69, CIP-110, js-ceramic
//! anchor-utils and the CAS).
//!
//! ```
//! use ceramic_anchor::{Batch, DevChain, Request, TX_TYPE_V1, Witness};
//! use ceramic_codecs::cid_of;
//!
//! let requests = (0u8..3)
//!     .map(|i| Request { genesis: cid_of(0x71, &[i]), tip: cid_of(0x71, &[i, 1]) })
//!     .collect();
//! let batch = Batch::new(requests)?;
//! let chain = DevChain::new();
//! let tx_hash = chain.send(batch.root());
//! let anchors = batch.finish(chain.chain_id(), tx_hash, Some(TX_TYPE_V1))?;
//! for (i, anchor) in anchors.anchors().iter().enumerate() {
//!     let witness = Witness::from_car(&anchors.witness_car(i)?)?;
//!     assert_eq!(witness.commit(), anchor.commit());
//!     chain.check(witness.proof())?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Merkle nodes are dag-cbor encoded by hand ([`Node::encode`], tested byte-equal against
//! `ceramic_codecs::encode`): a million of them through serde's `Ipld` values cost more than
//! hashing them.
//!
//! Feature flags: `test-utils` (proptest strategies in `test_utils`), `fuzzing` (the body of
//! the `anchor_verify_merkle_path` fuzz target in [`fuzzing`]).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod batch;
mod calldata;
mod chain;
mod dev_chain;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
mod merkle;
mod verify;
mod witness;

#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use batch::{Anchor, Anchors, Batch, Request};
pub use calldata::{
    ANCHOR_CONTRACT, ANCHOR_SELECTOR, ETH_TX_CODEC, KECCAK_256, TX_TYPE_V1, eth_tx_hash,
    root_from_v0_calldata, root_from_v0_hex, root_from_v1_calldata, root_to_v0_calldata,
    root_to_v0_hex, root_to_v1_calldata, tx_hash_cid, v1_threshold,
};
pub use chain::{Chain, Chains};
pub use dev_chain::{
    Clock, DEV_CHAIN_ID, DevChain, DevChainError, ManualClock, SystemClock, Transaction,
};
pub use error::{ChainError, Error, Result};
pub use merkle::{Node, Tree, cas_order, path_for, sort_leaves};
pub use verify::{AnchorError, AnchorVerifier, PathError, verify_merkle_path};
pub use witness::Witness;
