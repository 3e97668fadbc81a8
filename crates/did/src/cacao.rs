//! CACAO (CAIP-74 chain-agnostic capability objects): the dag-cbor block a `did-session` wallet
//! signs to let a session did:key write for it, its signature checks (EIP-191 for
//! `did:pkh:eip155`, Ed25519 for `did:pkh:solana`), and the rules js-ceramic applies before it
//! accepts a commit signed under one (audience, resources, time).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ceramic_codecs::{Block, Cid};
use serde::{Deserialize, Serialize};
use sha3::{Digest as _, Keccak256};

use crate::pkh::{DidPkh, PkhAccount, decode_base58, eip55_checksum};
use crate::siwe::{SiweMessage, parse_time};

/// Why a CACAO, or a commit signed under one, was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacaoError {
    /// The JWS `cap` header is not `ipfs://<CID>`.
    #[error("the JWS cap header is not ipfs://<CID>: {0:?}")]
    InvalidCapLink(String),
    /// The block delivered for the `cap` CID does not hash to it.
    #[error(
        "the CACAO block does not hash to the CID the JWS names ({expected}); it hashes to {actual}"
    )]
    CidMismatch {
        /// The CID the JWS header names.
        expected: Box<Cid>,
        /// The CID of the bytes delivered.
        actual: Box<Cid>,
    },
    /// The block is not a canonical dag-cbor CACAO (`h`, `p`, `s`, known fields only).
    #[error("not a CACAO: {0}")]
    Decode(#[source] ceramic_codecs::Error),
    /// `h.t` is not `eip4361` or `caip122`.
    #[error("unsupported CACAO header type {0:?}")]
    UnsupportedHeaderType(String),
    /// `s.t` is not `eip191` or `solana:ed25519`.
    #[error("unsupported CACAO signature type {0:?}")]
    UnsupportedSignatureType(String),
    /// The CACAO has no signature.
    #[error("the CACAO is not signed")]
    Unsigned,
    /// A field a signed message needs is empty (`nonce`, `iat`, `domain`, …).
    #[error("the CACAO field {0} is empty")]
    EmptyField(&'static str),
    /// The issuer is not a did:pkh this node can check.
    #[error("CACAO issuer {issuer:?}: {reason}")]
    InvalidIssuer {
        /// The issuer.
        issuer: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The signature type does not fit the issuer's chain.
    #[error("signature type {sig_type} cannot sign for {issuer}")]
    SignatureTypeMismatch {
        /// `s.t`.
        sig_type: String,
        /// The issuer.
        issuer: String,
    },
    /// The signature bytes are not in the form of their type (0x + 65 bytes hex; base58btc 64).
    #[error("malformed {0} signature encoding")]
    InvalidSignatureEncoding(&'static str),
    /// The signature does not belong to the issuer.
    #[error("the CACAO signature does not belong to its issuer {issuer}")]
    BadSignature {
        /// The issuer.
        issuer: String,
    },
    /// A time field is not an ISO 8601 date-time.
    #[error("CACAO {field} is not an ISO 8601 date-time: {value:?}")]
    InvalidTime {
        /// The field.
        field: &'static str,
        /// Its value (first 64 characters).
        value: String,
    },
    /// `iat` or `nbf` is later than the check time (plus the clock-skew grace).
    #[error("the CACAO is not valid yet at {at_ms} ms ({field} {value})")]
    NotYetValid {
        /// `iat` or `nbf`.
        field: &'static str,
        /// Its value.
        value: String,
        /// The check time, Unix milliseconds.
        at_ms: i64,
    },
    /// `exp` (plus the revocation phase-out and clock skew) is before the check time.
    #[error("the CACAO expired at {exp} (checked at {at_ms} ms, with {grace_secs} s of grace)")]
    Expired {
        /// `exp`.
        exp: String,
        /// The check time, Unix milliseconds.
        at_ms: i64,
        /// The phase-out plus the clock skew allowed.
        grace_secs: i64,
    },
    /// The CACAO's audience is not the DID whose key signed the JWS.
    #[error("the CACAO audience {aud} is not the signer {signer}")]
    WrongAudience {
        /// `p.aud`.
        aud: String,
        /// The DID of the JWS `kid`.
        signer: String,
    },
    /// The CACAO's resources do not cover the stream.
    #[error("the CACAO resources do not cover stream {stream}")]
    ResourceNotCovered {
        /// The stream.
        stream: String,
    },
    /// A SIWE / CAIP-122 message does not parse.
    #[error("malformed sign-in message: {0}")]
    InvalidMessage(&'static str),
}

/// `h`: the CACAO header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacaoHeader {
    /// `eip4361` (SIWE) or `caip122` (other chains).
    pub t: String,
}

/// `p`: the CACAO payload, the fields of the signed message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CacaoPayload {
    /// The domain asking for the signature.
    pub domain: String,
    /// The issuer: a did:pkh.
    pub iss: String,
    /// The audience: the session DID.
    pub aud: String,
    /// The message version.
    pub version: String,
    /// The nonce.
    pub nonce: String,
    /// Issued at, ISO 8601.
    pub iat: String,
    /// Not before, ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<String>,
    /// Expiry, ISO 8601.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<String>,
    /// The statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// The request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The resources granted (`ceramic://*`, `ceramic://<streamId>`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<String>>,
}

/// `s`: the signature, as `@didtools/cacao` stores it (a string: `0x` hex for `eip191`,
/// base58btc for `solana:ed25519`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacaoSignature {
    /// The signature type.
    pub t: String,
    /// The signature.
    pub s: String,
}

/// A CACAO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cacao {
    /// The header.
    pub h: CacaoHeader,
    /// The payload.
    pub p: CacaoPayload,
    /// The signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<CacaoSignature>,
}

/// The clock skew `@didtools/cacao`'s `verifyTimeChecks` allows by default: 5 minutes.
pub const CLOCK_SKEW_SECS: i64 = 5 * 60;
/// The revocation phase-out js-ceramic's `SignatureUtils` passes: a CACAO stays valid 24 hours
/// past its `exp`.
pub const REVOCATION_PHASE_OUT_SECS: i64 = 24 * 60 * 60;
/// CACAOs issued up to this day (2022-09-20, Unix ms) may be signed over the v1 message form.
pub const LEGACY_CHAIN_ID_REORG_MS: i64 = 1_663_632_000_000;

/// Parses a JWS `cap` header, `ipfs://<CID>`.
///
/// # Errors
/// [`CacaoError::InvalidCapLink`].
pub fn cap_cid(cap: &str) -> Result<Cid, CacaoError> {
    let invalid = || CacaoError::InvalidCapLink(cap.chars().take(200).collect());
    let cid: Cid =
        cap.strip_prefix("ipfs://").ok_or_else(invalid)?.parse().map_err(|_| invalid())?;
    Ok(cid)
}

fn eip191_digest(message: &str) -> [u8; 32] {
    // `String(message.length)`: the JS string length, in UTF-16 code units.
    let prefix = format!("\x19Ethereum Signed Message:\n{}", message.encode_utf16().count());
    let mut hasher = Keccak256::new();
    hasher.update(prefix.as_bytes());
    hasher.update(message.as_bytes());
    hasher.finalize().into()
}

fn recover_address(
    message: &str,
    sig: &k256::ecdsa::Signature,
    recid: k256::ecdsa::RecoveryId,
) -> Option<[u8; 20]> {
    let key = k256::ecdsa::VerifyingKey::recover_from_prehash(&eip191_digest(message), sig, recid)
        .ok()?;
    let point = key.to_sec1_point(false);
    let hash = Keccak256::digest(&point.as_bytes()[1..]);
    let mut address = [0u8; 20];
    address.copy_from_slice(&hash[12..]);
    Some(address)
}

impl Cacao {
    /// Decodes a CACAO block: canonical dag-cbor with exactly the CAIP-74 fields.
    ///
    /// # Errors
    /// [`CacaoError::Decode`], [`CacaoError::UnsupportedHeaderType`].
    pub fn decode(bytes: &[u8]) -> Result<Self, CacaoError> {
        let cacao: Cacao = ceramic_codecs::decode(bytes, "CACAO").map_err(CacaoError::Decode)?;
        if !matches!(cacao.h.t.as_str(), "eip4361" | "caip122") {
            return Err(CacaoError::UnsupportedHeaderType(cacao.h.t.chars().take(40).collect()));
        }
        Ok(cacao)
    }

    /// Decodes the block a JWS `cap` header names, checking first that it hashes to that CID.
    ///
    /// # Errors
    /// [`CacaoError::InvalidCapLink`], [`CacaoError::CidMismatch`], the [`Cacao::decode`] errors.
    pub fn from_cap_block(cap: &str, bytes: &[u8]) -> Result<Self, CacaoError> {
        let cid = cap_cid(cap)?;
        match Block::check(&cid, bytes) {
            Ok(()) => {}
            Err(ceramic_codecs::Error::HashMismatch { expected, actual }) => {
                return Err(CacaoError::CidMismatch { expected, actual });
            }
            Err(e) => return Err(CacaoError::Decode(e)),
        }
        Self::decode(bytes)
    }

    /// The dag-cbor block of this CACAO (its CID goes into the JWS `cap` header).
    ///
    /// # Errors
    /// [`CacaoError::Decode`] if it cannot be encoded (too large).
    pub fn to_block(&self) -> Result<Block, CacaoError> {
        Block::encode(ceramic_codecs::Codec::DagCbor, self).map_err(CacaoError::Decode)
    }

    /// The issuer, parsed.
    ///
    /// # Errors
    /// [`CacaoError::InvalidIssuer`].
    pub fn issuer(&self) -> Result<DidPkh, CacaoError> {
        self.p.iss.parse()
    }

    /// The message `SiwxMessage.fromCacao` builds (`Ethereum` for eip155 issuers, `Solana` for
    /// solana ones), with the address as the issuer writes it.
    ///
    /// # Errors
    /// [`CacaoError::InvalidIssuer`].
    pub fn message(&self) -> Result<SiweMessage, CacaoError> {
        let issuer = self.issuer()?;
        let chain_name = match issuer.account() {
            PkhAccount::Eip155 { .. } => "Ethereum",
            PkhAccount::Solana { .. } => "Solana",
        };
        let p = &self.p;
        let some = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        Ok(SiweMessage {
            chain_name: chain_name.to_string(),
            domain: p.domain.clone(),
            address: issuer.address().to_string(),
            statement: some(&p.statement),
            uri: p.aud.clone(),
            version: p.version.clone(),
            chain_id: issuer.chain_reference().to_string(),
            nonce: p.nonce.clone(),
            issued_at: p.iat.clone(),
            expiration_time: some(&p.exp),
            not_before: some(&p.nbf),
            request_id: some(&p.request_id),
            resources: p.resources.clone(),
        })
    }

    /// Checks the wallet signature: EIP-191 `personal_sign` recovering the issuer's address over
    /// the message with the address as written, then with the EIP-55 checksummed address (what
    /// `did-session` signs today), then — for CACAOs issued by 2022-09-20 — the v1 message form;
    /// or Ed25519 over the CAIP-122 message by the Solana address's key.
    ///
    /// # Errors
    /// [`CacaoError::Unsigned`], [`CacaoError::UnsupportedSignatureType`],
    /// [`CacaoError::SignatureTypeMismatch`], [`CacaoError::InvalidIssuer`],
    /// [`CacaoError::EmptyField`], [`CacaoError::InvalidSignatureEncoding`],
    /// [`CacaoError::InvalidTime`], [`CacaoError::BadSignature`].
    pub fn verify_signature(&self) -> Result<(), CacaoError> {
        let sig = self.s.as_ref().ok_or(CacaoError::Unsigned)?;
        if !matches!(sig.t.as_str(), "eip191" | "solana:ed25519") {
            return Err(CacaoError::UnsupportedSignatureType(sig.t.chars().take(40).collect()));
        }
        // JS fills an empty nonce or iat with fresh random values: such a CACAO never verifies.
        if self.p.nonce.is_empty() {
            return Err(CacaoError::EmptyField("nonce"));
        }
        if self.p.iat.is_empty() {
            return Err(CacaoError::EmptyField("iat"));
        }
        let issuer = self.issuer()?;
        let message = self.message()?;
        let bad = || CacaoError::BadSignature { issuer: self.p.iss.clone() };
        match (issuer.account(), sig.t.as_str()) {
            (PkhAccount::Eip155 { bytes, .. }, "eip191") => {
                let raw = sig.s.strip_prefix("0x").unwrap_or(&sig.s);
                let mut sig_bytes = [0u8; 65];
                hex::decode_to_slice(raw, &mut sig_bytes)
                    .map_err(|_| CacaoError::InvalidSignatureEncoding("eip191"))?;
                let v = match sig_bytes[64] {
                    v @ (0 | 1) => v,
                    v @ (27 | 28) => v - 27,
                    _ => return Err(CacaoError::InvalidSignatureEncoding("eip191")),
                };
                let recid = k256::ecdsa::RecoveryId::new(v == 1, false);
                let signature = k256::ecdsa::Signature::from_slice(&sig_bytes[..64])
                    .map_err(|_| CacaoError::InvalidSignatureEncoding("eip191"))?;
                let matches =
                    |text: String| recover_address(&text, &signature, recid) == Some(*bytes);
                if matches(message.to_message())
                    || matches(message.to_message_with_address(&eip55_checksum(bytes)))
                {
                    return Ok(());
                }
                if parse_time("iat", &self.p.iat)? <= LEGACY_CHAIN_ID_REORG_MS
                    && matches(message.to_legacy_message())
                {
                    return Ok(());
                }
                Err(bad())
            }
            (PkhAccount::Solana { key, .. }, "solana:ed25519") => {
                let sig_bytes = decode_base58(&sig.s)
                    .ok_or(CacaoError::InvalidSignatureEncoding("solana:ed25519"))?;
                let signature = ed25519_dalek::Signature::from_slice(&sig_bytes)
                    .map_err(|_| CacaoError::InvalidSignatureEncoding("solana:ed25519"))?;
                key.verify_strict(message.to_message().as_bytes(), &signature).map_err(|_| bad())
            }
            _ => Err(CacaoError::SignatureTypeMismatch {
                sig_type: sig.t.clone(),
                issuer: self.p.iss.clone(),
            }),
        }
    }

    /// `verifyTimeChecks` with js-ceramic's options: at `at_ms` (the commit's anchor time, or
    /// now when unanchored), `iat` and `nbf` must not be later than `at_ms` + 5 min, and `exp` +
    /// 24 h + 5 min must not be earlier.
    ///
    /// # Errors
    /// [`CacaoError::InvalidTime`], [`CacaoError::NotYetValid`], [`CacaoError::Expired`].
    pub fn check_time(&self, at_ms: i64) -> Result<(), CacaoError> {
        let skew = CLOCK_SKEW_SECS * 1000;
        for (field, value) in [("iat", Some(&self.p.iat)), ("nbf", self.p.nbf.as_ref())] {
            // JS `Date.parse` of an absent field is NaN, and NaN comparisons are false.
            let Some(value) = value.filter(|v| !v.is_empty()) else { continue };
            if parse_time(field, value)? > at_ms + skew {
                return Err(CacaoError::NotYetValid { field, value: value.clone(), at_ms });
            }
        }
        if let Some(exp) = self.p.exp.as_ref().filter(|v| !v.is_empty()) {
            let grace_secs = REVOCATION_PHASE_OUT_SECS + CLOCK_SKEW_SECS;
            if parse_time("exp", exp)? + grace_secs * 1000 < at_ms {
                return Err(CacaoError::Expired { exp: exp.clone(), at_ms, grace_secs });
            }
        }
        Ok(())
    }

    /// The audience must be the DID whose key signed the JWS (dids' `verifyJWS`).
    ///
    /// # Errors
    /// [`CacaoError::WrongAudience`].
    pub fn check_audience(&self, signer_did: &str) -> Result<(), CacaoError> {
        if self.p.aud != signer_did {
            return Err(CacaoError::WrongAudience {
                aud: self.p.aud.clone(),
                signer: signer_did.to_string(),
            });
        }
        Ok(())
    }

    /// js-ceramic's `_verifyCapabilityAuthz`: the resources hold `ceramic://*`,
    /// `ceramic://<stream>`, `ceramic://<stream>?payload=<payload CID>` or (for a stream with a
    /// model) `ceramic://*?model=<model>`.
    ///
    /// # Errors
    /// [`CacaoError::ResourceNotCovered`].
    pub fn check_resources(
        &self,
        stream_id: &str,
        payload: &Cid,
        model: Option<&str>,
    ) -> Result<(), CacaoError> {
        let resources = self.p.resources.as_deref().unwrap_or_default();
        let has = |r: &str| resources.iter().any(|x| x == r);
        let covered = has("ceramic://*")
            || has(&format!("ceramic://{stream_id}"))
            || has(&format!("ceramic://{stream_id}?payload={payload}"))
            || model.is_some_and(|m| has(&format!("ceramic://*?model={m}")));
        if covered {
            Ok(())
        } else {
            Err(CacaoError::ResourceNotCovered { stream: stream_id.to_string() })
        }
    }

    /// Every check of a commit signed under this CACAO, after its JWS signature verified for
    /// `signer_did`: audience, resources, time ([`Cacao::verify_signature`] is separate so a
    /// [`CacaoVerifier`] can cache it).
    ///
    /// # Errors
    /// As the three checks.
    pub fn check_commit(
        &self,
        signer_did: &str,
        stream_id: &str,
        payload: &Cid,
        model: Option<&str>,
        at_ms: i64,
    ) -> Result<(), CacaoError> {
        self.check_audience(signer_did)?;
        self.check_resources(stream_id, payload, model)?;
        self.check_time(at_ms)
    }
}

/// Verifies CACAO blocks, caching each signature-checked CACAO by CID (one session signs many
/// commits; the wallet-signature check dominates the cost).
#[derive(Debug)]
pub struct CacaoVerifier {
    capacity: usize,
    cache: Mutex<HashMap<Cid, Arc<Cacao>>>,
}

impl Default for CacaoVerifier {
    fn default() -> Self {
        CacaoVerifier::new(1024)
    }
}

impl CacaoVerifier {
    /// A verifier caching up to `capacity` CACAOs (then it starts afresh).
    pub fn new(capacity: usize) -> Self {
        CacaoVerifier { capacity, cache: Mutex::new(HashMap::new()) }
    }

    /// The CACAO a JWS `cap` names, from the block delivered with the commit: the block must
    /// hash to the CID, decode, and carry a signature of its issuer. Cached by CID.
    ///
    /// # Errors
    /// The [`Cacao::from_cap_block`] and [`Cacao::verify_signature`] errors.
    pub fn verify_block(&self, cap: &str, bytes: &[u8]) -> Result<Arc<Cacao>, CacaoError> {
        let cid = cap_cid(cap)?;
        if let Some(cacao) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&cid) {
            // The bytes must still be the ones named: a cache hit is no reason to skip the hash.
            Block::check(&cid, bytes).map_err(|e| match e {
                ceramic_codecs::Error::HashMismatch { expected, actual } => {
                    CacaoError::CidMismatch { expected, actual }
                }
                other => CacaoError::Decode(other),
            })?;
            return Ok(cacao.clone());
        }
        let cacao = Cacao::from_cap_block(cap, bytes)?;
        cacao.verify_signature()?;
        let cacao = Arc::new(cacao);
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= self.capacity {
            cache.clear();
        }
        cache.insert(cid, cacao.clone());
        Ok(cacao)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cacao(exp: Option<&str>) -> Cacao {
        Cacao {
            h: CacaoHeader { t: "eip4361".into() },
            p: CacaoPayload {
                domain: "d".into(),
                iss: "did:pkh:eip155:1:0x048ffe2432385d31369acdcb65760d1e60b97688".into(),
                aud: "did:key:z6Mk".into(),
                version: "1".into(),
                nonce: "n".into(),
                iat: "2026-01-01T00:00:00.000Z".into(),
                nbf: None,
                exp: exp.map(str::to_string),
                statement: None,
                request_id: None,
                resources: Some(vec!["ceramic://kjz".into()]),
            },
            s: None,
        }
    }

    #[test]
    fn time_checks_follow_verify_time_checks() {
        let iat = parse_time("iat", "2026-01-01T00:00:00.000Z").unwrap();
        let c = cacao(Some("2026-01-01T01:00:00.000Z"));
        assert!(c.check_time(iat - 5 * 60_000).is_ok(), "iat within the skew");
        assert!(matches!(c.check_time(iat - 5 * 60_000 - 1), Err(CacaoError::NotYetValid { .. })));
        let last = iat + 3_600_000 + (REVOCATION_PHASE_OUT_SECS + CLOCK_SKEW_SECS) * 1000;
        assert!(c.check_time(last).is_ok());
        assert!(matches!(c.check_time(last + 1), Err(CacaoError::Expired { .. })));
        assert!(cacao(None).check_time(i64::MAX / 2).is_ok());
    }

    #[test]
    fn resources_and_audience() {
        let c = cacao(None);
        let payload = Block::encode(ceramic_codecs::Codec::DagCbor, &1u8).unwrap();
        assert!(c.check_resources("kjz", payload.cid(), None).is_ok());
        assert!(matches!(
            c.check_resources("kjy", payload.cid(), None),
            Err(CacaoError::ResourceNotCovered { .. })
        ));
        assert!(matches!(c.check_audience("did:key:z6Mx"), Err(CacaoError::WrongAudience { .. })));
    }

    #[test]
    fn decode_round_trips_and_checks_the_cid() {
        let c = cacao(Some("2026-01-02T00:00:00Z"));
        let block = c.to_block().unwrap();
        assert_eq!(Cacao::decode(block.data()).unwrap(), c);
        let cap = format!("ipfs://{}", block.cid());
        assert_eq!(Cacao::from_cap_block(&cap, block.data()).unwrap(), c);
        let other = cacao(None).to_block().unwrap();
        assert!(matches!(
            Cacao::from_cap_block(&cap, other.data()),
            Err(CacaoError::CidMismatch { .. })
        ));
        assert!(matches!(
            Cacao::from_cap_block("ipfs:/x", block.data()),
            Err(CacaoError::InvalidCapLink(_))
        ));
        assert!(matches!(c.verify_signature(), Err(CacaoError::Unsigned)));
    }
}
