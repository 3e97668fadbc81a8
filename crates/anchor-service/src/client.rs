//! A client of the CAS HTTP API: how a node forwards anchor requests to a remote anchor service
//! (this crate's binary or any CAS) and learns of their anchors by polling (protocol notes
//! §7.1 and §7.3; js:packages/core/src/anchor/ethereum/remote-cas.ts).
//!
//! - [`CasClient::request`]: `POST /api/v0/requests` with the v3 JSON body `{streamId, cid,
//!   timestamp}`; 201 (new) or 202 (known) and the request.
//! - [`CasClient::get`]: `GET /api/v0/requests/{cid}`; the request, or `None` on 404.
//! - [`CasClient::supported_chains`]: `GET /api/v0/service-info/supported_chains`.
//!
//! Answers are read as untrusted bytes ([`CasResponse::from_json`], at most [`MAX_RESPONSE`]
//! bytes): a response about another commit, an unknown status, or a COMPLETED one without its
//! anchor commit is a [`ResponseError`]. The witness CAR is decoded from base64 (the CAS writes
//! it unpadded; padded is accepted too) but not checked here: the node reads it with
//! `ceramic_anchor::Witness::from_car` and verifies the proof on its own chains.
//!
//! Blocking, on `ureq` 3 (the workspace's HTTP client, already built for `ceramic-anchor-eth`):
//! call it from a blocking thread. Not implemented: the CAS's optional DID-JWS authentication
//! (`Authorization: Bearer`), so a CAS that requires it refuses the requests (403, reported as
//! [`ClientError::Refused`]).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ceramic_codecs::Cid;
use ceramic_streamid::StreamId;
use serde::Deserialize;

use crate::body::{parse_cid, parse_stream_id};
use crate::{BodyError, NewRequest, Status, time::format_iso8601_ms};

/// The largest answer read (1 MiB): a witness CAR holds the anchor commit, its proof and one
/// Merkle node per tree level, a few KiB.
pub const MAX_RESPONSE: u64 = 1 << 20;

/// Standard base64, padding optional.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A request as the CAS shows it (`CASResponse`, js:packages/codecs/src/anchor.ts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CasResponse {
    /// The CAS's id for the request (a UUID at the CAS, the commit CID at ours).
    pub id: String,
    /// Its status.
    pub status: Status,
    /// The stream.
    pub stream_id: StreamId,
    /// The commit the request anchors.
    pub cid: Cid,
    /// The CAS's note ("Request is pending.", "Replaced by …").
    pub message: String,
    /// The anchor commit, once COMPLETED.
    pub anchor_commit: Option<Cid>,
    /// The anchor commit's witness CAR (raw bytes), when the CAS sent it.
    pub witness_car: Option<Vec<u8>>,
}

/// Why an answer of the CAS was not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// Not JSON, or not an object of the `CASResponse` shape.
    #[error("not a CAS response: {0}")]
    Json(#[from] serde_json::Error),
    /// `streamId`, `cid` or `anchorCommit.cid` does not parse.
    #[error(transparent)]
    Id(#[from] BodyError),
    /// `status` is not one of the CAS's names.
    #[error("unknown request status {0:?}")]
    Status(String),
    /// `witnessCar` is not base64.
    #[error("witnessCar is not base64: {0}")]
    WitnessCar(#[from] base64::DecodeError),
    /// A COMPLETED request without `anchorCommit`.
    #[error("a COMPLETED request without anchorCommit")]
    NoAnchorCommit,
    /// The answer is about another commit than the one asked for.
    #[error("asked about commit {asked}, the CAS answered about {answered}")]
    OtherCommit {
        /// The commit asked about.
        asked: Box<Cid>,
        /// The commit in the answer.
        answered: Box<Cid>,
    },
    /// `supportedChains` is missing or not a list of strings.
    #[error("supportedChains is not a list of chain ids")]
    Chains,
}

/// Why a call to the CAS failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is not `http://…` or `https://…`.
    #[error("invalid CAS URL {0:?}: expected http://… or https://…")]
    Url(String),
    /// No answer: connection refused, timeout, TLS or a cut-off body. Retry later.
    #[error("the CAS at {url} cannot be reached: {reason}")]
    Unreachable {
        /// The URL called.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// The CAS refused the request (HTTP 4xx): retrying the same request will not help.
    #[error("the CAS refused the request (HTTP {status}): {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The CAS's `error`, or the start of its body.
        message: String,
    },
    /// The CAS failed (HTTP 5xx or another unexpected status). Retry later.
    #[error("the CAS failed (HTTP {status}): {message}")]
    Failed {
        /// The HTTP status.
        status: u16,
        /// The CAS's `error`, or the start of its body.
        message: String,
    },
    /// The CAS answered, but not with a usable response.
    #[error("the CAS answered with an invalid response: {0}")]
    Response(#[from] ResponseError),
}

impl ClientError {
    /// Whether retrying later may succeed (the CAS was unreachable or failed).
    pub fn is_transient(&self) -> bool {
        matches!(self, ClientError::Unreachable { .. } | ClientError::Failed { .. })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Json {
    #[serde(default)]
    id: Option<serde_json::Value>,
    status: String,
    stream_id: String,
    cid: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    anchor_commit: Option<AnchorCommitJson>,
    #[serde(default)]
    witness_car: Option<String>,
}

#[derive(Deserialize)]
struct AnchorCommitJson {
    cid: String,
}

impl Status {
    /// The status the CAS API names `name` (`PENDING`, …).
    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl CasResponse {
    /// Reads a `CASResponse` JSON body. Other fields (`createdAt`, `updatedAt`, …) are ignored.
    ///
    /// # Errors
    /// [`ResponseError`] for a body that is not of that shape.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ResponseError> {
        let json: Json = serde_json::from_slice(bytes)?;
        let status = Status::from_name(&json.status)
            .ok_or_else(|| ResponseError::Status(json.status.chars().take(40).collect()))?;
        let anchor_commit = json.anchor_commit.map(|a| parse_cid(&a.cid)).transpose()?;
        if status == Status::Completed && anchor_commit.is_none() {
            return Err(ResponseError::NoAnchorCommit);
        }
        let id = match json.id {
            Some(serde_json::Value::String(id)) => id,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        Ok(CasResponse {
            id,
            status,
            stream_id: parse_stream_id(&json.stream_id)?,
            cid: parse_cid(&json.cid)?,
            message: json.message.unwrap_or_default(),
            anchor_commit,
            witness_car: json.witness_car.map(|car| BASE64.decode(car)).transpose()?,
        })
    }
}

/// Reads `{supportedChains: [string]}`.
///
/// # Errors
/// [`ResponseError::Json`] for a body that is not JSON, [`ResponseError::Chains`] for another
/// shape.
pub fn parse_supported_chains(bytes: &[u8]) -> Result<Vec<String>, ResponseError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)?;
    let list =
        value.get("supportedChains").and_then(|v| v.as_array()).ok_or(ResponseError::Chains)?;
    list.iter().map(|c| c.as_str().map(str::to_owned).ok_or(ResponseError::Chains)).collect()
}

/// A client of one CAS.
#[derive(Clone)]
pub struct CasClient {
    base: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for CasClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CasClient").field("url", &self.base).finish_non_exhaustive()
    }
}

impl CasClient {
    /// A client of the CAS at `url` (e.g. `http://127.0.0.1:8081`; a trailing `/` is
    /// dropped) whose every call must finish within 30 seconds.
    ///
    /// # Errors
    /// [`ClientError::Url`] when `url` is not http(s).
    pub fn new(url: &str) -> Result<Self, ClientError> {
        Self::with_timeout(url, Duration::from_secs(30))
    }

    /// As [`CasClient::new`], each call bounded by `timeout` (connect, send and read).
    ///
    /// # Errors
    /// [`ClientError::Url`] when `url` is not http(s).
    pub fn with_timeout(url: &str, timeout: Duration) -> Result<Self, ClientError> {
        let base = url.trim_end_matches('/');
        let rest = base.strip_prefix("http://").or_else(|| base.strip_prefix("https://"));
        if rest.is_none_or(|host| host.is_empty() || host.contains(char::is_whitespace)) {
            return Err(ClientError::Url(url.chars().take(200).collect()));
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Ok(CasClient { base: base.to_owned(), agent })
    }

    /// The CAS's URL (without a trailing `/`).
    pub fn url(&self) -> &str {
        &self.base
    }

    /// Requests an anchor of `request.cid`.
    ///
    /// # Errors
    /// [`ClientError`]: unreachable, refused (4xx), failed (5xx), or an invalid answer
    /// (including one about another commit).
    pub fn request(&self, request: &NewRequest) -> Result<CasResponse, ClientError> {
        let mut body = serde_json::json!({
            "streamId": request.stream_id.to_string(),
            "cid": request.cid.to_string(),
        });
        if let Some(ms) = request.timestamp {
            body["timestamp"] = format_iso8601_ms(ms).into();
        }
        let url = format!("{}/api/v0/requests", self.base);
        let sent =
            self.agent.post(&url).header("content-type", "application/json").send(body.to_string());
        let (status, bytes) = read(&url, sent)?;
        match status {
            200..=202 => checked(&request.cid, &bytes),
            _ => Err(status_error(status, &bytes)),
        }
    }

    /// The CAS's view of the request for `cid`; `None` when it does not know it (404).
    ///
    /// # Errors
    /// As [`CasClient::request`].
    pub fn get(&self, cid: &Cid) -> Result<Option<CasResponse>, ClientError> {
        let url = format!("{}/api/v0/requests/{cid}", self.base);
        let (status, bytes) = read(&url, self.agent.get(&url).call())?;
        match status {
            200 => checked(cid, &bytes).map(Some),
            404 => Ok(None),
            _ => Err(status_error(status, &bytes)),
        }
    }

    /// The chains the CAS anchors on (CAIP-2 ids; a CAS names exactly one).
    ///
    /// # Errors
    /// As [`CasClient::request`].
    pub fn supported_chains(&self) -> Result<Vec<String>, ClientError> {
        let url = format!("{}/api/v0/service-info/supported_chains", self.base);
        let (status, bytes) = read(&url, self.agent.get(&url).call())?;
        match status {
            200 => Ok(parse_supported_chains(&bytes)?),
            _ => Err(status_error(status, &bytes)),
        }
    }
}

/// The status and (at most [`MAX_RESPONSE`] bytes of) body of an answer.
fn read(
    url: &str,
    sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<(u16, Vec<u8>), ClientError> {
    let unreachable =
        |e: ureq::Error| ClientError::Unreachable { url: url.to_owned(), reason: e.to_string() };
    let mut response = sent.map_err(unreachable)?;
    let status = response.status().as_u16();
    let bytes =
        response.body_mut().with_config().limit(MAX_RESPONSE).read_to_vec().map_err(unreachable)?;
    Ok((status, bytes))
}

/// Parses a response and checks that it is about `asked`.
fn checked(asked: &Cid, bytes: &[u8]) -> Result<CasResponse, ClientError> {
    let response = CasResponse::from_json(bytes)?;
    if response.cid != *asked {
        return Err(ResponseError::OtherCommit {
            asked: Box::new(*asked),
            answered: Box::new(response.cid),
        }
        .into());
    }
    Ok(response)
}

/// A 4xx is a refusal, anything else a failure; the message is the body's `error` when it has
/// one, else its first 200 characters.
fn status_error(status: u16, bytes: &[u8]) -> ClientError {
    let message = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(bytes).chars().take(200).collect());
    if (400..500).contains(&status) {
        ClientError::Refused { status, message }
    } else {
        ClientError::Failed { status, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_codecs::cid_of;
    use ceramic_streamid::StreamType;

    fn stream() -> StreamId {
        StreamId::new(StreamType::TILE, cid_of(0x71, b"genesis")).unwrap()
    }

    #[test]
    fn reads_what_the_service_writes() {
        let record = crate::RequestRecord {
            cid: cid_of(0x71, b"tip"),
            stream_id: stream(),
            status: Status::Completed,
            message: "done".into(),
            timestamp: 1,
            created_at: 2,
            updated_at: 3,
            anchor_commit: Some(cid_of(0x71, b"anchor")),
            witness_car: Some(vec![1, 2, 3, 4, 5]),
        };
        let bytes = record.to_json().to_string();
        let response = CasResponse::from_json(bytes.as_bytes()).unwrap();
        assert_eq!(response.id, record.cid.to_string());
        assert_eq!(response.status, Status::Completed);
        assert_eq!(response.stream_id, record.stream_id);
        assert_eq!(response.cid, record.cid);
        assert_eq!(response.message, "done");
        assert_eq!(response.anchor_commit, record.anchor_commit);
        assert_eq!(response.witness_car, record.witness_car);
    }

    #[test]
    fn reads_the_js_cas_shape() {
        // The real CAS: a UUID id, dates as ms numbers, padded or unpadded base64.
        let body = serde_json::json!({
            "id": "6c5e0f0a-8a4e-4b41-9d4c-1f1c3e8a9f10",
            "status": "PENDING",
            "streamId": stream().to_string(),
            "cid": cid_of(0x71, b"tip").to_string(),
            "message": "Request is pending.",
            "createdAt": 1_700_000_000_000_u64,
            "updatedAt": 1_700_000_000_000_u64,
        });
        let response = CasResponse::from_json(body.to_string().as_bytes()).unwrap();
        assert_eq!(response.status, Status::Pending);
        assert_eq!(response.id, "6c5e0f0a-8a4e-4b41-9d4c-1f1c3e8a9f10");
        let mut padded = body.clone();
        padded["status"] = "COMPLETED".into();
        padded["anchorCommit"] = serde_json::json!({ "cid": cid_of(0x71, b"a").to_string() });
        padded["witnessCar"] = "AQI=".into();
        let response = CasResponse::from_json(padded.to_string().as_bytes()).unwrap();
        assert_eq!(response.witness_car, Some(vec![1, 2]));
    }

    #[test]
    fn refuses_bad_answers_by_kind() {
        let ok = serde_json::json!({
            "status": "PENDING",
            "streamId": stream().to_string(),
            "cid": cid_of(0x71, b"tip").to_string(),
        });
        let with = |key: &str, value: serde_json::Value| {
            let mut body = ok.clone();
            body[key] = value;
            CasResponse::from_json(body.to_string().as_bytes())
        };
        assert!(CasResponse::from_json(ok.to_string().as_bytes()).is_ok());
        assert!(matches!(CasResponse::from_json(b"<html>"), Err(ResponseError::Json(_))));
        assert!(matches!(CasResponse::from_json(b"[]"), Err(ResponseError::Json(_))));
        assert!(matches!(with("status", "ANCHORED".into()), Err(ResponseError::Status(_))));
        assert!(matches!(with("status", "COMPLETED".into()), Err(ResponseError::NoAnchorCommit)));
        assert!(matches!(with("cid", "not a cid".into()), Err(ResponseError::Id(_))));
        assert!(matches!(with("streamId", "kzzz".into()), Err(ResponseError::Id(_))));
        assert!(matches!(with("witnessCar", "@@@".into()), Err(ResponseError::WitnessCar(_))));
        assert!(matches!(with("status", 2.into()), Err(ResponseError::Json(_))));
    }

    #[test]
    fn supported_chains_must_be_a_list_of_strings() {
        assert_eq!(
            parse_supported_chains(br#"{"supportedChains":["eip155:1337"]}"#).unwrap(),
            ["eip155:1337"]
        );
        assert!(matches!(parse_supported_chains(b"{}"), Err(ResponseError::Chains)));
        assert!(matches!(
            parse_supported_chains(br#"{"supportedChains":[1]}"#),
            Err(ResponseError::Chains)
        ));
    }

    #[test]
    fn urls_must_be_http() {
        assert!(CasClient::new("http://127.0.0.1:8081/").is_ok());
        assert_eq!(CasClient::new("https://cas.example/").unwrap().url(), "https://cas.example");
        for bad in ["", "127.0.0.1:8081", "ftp://x", "http://", "http://a b"] {
            assert!(matches!(CasClient::new(bad), Err(ClientError::Url(_))), "{bad:?}");
        }
    }

    #[test]
    fn an_unreachable_cas_is_transient() {
        // Port 9 (discard) is closed on this machine's loopback.
        let client = CasClient::with_timeout("http://127.0.0.1:9", Duration::from_secs(5)).unwrap();
        let err = client.get(&cid_of(0x71, b"tip")).unwrap_err();
        assert!(matches!(err, ClientError::Unreachable { .. }), "{err}");
        assert!(err.is_transient());
    }
}
