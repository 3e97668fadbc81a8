//! Ceramic anchoring on a real Ethereum chain: [`EthChain`] implements `ceramic-anchor`'s
//! [`Chain`](ceramic_anchor::Chain) over JSON-RPC. The anchor service uses it to put Merkle
//! roots on chain ([`Chain::anchor_root`](ceramic_anchor::Chain::anchor_root): an EIP-1559
//! transaction calling `anchorDagCbor(bytes32)` on the anchor contract, or a legacy v0 raw
//! transaction), and nodes use it, behind [`ceramic_anchor::Chains`] (which caches confirmed
//! proofs and is an [`AnchorVerifier`](ceramic_anchor::AnchorVerifier)), to check anchor proofs
//! by js-ceramic's `ethereum-anchor-validator` rules plus a succeeded receipt.
//!
//! Layer: above `ceramic-anchor` (which has the calldata forms, thresholds and tx-hash CIDs),
//! below the anchor service and the node. Follows `specs/anchoring.md` "Ethereum" (CIP-110,
//! CAIP-168, js-ceramic ethereum-anchor-validator.ts, the CAS's ethereum-blockchain-service.ts).
//!
//! ```
//! use std::sync::Arc;
//! use ceramic_anchor::{AnchorVerifier, Batch, Chain, Chains, Request, Witness};
//! use ceramic_anchor_eth::test_utils::{Anvil, dev_key};
//! use ceramic_anchor_eth::{Config, EthChain};
//! use ceramic_codecs::cid_of;
//!
//! // A real dev chain (feature `test-utils`) with the anchor contract deployed on it.
//! let anvil = Anvil::start();
//! let contract = EthChain::connect(anvil.config())?.deploy_contract()?;
//!
//! // The anchor service: a key and the contract; the chain id is checked on connect.
//! let config = Config::new(anvil.url(), 1337).with_contract(contract).with_signer(dev_key());
//! let chain = Arc::new(EthChain::connect(config)?);
//! let requests = (0u8..3)
//!     .map(|i| Request { genesis: cid_of(0x71, &[i]), tip: cid_of(0x71, &[i, 1]) })
//!     .collect();
//! let batch = Batch::new(requests)?;
//! let tx_hash = chain.anchor_root(&batch.root())?; // blocks until mined
//! let anchors = batch.finish(chain.chain_id(), tx_hash, chain.tx_type())?;
//!
//! // A node: `Chains` routes proofs by chain id, caches confirmed ones, and is the engine's
//! // AnchorVerifier. (A node needs no key: `Config::new(url, chain_id)` alone.)
//! let verifier = Chains::new().with(chain);
//! let witness = Witness::from_car(&anchors.witness_car(0)?)?;
//! let timestamp = verifier.verify(witness.proof())?; // the block's unix time
//! assert!(timestamp > 1_700_000_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Tests get a real chain from the `test-utils` feature: `test_utils::Anvil::start()` runs
//! anvil from `tools/anvil/` (`cargo xtask tools`), and `Anvil::chain_with_contract()` deploys
//! the committed contract (`contract/CeramicAnchorServiceV2.{sol,bin,abi.json}`, compiled by
//! `cargo xtask contract`) and returns a connected [`EthChain`].
//!
//! ## Dependencies
//! No `alloy` or `ethers` (deprecated): `alloy` 2.5 with an HTTP provider is ~440 crates. The
//! JSON-RPC client is a POST per call with [`ureq`] 3 (blocking, rustls with ring, webpki
//! roots; ~20 crates of its own), answers are read by hand into typed values with
//! `serde_json` ([`Transaction`], [`Block`], [`Receipt`]; every field checked, typed
//! [`RpcError`]s, a fuzz target), and EIP-1559 transactions are RLP-encoded and signed with the
//! workspace's `k256` 0.14 and `sha3` (~120 lines in `tx.rs`, checked by a decoding property
//! test, by re-signing two transactions anvil signed to the same hash, `r` and `s`, and by
//! anvil returning our hash for every transaction the integration tests send).
//!
//! Measured on the 2-core dev VM on 2026-11-24, while other builds shared it (load average
//! about 4): `cargo build -p ceramic-anchor-eth` into an empty target dir (dev profile,
//! dependencies at opt-level 2) took **239 s**, of which **63 s** were ureq and its TLS stack
//! alone (`cargo build -p ureq` first: ring's C code, rustls, webpki-roots); the other 176 s are
//! `ceramic-anchor` and the workspace crates and crypto below it, which the node builds anyway.
//! `cargo tree -e normal` counts 24 crates under ureq and 168 under this crate.
//!
//! Feature flags: `test-utils` (the anvil harness, `test_utils`), `fuzzing` (the body of the
//! `anchor_eth_rpc_response` fuzz target, `fuzzing`).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod chain;
mod error;
mod json;
mod rpc;
mod tx;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use chain::{Config, EthChain, anchor_contract_bytecode, parse_address, parse_private_key};
pub use error::{Error, FieldProblem, Result, RpcError};
pub use json::{Block, MAX_DATA_BYTES, Receipt, Transaction, data, parse_response, quantity};
pub use tx::{Address, address_of};
