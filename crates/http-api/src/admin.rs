//! The admin API's authentication, as js-ceramic's daemon does it: the client fetches a
//! one-time code (`GET /admin/getCode`), signs `{code, requestPath, requestBody?}` with its DID
//! and sends the compact JWS (`protected.payload.signature`) as `Authorization: Basic <jws>`
//! (or, for `POST`/`DELETE`, as the body `{jws}`). The request is allowed when the signature
//! verifies (did:key), the signer is an admin DID, `requestPath` is the route's path and the code
//! was issued here, is unexpired and unused (it is consumed).
//!
//! Codes are bounded so that no client can lock out the others ([`AdminCodeLimits`]): each
//! client address holds at most `per_client` unexpired codes (more are refused with 429, and
//! refusals are logged once a minute with their count, not one line each), and the store
//! holds at most `max_codes`; when it is full the oldest outstanding code is dropped to make
//! room, so `getCode` always answers a client under its own limit.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
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
/// The most codes outstanding at once by default; beyond it the oldest is dropped.
pub const MAX_ADMIN_CODES: usize = 1_000;
/// The most codes one client address holds at once by default; beyond it 429.
pub const MAX_ADMIN_CODES_PER_CLIENT: usize = 8;

/// The bounds of the admin codes; [`Default`] gives [`MAX_ADMIN_CODES`] and
/// [`MAX_ADMIN_CODES_PER_CLIENT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdminCodeLimits {
    /// The most unexpired codes in the store (the oldest is dropped beyond it).
    pub max_codes: usize,
    /// The most unexpired codes one client address holds (429 beyond it).
    pub per_client: usize,
}

impl Default for AdminCodeLimits {
    fn default() -> Self {
        AdminCodeLimits { max_codes: MAX_ADMIN_CODES, per_client: MAX_ADMIN_CODES_PER_CLIENT }
    }
}

impl AdminCodeLimits {
    /// Sets [`AdminCodeLimits::max_codes`] (at least 1).
    #[must_use]
    pub fn with_max_codes(mut self, max: usize) -> Self {
        self.max_codes = max.max(1);
        self
    }

    /// Sets [`AdminCodeLimits::per_client`] (at least 1).
    #[must_use]
    pub fn with_per_client(mut self, max: usize) -> Self {
        self.per_client = max.max(1);
        self
    }
}
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
    /// This client holds too many unexpired codes (429).
    #[error("this client holds {max} unused admin codes already: use them or let them expire")]
    TooManyCodes {
        /// The per-client limit.
        max: usize,
    },
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
            AdminError::TooManyCodes { .. } => StatusCode::TOO_MANY_REQUESTS,
            AdminError::Random(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The admin DIDs and the outstanding codes.
#[derive(Debug)]
pub(crate) struct AdminAuth {
    dids: Vec<String>,
    ttl: Duration,
    limits: AdminCodeLimits,
    codes: Mutex<Codes>,
}

/// The outstanding codes: by code, in issue order, and counted per client.
#[derive(Debug, Default)]
struct Codes {
    by_code: HashMap<String, (Instant, Option<IpAddr>)>,
    /// Issue order (codes used since are skipped when they come up).
    order: VecDeque<(Instant, String)>,
    per_client: HashMap<Option<IpAddr>, usize>,
    refused: crate::limits::LogEvery,
}

impl Codes {
    fn new() -> Self {
        // Refusals are logged once a minute (LogEvery's default), with their count.
        Codes::default()
    }

    fn remove(&mut self, code: &str) -> Option<Instant> {
        let (issued, client) = self.by_code.remove(code)?;
        if let Some(n) = self.per_client.get_mut(&client) {
            *n -= 1;
            if *n == 0 {
                self.per_client.remove(&client);
            }
        }
        Some(issued)
    }

    /// Drops expired codes, and the oldest ones while more than `keep` remain.
    fn prune(&mut self, ttl: Duration, keep: usize) {
        if self.order.len() > 2 * self.by_code.len() + 64 {
            // Mostly used codes: keep the issue order bounded by the live codes.
            let by_code = &self.by_code;
            self.order.retain(|(issued, code)| by_code.get(code).is_some_and(|(i, _)| i == issued));
        }
        while let Some((issued, code)) = self.order.front() {
            let live = self.by_code.get(code).is_some_and(|(i, _)| i == issued);
            if live && issued.elapsed() < ttl && self.by_code.len() <= keep {
                break;
            }
            if let Some((_, code)) = self.order.pop_front()
                && live
            {
                self.remove(&code);
            }
        }
    }
}

fn shorten(s: &str) -> String {
    crate::commit::shorten(s)
}

impl AdminAuth {
    pub(crate) fn new(dids: Vec<String>, ttl: Duration) -> Self {
        AdminAuth { dids, ttl, limits: AdminCodeLimits::default(), codes: Mutex::new(Codes::new()) }
    }

    pub(crate) fn with_ttl(&self, ttl: Duration) -> Self {
        AdminAuth { limits: self.limits, ..AdminAuth::new(self.dids.clone(), ttl) }
    }

    pub(crate) fn with_dids(&self, dids: Vec<String>) -> Self {
        AdminAuth { limits: self.limits, ..AdminAuth::new(dids, self.ttl) }
    }

    pub(crate) fn with_limits(&self, limits: AdminCodeLimits) -> Self {
        AdminAuth { limits, ..AdminAuth::new(self.dids.clone(), self.ttl) }
    }

    fn codes(&self) -> std::sync::MutexGuard<'_, Codes> {
        self.codes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new single-use code for `client` (its address; `None` when unknown), formatted as a
    /// UUID v4.
    pub(crate) fn issue_code(&self, client: Option<IpAddr>) -> Result<String, AdminError> {
        let mut codes = self.codes();
        codes.prune(self.ttl, usize::MAX);
        let held = codes.per_client.get(&client).copied().unwrap_or(0);
        if held >= self.limits.per_client {
            if let Some(more) = codes.refused.tick() {
                tracing::info!(
                    client = ?client,
                    refused_before = more,
                    "admin codes refused: a client holds too many (logged once a minute)"
                );
            }
            return Err(AdminError::TooManyCodes { max: self.limits.per_client });
        }
        codes.prune(self.ttl, self.limits.max_codes.saturating_sub(1));
        let code = new_code()?;
        let now = Instant::now();
        codes.by_code.insert(code.clone(), (now, client));
        codes.order.push_back((now, code.clone()));
        *codes.per_client.entry(client).or_default() += 1;
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

/// A random code formatted as a UUID v4.
fn new_code() -> Result<String, AdminError> {
    let seed = ceramic_did::random_seed().map_err(|e| AdminError::Random(Box::new(e)))?;
    let mut b = [0u8; 16];
    b.copy_from_slice(&seed[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
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
        let (a, b) = (auth.issue_code(None).unwrap(), auth.issue_code(None).unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn each_client_holds_a_bounded_number_of_codes() {
        let auth = AdminAuth::new(vec![], ADMIN_CODE_TTL);
        let (a, b) = (Some(IpAddr::from([10, 0, 0, 1])), Some(IpAddr::from([10, 0, 0, 2])));
        for _ in 0..MAX_ADMIN_CODES_PER_CLIENT {
            auth.issue_code(a).unwrap();
        }
        let refused = auth.issue_code(a).unwrap_err();
        assert!(matches!(refused, AdminError::TooManyCodes { max: MAX_ADMIN_CODES_PER_CLIENT }));
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
        // Another client is not locked out.
        auth.issue_code(b).unwrap();
        // Expired codes make room.
        let auth = AdminAuth::new(vec![], Duration::ZERO);
        for _ in 0..MAX_ADMIN_CODES_PER_CLIENT + 1 {
            auth.issue_code(a).unwrap();
        }
    }

    #[test]
    fn a_full_store_drops_its_oldest_code_and_still_answers() {
        let limits = AdminCodeLimits::default().with_max_codes(4).with_per_client(2);
        let auth = AdminAuth::new(vec![], ADMIN_CODE_TTL).with_limits(limits);
        let first = auth.issue_code(Some(IpAddr::from([10, 0, 0, 1]))).unwrap();
        for i in 1..20u8 {
            auth.issue_code(Some(IpAddr::from([10, 0, 0, 1 + i]))).unwrap();
        }
        let codes = auth.codes();
        assert_eq!(codes.by_code.len(), 4);
        assert!(!codes.by_code.contains_key(&first), "the oldest code was dropped");
        assert_eq!(codes.per_client.values().sum::<usize>(), 4);
        assert!(codes.order.len() <= 4 + 64);
    }

    #[test]
    fn used_codes_leave_no_trace() {
        let auth = AdminAuth::new(vec![], ADMIN_CODE_TTL);
        for _ in 0..10_000 {
            let code = auth.issue_code(None).unwrap();
            assert!(auth.codes().remove(&code).is_some());
        }
        let codes = auth.codes();
        assert!(codes.by_code.is_empty() && codes.per_client.is_empty());
        assert!(codes.order.len() <= 64 + 1, "{}", codes.order.len());
    }

    #[test]
    fn a_code_is_single_use() {
        let signer = KeySigner::from_seed(KeyType::Ed25519, &[3; 32]).unwrap();
        let auth = AdminAuth::new(vec![signer.did().to_string()], ADMIN_CODE_TTL);
        let code = auth.issue_code(None).unwrap();
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
