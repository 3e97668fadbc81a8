//! The signer interface and the did:key signer.

use std::fmt;

use crate::jws::Algorithm;
use crate::key::{DidKey, KeyType, PublicKey};
use crate::{Error, Result};

/// 32 random bytes from the operating system, for a new key's seed.
///
/// # Errors
/// [`Error::Random`] if the OS random number generator fails.
pub fn random_seed() -> Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|_| Error::Random)?;
    Ok(seed)
}

/// Something that signs JWS for a DID: a local key, a remote wallet, a key management service.
pub trait Signer: Send + Sync {
    /// The DID that signs (the `kid` without its fragment).
    fn did(&self) -> &str;
    /// The key id written into the protected header.
    fn kid(&self) -> String;
    /// The JWS algorithm.
    fn algorithm(&self) -> Algorithm;
    /// Signs the JWS signing input (`base64url(header) "." base64url(payload)`), returning the
    /// raw signature (64 bytes for EdDSA and ES256K).
    ///
    /// # Errors
    /// Whatever the signing backend reports.
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>>;
}

enum SecretKey {
    Ed25519(ed25519_dalek::SigningKey),
    Secp256k1(k256::ecdsa::SigningKey),
}

/// A did:key signer holding its secret key in memory.
pub struct KeySigner {
    secret: SecretKey,
    did: DidKey,
}

impl fmt::Debug for KeySigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySigner").field("did", &self.did.did()).finish_non_exhaustive()
    }
}

impl KeySigner {
    /// The signer whose secret key is `seed` (32 bytes): the Ed25519 seed, as
    /// `key-did-provider-ed25519` takes it, or the secp256k1 private scalar.
    ///
    /// # Errors
    /// [`Error::InvalidSeed`] for a seed that is not 32 bytes or not a valid secp256k1 scalar.
    pub fn from_seed(key_type: KeyType, seed: &[u8]) -> Result<Self> {
        let seed: &[u8; 32] = seed.try_into().map_err(|_| Error::InvalidSeed)?;
        let (secret, public) = match key_type {
            KeyType::Ed25519 => {
                let key = ed25519_dalek::SigningKey::from_bytes(seed);
                let public = PublicKey::Ed25519(key.verifying_key());
                (SecretKey::Ed25519(key), public)
            }
            KeyType::Secp256k1 => {
                let key =
                    k256::ecdsa::SigningKey::from_slice(seed).map_err(|_| Error::InvalidSeed)?;
                let public = PublicKey::Secp256k1(*key.verifying_key());
                (SecretKey::Secp256k1(key), public)
            }
        };
        Ok(KeySigner { secret, did: DidKey::new(public) })
    }

    /// A signer with a fresh random key from the operating system.
    ///
    /// # Errors
    /// [`Error::Random`] if the OS random number generator fails.
    pub fn generate(key_type: KeyType) -> Result<Self> {
        loop {
            match Self::from_seed(key_type, &random_seed()?) {
                // A secp256k1 seed outside the scalar field (probability ~2^-128): draw again.
                Err(Error::InvalidSeed) => continue,
                other => return other,
            }
        }
    }

    /// The did:key.
    pub fn did_key(&self) -> &DidKey {
        &self.did
    }
}

impl Signer for KeySigner {
    fn did(&self) -> &str {
        self.did.did()
    }

    fn kid(&self) -> String {
        self.did.kid()
    }

    fn algorithm(&self) -> Algorithm {
        match self.secret {
            SecretKey::Ed25519(_) => Algorithm::EdDSA,
            SecretKey::Secp256k1(_) => Algorithm::ES256K,
        }
    }

    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>> {
        use ed25519_dalek::Signer as _;
        match &self.secret {
            SecretKey::Ed25519(key) => Ok(key.sign(signing_input).to_bytes().to_vec()),
            SecretKey::Secp256k1(key) => {
                // RFC 6979 deterministic nonce, SHA-256, low-S: the same bytes did-jwt makes.
                let signature: k256::ecdsa::Signature = key.sign(signing_input);
                Ok(signature.to_bytes().to_vec())
            }
        }
    }
}
