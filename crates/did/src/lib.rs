//! DIDs for Ceramic: the signer and resolver interfaces, did:key for Ed25519 and secp256k1, did:3
//! (3ID, resolved through a [`ThreeIdSource`] the node implements, with its key-rotation rules), JWS
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
//! CACAO sessions (`did-session`: a session did:key signs, its authority a wallet-signed CACAO
//! named by the JWS `cap` header) are decoded and checked by [`Cacao`] / [`CacaoVerifier`]
//! (modules `cacao`, `siwe`, `pkh`; rules in `specs/identity.md`); the engine asks for them
//! after [`verify_commit`], because the resource and time rules need the stream and its anchor
//! time. [`sign_commit_with_cacao`] writes as a wallet user through such a session.
//!
//! The resolver interface is synchronous: did:key needs no I/O. Methods that must load a stream
//! (did:3) implement it over a cache the node fills; the [`Resolver`] trait is object safe so a
//! node can hold a [`Registry`] of methods.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod cacao;
mod commit;
mod error;
mod jws;
mod key;
mod pkh;
mod resolver;
mod signer;
mod siwe;
mod three_id;

#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;

pub use cacao::{
    CLOCK_SKEW_SECS, Cacao, CacaoError, CacaoHeader, CacaoPayload, CacaoSignature, CacaoVerifier,
    LEGACY_CHAIN_ID_REORG_MS, REVOCATION_PHASE_OUT_SECS, cap_cid,
};
pub use commit::{
    SignedCommit, VerifiedCommit, sign_commit, sign_commit_with_cacao, verify_commit,
    verify_envelope,
};
pub use error::{Error, Result};
pub use jws::{Algorithm, Jws, JwsSignature, ProtectedHeader, Verified, sign_jws, verify_jws};
pub use key::{DidKey, KeyType, MAX_DID_KEY_LEN, PublicKey};
pub use pkh::{DidPkh, PkhAccount, eip55_checksum};
pub use resolver::{
    CachingResolver, DidDocument, KeyResolver, Registry, Resolver, VerificationMethod,
};
pub use signer::{KeySigner, Signer, random_seed};
pub use siwe::{SiweMessage, parse_time};
pub use three_id::{
    At, DeferredSource, DocumentMetadata, LogEntry as ThreeIdLogEntry,
    Resolution as ThreeIdResolution, SourceError, StreamState as ThreeIdState, ThreeIdError,
    ThreeIdKind, ThreeIdResolver, ThreeIdSigner, ThreeIdSource, ThreeIdUrl,
    Version as ThreeIdVersion, check_times as check_three_id_times,
    public_key_entry as three_id_public_key, three_id_content,
    wrap_document as wrap_three_id_document,
};
