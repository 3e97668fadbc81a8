//! did:pkh (blockchain accounts as DIDs, CAIP-10 account ids): the two namespaces CACAO sessions
//! use, `eip155` (Ethereum, 20-byte addresses, EIP-55 checksums) and `solana` (Ed25519 public
//! keys in base58btc).

use std::fmt;
use std::str::FromStr;

use sha3::{Digest as _, Keccak256};

use crate::cacao::CacaoError;

/// The account a did:pkh names, decoded to what signature checks need.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PkhAccount {
    /// `did:pkh:eip155:<chain id>:<0x address>`.
    Eip155 {
        /// The EIP-155 chain id (decimal digits).
        chain_id: String,
        /// The address as written in the DID (any letter case).
        address: String,
        /// The address bytes.
        bytes: [u8; 20],
    },
    /// `did:pkh:solana:<genesis hash prefix>:<base58btc public key>`.
    Solana {
        /// The chain reference (genesis hash prefix).
        chain_ref: String,
        /// The address as written (base58btc).
        address: String,
        /// The Ed25519 public key the address is.
        key: ed25519_dalek::VerifyingKey,
    },
}

impl fmt::Debug for PkhAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PkhAccount::Eip155 { chain_id, address, .. } => {
                write!(f, "eip155:{chain_id}:{address}")
            }
            PkhAccount::Solana { chain_ref, address, .. } => {
                write!(f, "solana:{chain_ref}:{address}")
            }
        }
    }
}

/// A parsed did:pkh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DidPkh {
    did: String,
    account: PkhAccount,
}

impl DidPkh {
    /// The DID string as given.
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The account.
    pub fn account(&self) -> &PkhAccount {
        &self.account
    }

    /// The CAIP-2 chain reference (`1` for Ethereum mainnet).
    pub fn chain_reference(&self) -> &str {
        match &self.account {
            PkhAccount::Eip155 { chain_id, .. } => chain_id,
            PkhAccount::Solana { chain_ref, .. } => chain_ref,
        }
    }

    /// The address as written in the DID.
    pub fn address(&self) -> &str {
        match &self.account {
            PkhAccount::Eip155 { address, .. } | PkhAccount::Solana { address, .. } => address,
        }
    }
}

fn is_reference(s: &str) -> bool {
    // CAIP-2 reference: [-_a-zA-Z0-9]{1,32}.
    (1..=32).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl FromStr for DidPkh {
    type Err = CacaoError;

    /// Parses `did:pkh:eip155:<chain>:<0x…>` or `did:pkh:solana:<ref>:<base58btc key>`.
    fn from_str(did: &str) -> Result<Self, CacaoError> {
        let invalid =
            |reason| CacaoError::InvalidIssuer { issuer: did.chars().take(200).collect(), reason };
        let rest = did.strip_prefix("did:pkh:").ok_or(invalid("not a did:pkh"))?;
        let mut parts = rest.split(':');
        let (Some(namespace), Some(reference), Some(address), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("not <namespace>:<reference>:<address>"));
        };
        if !is_reference(reference) {
            return Err(invalid("the chain reference is not [-_a-zA-Z0-9]{1,32}"));
        }
        let account = match namespace {
            "eip155" => {
                if !reference.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid("the eip155 chain id is not decimal"));
                }
                let hex = address
                    .strip_prefix("0x")
                    .filter(|h| h.len() == 40)
                    .ok_or(invalid("the address is not 0x and 40 hex digits"))?;
                let mut bytes = [0u8; 20];
                hex::decode_to_slice(hex, &mut bytes)
                    .map_err(|_| invalid("the address is not 0x and 40 hex digits"))?;
                PkhAccount::Eip155 {
                    chain_id: reference.to_string(),
                    address: address.to_string(),
                    bytes,
                }
            }
            "solana" => {
                let key = decode_base58(address)
                    .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                    .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
                    .ok_or(invalid("the address is not a base58btc Ed25519 public key"))?;
                PkhAccount::Solana {
                    chain_ref: reference.to_string(),
                    address: address.to_string(),
                    key,
                }
            }
            _ => return Err(invalid("unsupported namespace (eip155 and solana are)")),
        };
        Ok(DidPkh { did: did.to_string(), account })
    }
}

/// Decodes base58btc (the Bitcoin alphabet) without a multibase prefix.
pub(crate) fn decode_base58(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || text.len() > 200 {
        return None;
    }
    let (base, bytes) = multibase::decode(format!("z{text}")).ok()?;
    (base == multibase::Base::Base58Btc).then_some(bytes)
}

/// The EIP-55 mixed-case checksum form of an address: `0x` and hex digits, a letter upper case
/// where the matching nibble of keccak256(lowercase hex) is 8 or more.
pub fn eip55_checksum(address: &[u8; 20]) -> String {
    let lower = hex::encode(address);
    let hash = Keccak256::digest(lower.as_bytes());
    let mut out = String::with_capacity(42);
    out.push_str("0x");
    for (i, c) in lower.chars().enumerate() {
        let nibble = (hash[i / 2] >> if i % 2 == 0 { 4 } else { 0 }) & 0x0f;
        out.push(if nibble >= 8 { c.to_ascii_uppercase() } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eip55_matches_the_eip_examples() {
        // Test vectors from EIP-55.
        for want in [
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
            "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
            "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
            "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        ] {
            let mut bytes = [0u8; 20];
            hex::decode_to_slice(&want[2..], &mut bytes).unwrap();
            assert_eq!(eip55_checksum(&bytes), want);
        }
    }

    #[test]
    fn parses_both_namespaces_and_rejects_the_rest() {
        let eth: DidPkh =
            "did:pkh:eip155:1:0x048ffe2432385d31369acdcb65760d1e60b97688".parse().unwrap();
        assert_eq!(eth.chain_reference(), "1");
        let sol: DidPkh =
            "did:pkh:solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp:5ixqDuTw1hpviMqHqxNz7cxwmiqzvfBEWyBPqPEfYT2b"
                .parse()
                .unwrap();
        assert!(matches!(sol.account(), PkhAccount::Solana { .. }));
        for bad in [
            "did:key:z6Mk",
            "did:pkh:eip155:1:0x048ffe",
            "did:pkh:eip155:x:0x048ffe2432385d31369acdcb65760d1e60b97688",
            "did:pkh:eip155:1:0x048ffe2432385d31369acdcb65760d1e60b9768g",
            "did:pkh:tezos:NetXdQprcVkpaWU:tz1",
            "did:pkh:solana:5eykt:0OIl",
            "did:pkh:eip155:1:0x048ffe2432385d31369acdcb65760d1e60b97688:extra",
        ] {
            assert!(
                matches!(bad.parse::<DidPkh>(), Err(CacaoError::InvalidIssuer { .. })),
                "{bad}"
            );
        }
    }
}
