//! JWS in general serialization, EdDSA and ES256K, with the protected header the JS `dids`
//! library writes.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::key::{KeyType, PublicKey};
use crate::resolver::Resolver;
use crate::signer::Signer;
use crate::{Error, Result};

/// The JWS algorithms Ceramic uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// Ed25519.
    EdDSA,
    /// ECDSA over secp256k1 with SHA-256.
    ES256K,
}

impl Algorithm {
    /// The `alg` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::EdDSA => "EdDSA",
            Algorithm::ES256K => "ES256K",
        }
    }

    /// The key type that signs with this algorithm.
    pub const fn key_type(self) -> KeyType {
        match self {
            Algorithm::EdDSA => KeyType::Ed25519,
            Algorithm::ES256K => KeyType::Secp256k1,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "EdDSA" => Ok(Algorithm::EdDSA),
            "ES256K" => Ok(Algorithm::ES256K),
            other => Err(Error::UnsupportedAlgorithm(other.chars().take(40).collect())),
        }
    }
}

/// The fields of a protected header that verification reads. Other fields are allowed and kept
/// in the signed bytes, but not interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProtectedHeader {
    /// The algorithm.
    pub alg: String,
    /// The key id: a DID URL such as `did:key:z…#z…`.
    pub kid: String,
    /// A CACAO capability, `ipfs://<cid>`, when a session key signs for another DID.
    #[serde(default)]
    pub cap: Option<String>,
}

impl ProtectedHeader {
    /// Parses the header's JSON bytes.
    ///
    /// # Errors
    /// [`Error::InvalidHeader`].
    pub fn parse(json: &[u8]) -> Result<Self> {
        serde_json::from_slice(json)
            .map_err(|_| Error::InvalidHeader("not JSON with string alg and kid"))
    }

    /// The header JSON the JS `dids` stack writes: keys sorted (`toStableObject`), compact.
    pub fn to_json(alg: Algorithm, kid: &str, cap: Option<&str>) -> Vec<u8> {
        let quote = |s: &str| serde_json::Value::from(s).to_string();
        let mut json = format!("{{\"alg\":{}", quote(alg.as_str()));
        if let Some(cap) = cap {
            json.push_str(&format!(",\"cap\":{}", quote(cap)));
        }
        json.push_str(&format!(",\"kid\":{}}}", quote(kid)));
        json.into_bytes()
    }

    /// The DID of the key id: `kid` without its `#fragment` and `?query`.
    pub fn did(&self) -> &str {
        let end = self.kid.find(['#', '?']).unwrap_or(self.kid.len());
        &self.kid[..end]
    }
}

/// One signature of a JWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwsSignature {
    /// The protected header's JSON bytes.
    pub protected: Vec<u8>,
    /// The raw signature.
    pub signature: Vec<u8>,
}

/// A JWS in general serialization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jws {
    /// The payload bytes (for Ceramic commits: a CID's bytes).
    pub payload: Vec<u8>,
    /// The signatures.
    pub signatures: Vec<JwsSignature>,
}

/// `base64url(protected) "." base64url(payload)`, the bytes a JWS signature covers.
pub(crate) fn signing_input(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut input = String::with_capacity((protected.len() + payload.len()) * 4 / 3 + 4);
    URL_SAFE_NO_PAD.encode_string(protected, &mut input);
    input.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut input);
    input.into_bytes()
}

impl Jws {
    /// The general JSON serialization, as `dids` returns it: `{payload, signatures: [{protected,
    /// signature}]}` with unpadded base64url strings.
    pub fn to_general_json(&self) -> serde_json::Value {
        let b64 = |bytes: &[u8]| serde_json::Value::from(URL_SAFE_NO_PAD.encode(bytes));
        serde_json::json!({
            "payload": b64(&self.payload),
            "signatures": self.signatures.iter().map(|s| serde_json::json!({
                "protected": b64(&s.protected),
                "signature": b64(&s.signature),
            })).collect::<Vec<_>>(),
        })
    }

    /// Parses the general JSON serialization.
    ///
    /// # Errors
    /// [`Error::InvalidBase64`] for a missing or malformed part.
    pub fn from_general_json(value: &serde_json::Value) -> Result<Self> {
        let decode = |v: &serde_json::Value, what: &'static str| {
            let text = v.as_str().ok_or(Error::InvalidBase64(what))?;
            URL_SAFE_NO_PAD.decode(text).map_err(|_| Error::InvalidBase64(what))
        };
        let payload = decode(&value["payload"], "payload")?;
        let signatures = value["signatures"]
            .as_array()
            .ok_or(Error::InvalidBase64("signatures"))?
            .iter()
            .map(|s| {
                Ok(JwsSignature {
                    protected: decode(&s["protected"], "protected header")?,
                    signature: decode(&s["signature"], "signature")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Jws { payload, signatures })
    }

    /// The signing input of signature `index`.
    pub fn signing_input(&self, index: usize) -> Option<Vec<u8>> {
        self.signatures.get(index).map(|s| signing_input(&s.protected, &self.payload))
    }
}

/// Signs `payload` with `signer`, adding `cap` to the header when a capability is used.
///
/// # Errors
/// Whatever the signer reports.
pub fn sign_jws(signer: &dyn Signer, payload: &[u8], cap: Option<&str>) -> Result<Jws> {
    let protected = ProtectedHeader::to_json(signer.algorithm(), &signer.kid(), cap);
    let signature = signer.sign(&signing_input(&protected, payload))?;
    Ok(Jws { payload: payload.to_vec(), signatures: vec![JwsSignature { protected, signature }] })
}

/// A verified signature: who signed, with which key, and the header they signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The signing DID (the key id without fragment or query).
    pub did: String,
    /// The protected header.
    pub header: ProtectedHeader,
}

fn verify_with(key: &PublicKey, input: &[u8], signature: &[u8]) -> bool {
    match key {
        PublicKey::Ed25519(key) => {
            let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else { return false };
            key.verify_strict(input, &sig).is_ok()
        }
        PublicKey::Secp256k1(key) => {
            use k256::ecdsa::signature::Verifier as _;
            let Ok(sig) = k256::ecdsa::Signature::from_slice(signature) else { return false };
            // k256 rejects high-S signatures, as did-jwt's verifier (noble, lowS) does.
            key.verify(input, &sig).is_ok()
        }
    }
}

/// Verifies one JWS signature: parses the protected header, resolves the DID of its `kid`, and
/// checks the signature against the document's keys of the header's algorithm (as the JS `dids`
/// library does, any key of the document may have signed).
///
/// # Errors
/// [`Error::InvalidHeader`], [`Error::UnsupportedAlgorithm`], resolver errors,
/// [`Error::AlgorithmMismatch`] when the document has no key for the algorithm,
/// [`Error::BadSignature`].
pub fn verify_jws(
    resolver: &dyn Resolver,
    payload: &[u8],
    protected: &[u8],
    signature: &[u8],
) -> Result<Verified> {
    let header = ProtectedHeader::parse(protected)?;
    let alg: Algorithm = header.alg.parse()?;
    let doc = resolver.resolve_kid(&header.kid)?;
    let mut keys = doc
        .verification_methods
        .iter()
        .filter(|vm| vm.public_key.key_type() == alg.key_type())
        .peekable();
    if keys.peek().is_none() {
        return Err(Error::AlgorithmMismatch {
            alg: header.alg.clone(),
            key_type: doc
                .verification_methods
                .first()
                .map_or("no", |vm| vm.public_key.key_type().name()),
            kid: header.kid.clone(),
        });
    }
    let input = signing_input(protected, payload);
    if keys.any(|vm| verify_with(&vm.public_key, &input, signature)) {
        return Ok(Verified { did: header.did().to_string(), header });
    }
    Err(Error::BadSignature { kid: header.kid })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyResolver, KeySigner};

    #[test]
    fn header_json_is_sorted_and_compact() {
        let json = ProtectedHeader::to_json(Algorithm::EdDSA, "did:key:z#z", Some("ipfs://b"));
        assert_eq!(json, br#"{"alg":"EdDSA","cap":"ipfs://b","kid":"did:key:z#z"}"#);
    }

    #[test]
    fn signs_and_verifies_both_algorithms() {
        for key_type in [KeyType::Ed25519, KeyType::Secp256k1] {
            let signer = KeySigner::from_seed(key_type, &[3; 32]).unwrap();
            let jws = sign_jws(&signer, b"payload", None).unwrap();
            let s = &jws.signatures[0];
            let verified =
                verify_jws(&KeyResolver, &jws.payload, &s.protected, &s.signature).unwrap();
            assert_eq!(verified.did, signer.did());
            assert!(verify_jws(&KeyResolver, b"other", &s.protected, &s.signature).is_err());
            assert_eq!(Jws::from_general_json(&jws.to_general_json()).unwrap(), jws);
        }
    }

    #[test]
    fn rejects_an_algorithm_that_does_not_fit_the_key() {
        let signer = KeySigner::from_seed(KeyType::Ed25519, &[3; 32]).unwrap();
        let protected = ProtectedHeader::to_json(Algorithm::ES256K, &signer.kid(), None);
        let signature = signer.sign(&signing_input(&protected, b"p")).unwrap();
        let result = verify_jws(&KeyResolver, b"p", &protected, &signature);
        assert!(matches!(result, Err(Error::AlgorithmMismatch { .. })), "{result:?}");
    }

    #[test]
    fn rejects_malformed_headers() {
        for header in [&b"not json"[..], br#"{"alg":"EdDSA"}"#, br#"{"alg":1,"kid":"did:key:z"}"#] {
            assert!(matches!(
                verify_jws(&KeyResolver, b"p", header, &[0; 64]),
                Err(Error::InvalidHeader(_))
            ));
        }
        let none = br#"{"alg":"none","kid":"did:key:z"}"#;
        assert!(matches!(
            verify_jws(&KeyResolver, b"p", none, &[]),
            Err(Error::UnsupportedAlgorithm(_))
        ));
    }
}
