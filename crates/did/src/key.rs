//! did:key for Ed25519 (multicodec 0xed) and secp256k1 (0xe7, compressed SEC1).

use std::fmt;
use std::str::FromStr;

use multibase::Base;

use crate::{Error, Result};

/// The key types did:key supports here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// Ed25519, JWS `EdDSA`.
    Ed25519,
    /// secp256k1, JWS `ES256K`.
    Secp256k1,
}

impl KeyType {
    /// The public-key multicodec.
    pub const fn multicodec(self) -> u64 {
        match self {
            KeyType::Ed25519 => 0xed,
            KeyType::Secp256k1 => 0xe7,
        }
    }

    /// The key type's name.
    pub const fn name(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "Ed25519",
            KeyType::Secp256k1 => "secp256k1",
        }
    }
}

impl FromStr for KeyType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "ed25519" => Ok(KeyType::Ed25519),
            "secp256k1" => Ok(KeyType::Secp256k1),
            _ => Err(Error::UnsupportedAlgorithm(s.to_string())),
        }
    }
}

/// The longest did:key string parsed: `did:key:` (8) + `z` (1) + the base58btc digits of the
/// longest key bytes, `varint(multicodec)` (2 bytes for 0xed and 0xe7) + a 33-byte compressed
/// secp256k1 key = 35 bytes, ⌈35·8 / log2 58⌉ = ⌈47.8⌉ = 48 digits (the first byte is not
/// zero, so there are no leading `1`s): 57. Longer text is refused before it is decoded, since
/// base58 decoding is quadratic in the length. Raise it with a new, longer key type.
pub const MAX_DID_KEY_LEN: usize = 8 + 1 + 48;

/// A decoded public key, ready to verify.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKey {
    /// An Ed25519 key.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// A secp256k1 key.
    Secp256k1(k256::ecdsa::VerifyingKey),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}({})",
            self.key_type().name(),
            multibase::encode(Base::Base16Lower, self.to_bytes())
        )
    }
}

impl PublicKey {
    /// Decodes key bytes of `key_type` (32 bytes for Ed25519, 33-byte compressed SEC1 for
    /// secp256k1).
    ///
    /// # Errors
    /// [`Error::InvalidKey`].
    pub fn from_bytes(key_type: KeyType, bytes: &[u8]) -> Result<Self> {
        let invalid = || Error::InvalidKey { key_type: key_type.name(), len: bytes.len() };
        match key_type {
            KeyType::Ed25519 => {
                let bytes: &[u8; 32] = bytes.try_into().map_err(|_| invalid())?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| invalid())?;
                Ok(PublicKey::Ed25519(key))
            }
            KeyType::Secp256k1 => {
                if bytes.len() != 33 {
                    return Err(invalid());
                }
                let key =
                    k256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(|_| invalid())?;
                Ok(PublicKey::Secp256k1(key))
            }
        }
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        match self {
            PublicKey::Ed25519(_) => KeyType::Ed25519,
            PublicKey::Secp256k1(_) => KeyType::Secp256k1,
        }
    }

    /// The key bytes (compressed SEC1 for secp256k1).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            PublicKey::Ed25519(key) => key.to_bytes().to_vec(),
            PublicKey::Secp256k1(key) => key.to_sec1_point(true).as_bytes().to_vec(),
        }
    }
}

/// A did:key: `did:key:z<base58btc(varint(multicodec) key)>`.
#[derive(Clone, PartialEq, Eq)]
pub struct DidKey {
    did: String,
    key: PublicKey,
}

impl fmt::Debug for DidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.did)
    }
}

impl DidKey {
    /// The did:key of a public key.
    pub fn new(key: PublicKey) -> Self {
        let mut bytes = Vec::with_capacity(35);
        let mut buf = unsigned_varint::encode::u64_buffer();
        bytes
            .extend_from_slice(unsigned_varint::encode::u64(key.key_type().multicodec(), &mut buf));
        bytes.extend_from_slice(&key.to_bytes());
        DidKey { did: format!("did:key:{}", multibase::encode(Base::Base58Btc, bytes)), key }
    }

    /// The DID string.
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The key id the JS `key-did-provider-*` libraries use: `did:key:z…#z…`.
    pub fn kid(&self) -> String {
        format!("{}#{}", self.did, self.fragment())
    }

    /// The multibase part of the DID, also the verification method's fragment.
    pub fn fragment(&self) -> &str {
        &self.did["did:key:".len()..]
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }
}

impl FromStr for DidKey {
    type Err = Error;

    /// Parses `did:key:z…` (a key id with `#fragment` is not a DID; strip it first). Text longer
    /// than [`MAX_DID_KEY_LEN`] is [`Error::DidKeyTooLong`] before anything is decoded.
    fn from_str(did: &str) -> Result<Self> {
        let id = did
            .strip_prefix("did:key:")
            .ok_or_else(|| Error::NotADid(did.chars().take(200).collect()))?;
        if did.len() > MAX_DID_KEY_LEN {
            return Err(Error::DidKeyTooLong { len: did.len(), max: MAX_DID_KEY_LEN });
        }
        let invalid = || Error::InvalidMultibase(id.chars().take(200).collect());
        if !id.starts_with('z') {
            return Err(invalid());
        }
        let (base, bytes) = multibase::decode(id).map_err(|_| invalid())?;
        if base != Base::Base58Btc {
            return Err(invalid());
        }
        let (codec, key) = unsigned_varint::decode::u64(&bytes).map_err(|_| invalid())?;
        let key_type = match codec {
            0xed => KeyType::Ed25519,
            0xe7 => KeyType::Secp256k1,
            other => return Err(Error::UnsupportedKeyType(other)),
        };
        // One key, one DID: the varint decoder rejects non-minimal varints, base58btc is a
        // bijection, and a decoded key re-encodes to the same bytes (compressed points only), so
        // the string given is the canonical one and need not be re-encoded to check it.
        let key = PublicKey::from_bytes(key_type, key)?;
        Ok(DidKey { did: did.to_string(), key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_other_methods_and_bases() {
        assert!(matches!("did:web:example.com".parse::<DidKey>(), Err(Error::NotADid(_))));
        assert!(matches!("did:key:f00".parse::<DidKey>(), Err(Error::InvalidMultibase(_))));
        assert!(matches!("did:key:z".parse::<DidKey>(), Err(Error::InvalidMultibase(_))));
        // P-256 (0x1200) is a valid did:key, but not one we support yet.
        let p256 = multibase::encode(Base::Base58Btc, [0x80, 0x24, 2, 1, 2, 3]);
        assert!(matches!(
            format!("did:key:{p256}").parse::<DidKey>(),
            Err(Error::UnsupportedKeyType(0x1200))
        ));
    }

    #[test]
    fn parses_what_it_prints() {
        for key_type in [KeyType::Ed25519, KeyType::Secp256k1] {
            let signer = crate::KeySigner::from_seed(key_type, &[5; 32]).unwrap();
            let parsed: DidKey = crate::Signer::did(&signer).parse().unwrap();
            assert_eq!(&parsed, signer.did_key());
        }
    }

    #[test]
    fn rejects_non_minimal_varints() {
        let key = crate::KeySigner::from_seed(KeyType::Ed25519, &[5; 32]).unwrap();
        let mut bytes = vec![0xed, 0x81, 0x00];
        bytes.extend_from_slice(&key.did_key().public_key().to_bytes());
        let text = multibase::encode(Base::Base58Btc, bytes);
        assert!(format!("did:key:{text}").parse::<DidKey>().is_err());
    }

    #[test]
    fn rejects_keys_of_the_wrong_length() {
        let short = multibase::encode(Base::Base58Btc, [0xed, 0x01, 1, 2, 3]);
        assert!(matches!(
            format!("did:key:{short}").parse::<DidKey>(),
            Err(Error::InvalidKey { .. })
        ));
        let mut uncompressed = vec![0xe7, 0x01, 0x04];
        uncompressed.extend_from_slice(&[1; 64]);
        let text = multibase::encode(Base::Base58Btc, uncompressed);
        // 67 bytes cannot be a supported key: refused on its length alone.
        assert!(matches!(
            format!("did:key:{text}").parse::<DidKey>(),
            Err(Error::DidKeyTooLong { max: MAX_DID_KEY_LEN, .. })
        ));
    }

    #[test]
    fn the_longest_supported_keys_fit_and_a_1_mib_did_is_refused_before_decoding() {
        // The largest key bytes of each type (all 0xff after the multicodec) are the longest text.
        for (codec, len) in [(0xed_u64, 32), (0xe7, 33)] {
            let mut bytes = unsigned_varint::encode::u64(codec, &mut Default::default()).to_vec();
            bytes.extend(std::iter::repeat_n(0xff, len));
            let did = format!("did:key:{}", multibase::encode(Base::Base58Btc, &bytes));
            assert!(did.len() <= MAX_DID_KEY_LEN, "{did}");
            assert!(!matches!(did.parse::<DidKey>(), Err(Error::DidKeyTooLong { .. })));
        }
        let huge = format!("did:key:z{}", "6".repeat(1024 * 1024));
        assert!(matches!(
            huge.parse::<DidKey>(),
            Err(Error::DidKeyTooLong { len, max: MAX_DID_KEY_LEN }) if len == huge.len()
        ));
    }
}
