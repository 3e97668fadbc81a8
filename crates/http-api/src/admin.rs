//! The admin API's authentication, as js-ceramic's daemon does it: the client fetches a
//! one-time code (`GET /admin/getCode`), signs `{code, requestPath, requestBody?}` with its DID
//! and sends the compact JWS (`protected.payload.signature`) as `Authorization: Basic <jws>`
//! (or, for `POST`/`DELETE`, as the body `{jws}`). The request is allowed when the signature
//! verifies (did:key), the signer is an admin DID, `requestPath` is the route's path and the code
//! was issued here, is unexpired and unused (it is consumed).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ceramic_did::{KeyResolver, verify_jws};
use serde_json::Value;

/// How long a code from `GET /admin/getCode` stays valid by default (js
/// `ADMIN_CODE_EXPIRATION_TIMEOUT` is one minute).
pub const ADMIN_CODE_TTL: Duration = Duration::from_secs(60);
/// The most codes outstanding at once; further `getCode` requests get 503 until codes are used
/// or expire.
pub const MAX_ADMIN_CODES: usize = 1_000;
/// The longest compact JWS accepted, in bytes.
const MAX_JWS: usize = 64 * 1024;

/// Why an admin request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// No `Authorization: Basic <jws>` header (nor a `{jws}` body) (401).
    #[error("admin requests need `Authorization: Basic <compact JWS>` (or a `{{jws}}` body)")]
    Missing,
    /// The JWS is not three base64url parts with a JSON payload `{code, requestPath}` (401).
    #[error("the admin JWS is malformed: {0}")]
    Malformed(&'static str),
    /// The signature does not verify (401).
    #[error("the admin JWS does not verify: {0}")]
    Signature(#[source] Box<ceramic_did::Error>),
    /// The signer is not an admin DID (403).
    #[error("{did} is not an admin DID of this node")]
    NotAdmin {
        /// The signing DID (shortened).
        did: String,
    },
    /// The signed `requestPath` is not this route's (403).
    #[error("the admin JWS was signed for `{signed}`, not for `{expected}`")]
    WrongPath {
        /// The route's path.
        expected: &'static str,
        /// The signed path (shortened).
        signed: String,
    },
    /// The code is unknown, used or expired (401).
    #[error(
        "the admin code is unknown, already used or expired: get a new one from /api/v0/admin/getCode"
    )]
    Code,
    /// Too many codes are outstanding (503).
    #[error("too many admin codes outstanding ({MAX_ADMIN_CODES}): use or let some expire")]
    TooManyCodes,
    /// The OS random number generator failed (500).
    #[error("generating an admin code: {0}")]
    Random(#[source] Box<ceramic_did::Error>),
}

impl AdminError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AdminError::Missing
            | AdminError::Malformed(_)
            | AdminError::Signature(_)
            | AdminError::Code => StatusCode::UNAUTHORIZED,
            AdminError::NotAdmin { .. } | AdminError::WrongPath { .. } => StatusCode::FORBIDDEN,
            AdminError::TooManyCodes => StatusCode::SERVICE_UNAVAILABLE,
            AdminError::Random(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The admin DIDs and the outstanding codes.
#[derive(Debug)]
pub(crate) struct AdminAuth {
    dids: Vec<String>,
    ttl: Duration,
    codes: Mutex<HashMap<String, Instant>>,
}

fn shorten(s: &str) -> String {
    crate::commit::shorten(s)
}

impl AdminAuth {
    pub(crate) fn new(dids: Vec<String>, ttl: Duration) -> Self {
        AdminAuth { dids, ttl, codes: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn with_ttl(&self, ttl: Duration) -> Self {
        AdminAuth::new(self.dids.clone(), ttl)
    }

    pub(crate) fn with_dids(&self, dids: Vec<String>) -> Self {
        AdminAuth::new(dids, self.ttl)
    }

    fn codes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.codes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new single-use code, formatted as a UUID v4.
    pub(crate) fn issue_code(&self) -> Result<String, AdminError> {
        let seed = ceramic_did::random_seed().map_err(|e| AdminError::Random(Box::new(e)))?;
        let mut b = [0u8; 16];
        b.copy_from_slice(&seed[..16]);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let code = format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        );
        let mut codes = self.codes();
        let ttl = self.ttl;
        codes.retain(|_, issued| issued.elapsed() < ttl);
        if codes.len() >= MAX_ADMIN_CODES {
            return Err(AdminError::TooManyCodes);
        }
        codes.insert(code.clone(), Instant::now());
        Ok(code)
    }

    /// Checks `jws` for a request to `path`: the signed `requestBody` (`Null` when absent).
    pub(crate) fn authorize(&self, jws: &str, path: &'static str) -> Result<Value, AdminError> {
        let CompactJws { protected, payload, signature } = parse_compact(jws)?;
        let verified = verify_jws(&KeyResolver, &payload, &protected, &signature)
            .map_err(|e| AdminError::Signature(Box::new(e)))?;
        let Ok(Value::Object(mut payload)) = serde_json::from_slice::<Value>(&payload) else {
            return Err(AdminError::Malformed("the payload is not a JSON object"));
        };
        let Some(Value::String(code)) = payload.remove("code") else {
            return Err(AdminError::Malformed("the payload has no string `code`"));
        };
        let Some(Value::String(signed_path)) = payload.remove("requestPath") else {
            return Err(AdminError::Malformed("the payload has no string `requestPath`"));
        };
        // The code is consumed by any request that carries a valid signature over it.
        let issued = self.codes().remove(&code);
        if issued.is_none_or(|issued| issued.elapsed() >= self.ttl) {
            return Err(AdminError::Code);
        }
        if !self.dids.iter().any(|did| did == &verified.did) {
            return Err(AdminError::NotAdmin { did: shorten(&verified.did) });
        }
        if signed_path != path {
            return Err(AdminError::WrongPath { expected: path, signed: shorten(&signed_path) });
        }
        Ok(payload.remove("requestBody").unwrap_or(Value::Null))
    }
}

/// The decoded parts of a compact JWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactJws {
    /// The protected header's JSON bytes.
    pub protected: Vec<u8>,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// The raw signature.
    pub signature: Vec<u8>,
}

/// Splits a compact JWS `protected.payload.signature` into its decoded parts.
///
/// # Errors
/// [`AdminError::Malformed`] when it is too long, not three parts, or not unpadded base64url.
pub fn parse_compact(jws: &str) -> Result<CompactJws, AdminError> {
    if jws.len() > MAX_JWS {
        return Err(AdminError::Malformed("longer than 64 KiB"));
    }
    let mut parts = jws.trim().split('.');
    let (Some(protected), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AdminError::Malformed("not three `.`-separated parts"));
    };
    let decode =
        |part: &str, what| URL_SAFE_NO_PAD.decode(part).map_err(|_| AdminError::Malformed(what));
    Ok(CompactJws {
        protected: decode(protected, "the protected header is not base64url")?,
        payload: decode(payload, "the payload is not base64url")?,
        signature: decode(signature, "the signature is not base64url")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_did::{KeySigner, KeyType, Signer as _, sign_jws};

    fn compact(signer: &KeySigner, payload: &Value) -> String {
        let jws = sign_jws(signer, payload.to_string().as_bytes(), None).unwrap();
        let s = &jws.signatures[0];
        let b = |x: &[u8]| URL_SAFE_NO_PAD.encode(x);
        format!("{}.{}.{}", b(&s.protected), b(&jws.payload), b(&s.signature))
    }

    #[test]
    fn codes_look_like_uuids_and_differ() {
        let auth = AdminAuth::new(vec![], ADMIN_CODE_TTL);
        let (a, b) = (auth.issue_code().unwrap(), auth.issue_code().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn outstanding_codes_are_bounded() {
        let auth = AdminAuth::new(vec![], ADMIN_CODE_TTL);
        for _ in 0..MAX_ADMIN_CODES {
            auth.issue_code().unwrap();
        }
        assert!(matches!(auth.issue_code(), Err(AdminError::TooManyCodes)));
        // Expired codes make room.
        let auth = AdminAuth::new(vec![], Duration::ZERO);
        for _ in 0..MAX_ADMIN_CODES + 1 {
            auth.issue_code().unwrap();
        }
    }

    #[test]
    fn a_code_is_single_use() {
        let signer = KeySigner::from_seed(KeyType::Ed25519, &[3; 32]).unwrap();
        let auth = AdminAuth::new(vec![signer.did().to_string()], ADMIN_CODE_TTL);
        let code = auth.issue_code().unwrap();
        let jws = compact(
            &signer,
            &serde_json::json!({"code": code, "requestPath": "/p", "requestBody": {"x": 1}}),
        );
        assert_eq!(auth.authorize(&jws, "/p").unwrap(), serde_json::json!({"x": 1}));
        assert!(matches!(auth.authorize(&jws, "/p"), Err(AdminError::Code)));
    }

    proptest::proptest! {
        #[test]
        fn compact_parts_round_trip(
            protected in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
            payload in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
            signature in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
        ) {
            let b = |x: &[u8]| URL_SAFE_NO_PAD.encode(x);
            let text = format!("{}.{}.{}", b(&protected), b(&payload), b(&signature));
            let parsed = parse_compact(&text).unwrap();
            proptest::prop_assert_eq!(parsed, CompactJws { protected, payload, signature });
        }
    }

    #[test]
    fn malformed_compact_jws_is_refused() {
        for bad in ["", "a.b", "a.b.c.d", "!!.e30.AA", "e30.!!.AA", "e30.e30.!!"] {
            assert!(matches!(parse_compact(bad), Err(AdminError::Malformed(_))), "{bad}");
        }
        assert!(parse_compact("e30.e30.AA").is_ok());
    }
}
