//! DIDs for Ceramic: the signer and resolver interfaces, did:key for Ed25519 and secp256k1, JWS
//! signing and verification (EdDSA, ES256K), and signing a commit into a dag-jose envelope the
//! way the JavaScript `dids` library's `createDagJWS` does.
//!
//! Layer: above `ceramic-codecs`, below the doctypes. Follows `specs/did.md`.
//!
//! ```
//! use ceramic_codecs::{GenesisCommit, Header, Ipld};
//! use ceramic_did::{KeyResolver, KeySigner, KeyType, Signer, sign_commit, verify_commit};
//!
//! let signer = KeySigner::from_seed(KeyType::Ed25519, &[7; 32])?;
//! let genesis = GenesisCommit {
//!     header: Header { controllers: Some(vec![signer.did().to_string()]), ..Header::default() },
//!     data: Some(Ipld::Null),
//! };
//! let signed = sign_commit(&signer, &genesis.into())?;
//! let verified = verify_commit(&KeyResolver, signed.envelope_block().data(), signed.payload_block().data())?;
//! assert_eq!(verified.did(), signer.did());
//! # Ok::<(), ceramic_did::Error>(())
//! ```
//!
//! Hand-written, and why: did:key is a multicodec prefix and base58btc (about 100 lines), and
//! JWS is base64url over two byte strings. `ssi` (463 crates), `did-key` (stale crypto) and
//! `josekit` (which our user named, but which needs OpenSSL and does far more than the two
//! algorithms Ceramic uses) would cost more than they give.
//!
//! Ed25519 signatures are checked with `verify_strict` (no small-order keys, canonical `S`):
//! honest signers always pass it, and it closes the malleability that lenient checks allow.
//!
//! The resolver interface is synchronous: did:key needs no I/O. Methods that must load a stream
//! (did:3) implement it over a cache the node fills; the [`Resolver`] trait is object safe so a
//! node can hold a [`Registry`] of methods.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod commit;
mod error;
mod jws;
mod key;
mod resolver;
mod signer;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;

pub use commit::{SignedCommit, VerifiedCommit, sign_commit, verify_commit, verify_envelope};
pub use error::{Error, Result};
pub use jws::{Algorithm, Jws, JwsSignature, ProtectedHeader, Verified, sign_jws, verify_jws};
pub use key::{DidKey, KeyType, MAX_DID_KEY_LEN, PublicKey};
pub use resolver::{
    CachingResolver, DidDocument, KeyResolver, Registry, Resolver, VerificationMethod,
};
pub use signer::{KeySigner, Signer, random_seed};
