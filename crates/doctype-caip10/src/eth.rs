//! Ethereum `personal_sign` (EIP-191) signatures: the message hash, address recovery
//! (`ecrecover`) and signing, as ethers' `verifyMessage` / `hashMessage` do them.
//!
//! Hand-written over `k256` and `sha3` (about 60 lines) rather than pulling in an Ethereum
//! crate such as `alloy` or `ethers-core`, which would bring hundreds of dependencies for one
//! hash and one recovery.

use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use sha3::{Digest, Keccak256};

use crate::{Error, Result};

/// The EIP-191 version-0x45 prefix `personal_sign` puts before the message length.
const PREFIX: &[u8] = b"\x19Ethereum Signed Message:\n";

/// keccak-256 of `bytes`.
pub(crate) fn keccak256(bytes: &[u8]) -> [u8; 32] {
    let digest = Keccak256::digest(bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(&digest);
    out
}

/// The hash `personal_sign` signs: `keccak256("\x19Ethereum Signed Message:\n" + len + message)`,
/// `len` being the message's UTF-8 length in decimal (ethers `hashMessage`).
pub fn personal_sign_hash(message: &str) -> [u8; 32] {
    let mut hasher = Keccak256::new();
    hasher.update(PREFIX);
    hasher.update(message.len().to_string().as_bytes());
    hasher.update(message.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(&hasher.finalize());
    out
}

/// The Ethereum address of a public key: the last 20 bytes of the keccak-256 of the
/// uncompressed point without its `0x04` tag, as `0x` and lower-case hex.
pub fn eth_address(key: &VerifyingKey) -> String {
    let point = key.to_sec1_point(false);
    let bytes = point.as_bytes();
    // An uncompressed SEC1 point is 0x04 || x || y (65 bytes).
    let hash = keccak256(bytes.get(1..).unwrap_or_default());
    let tail = hash.get(12..).unwrap_or_default();
    format!("0x{}", hex::encode(tail))
}

/// Signs `message` with `personal_sign`: `0x` + hex of `r || s || v`, `v` being 27 or 28, as
/// wallets return it.
pub fn personal_sign(key: &SigningKey, message: &str) -> String {
    let (signature, recovery) = key.sign_prehash_recoverable(&personal_sign_hash(message));
    let mut bytes = signature.to_bytes().to_vec();
    bytes.push(27 + u8::from(recovery.is_y_odd()));
    format!("0x{}", hex::encode(bytes))
}

/// Recovers the address that signed `message` with `personal_sign` (ethers `verifyMessage`),
/// lower-case.
///
/// The signature is `0x` + 65 bytes of hex, `r || s || v` with `v` 27/28 (or 0/1). ethers also
/// takes other `v ≥ 27` by parity and 64-byte EIP-2098 signatures; no wallet writes those for
/// `personal_sign`, and we reject them so that one proof has one encoding.
///
/// # Errors
/// [`Error::SignatureNotHex`], [`Error::SignatureLength`], [`Error::SignatureRecoveryByte`],
/// [`Error::InvalidSignature`].
pub fn recover_address(message: &str, signature: &str) -> Result<String> {
    let hex_digits = signature.strip_prefix("0x").ok_or(Error::SignatureNotHex)?;
    let bytes = hex::decode(hex_digits).map_err(|_| Error::SignatureNotHex)?;
    let [rs @ .., v] = bytes.as_slice() else { return Err(Error::SignatureLength(0)) };
    if bytes.len() != 65 {
        return Err(Error::SignatureLength(bytes.len()));
    }
    let y_odd = match v {
        27 | 0 => false,
        28 | 1 => true,
        other => return Err(Error::SignatureRecoveryByte(*other)),
    };
    // k256 rejects r or s of zero or not below the group order; high s is accepted, as
    // ecrecover does.
    let signature = Signature::from_slice(rs).map_err(|_| Error::InvalidSignature)?;
    let key = VerifyingKey::recover_from_prehash(
        &personal_sign_hash(message),
        &signature,
        RecoveryId::new(y_odd, false),
    )
    .map_err(|_| Error::InvalidSignature)?;
    Ok(eth_address(&key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> SigningKey {
        SigningKey::from_slice(&[n; 32]).unwrap()
    }

    #[test]
    fn address_of_a_known_key() {
        // The private key 0x…01 is the generator; its address is well known.
        let mut one = [0u8; 32];
        one[31] = 1;
        let key = SigningKey::from_slice(&one).unwrap();
        assert_eq!(eth_address(key.verifying_key()), "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
    }

    #[test]
    fn recovers_what_it_signs() {
        let key = key(7);
        let signature = personal_sign(&key, "hello");
        assert_eq!(recover_address("hello", &signature).unwrap(), eth_address(key.verifying_key()));
        assert_ne!(
            recover_address("hello!", &signature).unwrap(),
            eth_address(key.verifying_key())
        );
    }

    #[test]
    fn accepts_v_as_zero_or_one() {
        let key = key(9);
        let signature = personal_sign(&key, "m");
        let mut bytes = hex::decode(&signature[2..]).unwrap();
        bytes[64] -= 27;
        let zero_based = format!("0x{}", hex::encode(&bytes));
        assert_eq!(recover_address("m", &zero_based).unwrap(), eth_address(key.verifying_key()));
    }

    #[test]
    fn rejects_malformed_signatures() {
        assert!(matches!(recover_address("m", "abcd"), Err(Error::SignatureNotHex)));
        assert!(matches!(recover_address("m", "0xzz"), Err(Error::SignatureNotHex)));
        assert!(matches!(recover_address("m", "0x"), Err(Error::SignatureLength(0))));
        assert!(matches!(recover_address("m", "0xabcd"), Err(Error::SignatureLength(2))));
        let mut bytes = vec![1u8; 65];
        bytes[64] = 29;
        let bad_v = format!("0x{}", hex::encode(&bytes));
        assert!(matches!(recover_address("m", &bad_v), Err(Error::SignatureRecoveryByte(29))));
        let zero = format!("0x{}1b", "00".repeat(64));
        assert!(matches!(recover_address("m", &zero), Err(Error::InvalidSignature)));
    }
}
