//! The CAIP-10 Account Link doctype (stream type 1, `caip10-link`): a stream, named by a
//! blockchain account, whose content is the DID that account has linked itself to.
//!
//! Layer: a doctype, written against the SDK `ceramic-doctype` (and `ceramic-codecs`,
//! `ceramic-streamid` below it); no engine, storage or network crate. Follows
//! `specs/doctypes/caip10-link.md`, i.e. js-ceramic's `Caip10LinkHandler`
//! (`packages/stream-caip10-link-handler`), `Caip10Link.makeGenesis`
//! (`packages/stream-caip10-link`) and the eip155 validator of
//! `packages/blockchain-utils-validation`, and CIP-7.
//!
//! - The genesis is unsigned dag-cbor with no data and one controller, the account in the legacy
//!   CAIP-10 form `address@namespace:reference`; [`genesis_for_account`] makes it, so anyone can
//!   recompute an account's StreamID.
//! - Each update is an unsigned data commit whose `data` is a [`LinkProof`]: the account's
//!   signature over a consent message naming the DID. Its timestamp may not go back in time
//!   (the replay guard), and the next view's content becomes that DID.
//! - Only Ethereum externally owned accounts (eip155, `personal_sign` + ecrecover) are verified.
//!   ERC-1271 contract wallets need an on-chain call and other namespaces need their own
//!   signature schemes; both are rejected with a typed `Unsupported…` [`Error`].
//!
//! ```
//! use ceramic_codecs::{Block, Codec, DataCommit, Payload};
//! use ceramic_doctype::{Commit, Context, ContextError, Doctype, StreamState};
//! use ceramic_streamid::{StreamId, StreamType};
//! use ceramic_doctype_caip10::{Caip10Link, LinkProof, eth_address, genesis_for_account};
//! use k256::ecdsa::SigningKey;
//!
//! struct NoStreams;
//! impl Context for NoStreams {
//!     fn load_content(&self, id: &ceramic_streamid::CommitId) -> Result<serde_json::Value, ContextError> {
//!         Err(ContextError::NotFound(*id))
//!     }
//! }
//!
//! let wallet = SigningKey::from_slice(&[7; 32])?;
//! let account = format!("eip155:1:{}", eth_address(wallet.verifying_key()));
//!
//! let genesis = Payload::Genesis(genesis_for_account(&account)?);
//! let cid = *Block::encode(Codec::DagCbor, &genesis)?.cid();
//! let commit = Commit { cid, payload: &genesis, signer: None, capability: None, timestamp: None };
//! let genesis = Caip10Link.apply_genesis(&commit, &NoStreams)?;
//! let state = StreamState::from_genesis(StreamId::new(StreamType::CAIP10_LINK, cid)?, None, genesis);
//!
//! let proof = LinkProof::sign_eoa(&wallet, "did:key:z6MkExample", 1, 1_700_000_000);
//! let update = Payload::Data(DataCommit {
//!     id: cid,
//!     prev: state.tip(),
//!     header: None,
//!     data: Some(proof.to_ipld()),
//! });
//! let cid = *Block::encode(Codec::DagCbor, &update)?.cid();
//! let commit = Commit { cid, payload: &update, signer: None, capability: None, timestamp: None };
//! let change = Caip10Link.apply_data(&state, &commit, &NoStreams)?;
//! let linked = state.with_change(cid, None, change);
//! assert_eq!(linked.current_content(), "did:key:z6MkExample");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Feature flags: `test-utils` (fixtures and proptest strategies in [`test_utils`]).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod account;
mod error;
mod eth;
mod link;
mod proof;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use account::{AccountId, genesis_for_account};
pub use error::{Error, Result};
pub use eth::{eth_address, personal_sign, personal_sign_hash, recover_address};
pub use link::{Caip10Link, LAST_UPDATE};
pub use proof::{LinkProof, VerifiedLink, consent_message, find_did};
