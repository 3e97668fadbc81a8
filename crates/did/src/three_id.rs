//! The 3ID DID method (`did:3`, CIP-79) as `@ceramicnetwork/3id-did-resolver` 6.4.0 resolves it,
//! and the key-rotation rules `dids` 5 applies to 3ID signatures in js-ceramic.
//!
//! A 3ID is a Tile stream: its DID document is built from the `publicKeys` of the stream's
//! anchored content. `did:3:<StreamID>` is a 3IDv1; the legacy `did:3:<CID>` (3IDv0) names a
//! 3box DID document whose keys seed a deterministic Tile (controller: the signing key's did:key,
//! family `3id`); its document is that Tile's, or, while the Tile has no keys, the legacy keys.
//!
//! The resolver reads streams through [`ThreeIdSource`], which the node implements above this
//! crate (over its own streams, loading missing ones from the network); see `specs/identity.md`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use base64::Engine as _;
use ceramic_codecs::{Block, Codec, GenesisCommit, Header, Payload};
use ceramic_streamid::{StreamId, StreamType};
use cid::Cid;
use serde_json::{Map, Value};

use crate::key::{KeyType, PublicKey};
use crate::resolver::{DidDocument, Resolver, VerificationMethod};
use crate::signer::{KeySigner, Signer};
use crate::{Error, Result};

/// The phase-out js-ceramic allows a rotated-out key (stream-handler-common's
/// `DEFAULT_CACAO_REVOCATION_PHASE_OUT_SECS`, passed to `verifyJWS` as `revocationPhaseOutSecs`).
/// The same constant as the CACAO rules use ([`crate::cacao::REVOCATION_PHASE_OUT_SECS`]).
pub(crate) const REVOCATION_PHASE_OUT_SECS: u64 =
    crate::cacao::REVOCATION_PHASE_OUT_SECS.unsigned_abs();

/// How many versioned documents a [`ThreeIdResolver`] keeps (then it starts afresh).
const VERSION_CACHE: usize = 4096;

/// Why a 3ID could not be resolved, or a 3ID signature is not valid at its time.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ThreeIdError {
    /// The method-specific id is neither a StreamID nor a CID (legacy 3IDv0).
    #[error("not a 3ID: {0:?}")]
    InvalidId(String),
    /// The DID URL's `version-id` / `versionId` is not a CID.
    #[error("3ID version-id is not a CID: {0:?}")]
    InvalidVersion(String),
    /// The 3ID's stream could not be found (in time).
    #[error("3ID stream {stream} not found")]
    NotFound {
        /// The StreamID.
        stream: String,
    },
    /// The stream has no commit named by the `version-id`.
    #[error("3ID stream {stream} has no commit {commit}")]
    CommitNotFound {
        /// The StreamID.
        stream: String,
        /// The commit.
        commit: String,
    },
    /// The legacy 3box document of a 3IDv0 could not be found.
    #[error("legacy 3ID document {0} not found")]
    LegacyNotFound(String),
    /// The legacy 3box document has no usable `signingKey` / `encryptionKey`.
    #[error("not a valid 3ID: legacy document {0}")]
    InvalidLegacyDocument(&'static str),
    /// A `publicKeys` entry is not a multibase string the resolver can read.
    #[error("3ID publicKeys entry {name:?} is not a base58btc multibase key")]
    InvalidPublicKey {
        /// The entry's name.
        name: String,
    },
    /// 3ID documents list secp256k1 signing keys only.
    #[error("a 3ID signing key must be secp256k1")]
    NotASigningKey,
    /// The source failed or timed out.
    #[error("loading a 3ID stream: {0}")]
    Source(#[from] SourceError),
    /// The key's version was replaced by an anchored update before the signature's time (plus
    /// the phase-out), or the signature has no anchor time and the version is replaced.
    #[error("signature authored with a revoked DID version: {kid} (next update {next_update})")]
    Revoked {
        /// The key id.
        kid: String,
        /// When the version was replaced (`nextUpdate`).
        next_update: String,
    },
    /// The signature's anchor time is before the version it names was published.
    #[error("signature authored before creation of DID version: {kid} (updated {updated})")]
    BeforeVersion {
        /// The key id.
        kid: String,
        /// When the version was published (`updated`).
        updated: String,
    },
}

/// Why a [`ThreeIdSource`] could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// No answer within the node's bound.
    #[error("timed out after {0} ms")]
    Timeout(u64),
    /// The node that serves the streams is gone (shutting down).
    #[error("the stream source is not available")]
    Unavailable,
    /// Loading failed.
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

/// Which state of a stream a resolution needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum At {
    /// The latest state.
    Latest,
    /// The state at this commit (its log ends there; timestamps come from anchors in it).
    Commit(Cid),
    /// The state at the last anchor at or before this time (unix seconds), or the genesis.
    Time(u64),
}

/// One log entry of a stream state, as the resolver reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The commit.
    pub cid: Cid,
    /// Whether it is an anchor (a js `EventType.TIME` entry).
    pub anchor: bool,
    /// The block time of the anchor covering it, if known.
    pub timestamp: Option<u64>,
}

/// The parts of a Tile stream state the resolver reads.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamState {
    /// The anchored content (`state.content`; pending changes are not part of the document).
    pub content: Value,
    /// The log.
    pub log: Vec<LogEntry>,
}

/// Where a [`ThreeIdResolver`] reads streams: the node's own streams, loading missing ones from
/// the network within a bounded time. Implemented above this crate (engine, service).
pub trait ThreeIdSource: Send + Sync + fmt::Debug {
    /// The state of `stream` at `at`; `Ok(None)` when the stream (or commit) is not found.
    ///
    /// # Errors
    /// [`SourceError`].
    fn load(&self, stream: &StreamId, at: At) -> Result<Option<StreamState>, SourceError>;

    /// The legacy 3box DID document `cid` (a dag-cbor block) as JSON; `Ok(None)` if not found.
    ///
    /// # Errors
    /// [`SourceError`].
    fn legacy_document(&self, cid: &Cid) -> Result<Option<Value>, SourceError>;
}

impl<S: ThreeIdSource + ?Sized> ThreeIdSource for Arc<S> {
    fn load(&self, stream: &StreamId, at: At) -> Result<Option<StreamState>, SourceError> {
        (**self).load(stream, at)
    }
    fn legacy_document(&self, cid: &Cid) -> Result<Option<Value>, SourceError> {
        (**self).legacy_document(cid)
    }
}

/// A source set after the resolver is built: the node's engine holds the resolver, and the
/// resolver reads the engine's streams. Holds the source weakly, so there is no cycle.
#[derive(Debug, Default)]
pub struct DeferredSource {
    source: OnceLock<Weak<dyn ThreeIdSource>>,
}

impl DeferredSource {
    /// Sets the source (the first call wins).
    pub fn set(&self, source: Weak<dyn ThreeIdSource>) {
        let _ = self.source.set(source);
    }

    fn get(&self) -> Result<Arc<dyn ThreeIdSource>, SourceError> {
        self.source.get().and_then(Weak::upgrade).ok_or(SourceError::Unavailable)
    }
}

impl ThreeIdSource for DeferredSource {
    fn load(&self, stream: &StreamId, at: At) -> Result<Option<StreamState>, SourceError> {
        self.get()?.load(stream, at)
    }
    fn legacy_document(&self, cid: &Cid) -> Result<Option<Value>, SourceError> {
        self.get()?.legacy_document(cid)
    }
}

/// The method-specific part of a 3ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreeIdKind {
    /// 3IDv1: a StreamID.
    V1(StreamId),
    /// Legacy 3IDv0: the CID of a 3box DID document.
    V0(Cid),
}

/// The version a DID URL asks for (its query, as the JS resolver reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// No (usable) version: the latest.
    Latest,
    /// `version-id` / `versionId`: the state at that commit.
    Commit(Cid),
    /// `versionTime`: the state at that time (unix seconds).
    Time(i64),
}

/// A parsed `did:3` DID URL: `did:3:<id>[?query][#fragment]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreeIdUrl {
    did: String,
    kind: ThreeIdKind,
    version: Version,
}

impl ThreeIdUrl {
    /// Parses a did:3 DID or DID URL (a JWS `kid`).
    ///
    /// # Errors
    /// [`Error::NotADid`] when it is not `did:3:…`, [`ThreeIdError::InvalidId`] and
    /// [`ThreeIdError::InvalidVersion`].
    pub fn parse(url: &str) -> Result<Self> {
        let without_fragment = url.split('#').next().unwrap_or_default();
        let (did, query) = match without_fragment.split_once('?') {
            Some((did, query)) => (did, Some(query)),
            None => (without_fragment, None),
        };
        let id = did
            .strip_prefix("did:3:")
            .ok_or_else(|| Error::NotADid(url.chars().take(200).collect()))?;
        let kind = parse_id(id)?;
        let version = query.map(parse_version).transpose()?.unwrap_or(Version::Latest);
        Ok(ThreeIdUrl { did: did.to_string(), kind, version })
    }

    /// The DID (`did:3:<id>`, the id as written).
    pub fn did(&self) -> &str {
        &self.did
    }

    /// Its id.
    pub fn kind(&self) -> &ThreeIdKind {
        &self.kind
    }

    /// The version asked for.
    pub fn version(&self) -> Version {
        self.version
    }
}

fn parse_id(id: &str) -> Result<ThreeIdKind> {
    let invalid = || Error::from(ThreeIdError::InvalidId(id.chars().take(200).collect()));
    // The JS resolver tries `CID.parse` first, which reads CIDv0 (`Q…`), base32 (`b…`) and
    // base58btc (`z…`) only; everything else must be a StreamID.
    if id.starts_with(['Q', 'b', 'z']) {
        if let Ok(cid) = Cid::try_from(id) {
            return Ok(ThreeIdKind::V0(cid));
        }
        return Err(invalid());
    }
    let stream: StreamId = id.parse().map_err(|_| invalid())?;
    // The JS resolver looks the stream up under the id as written: only the canonical
    // encoding is found.
    if stream.to_string() != id {
        return Err(invalid());
    }
    Ok(ThreeIdKind::V1(stream))
}

/// Reads the query as `URLSearchParams` does and picks the version as `getVersionInfo` does:
/// `versionId`, else `version-id` (first non-empty of each), else `versionTime`.
fn parse_version(query: &str) -> Result<Version> {
    let params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (form_decode(k), form_decode(v))
        })
        .collect();
    let get = |name: &str| {
        params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    };
    if let Some(commit) = get("versionId").or_else(|| get("version-id")) {
        let cid = Cid::try_from(commit)
            .map_err(|_| ThreeIdError::InvalidVersion(commit.chars().take(200).collect()))?;
        return Ok(Version::Commit(cid));
    }
    // An unparsable time is NaN in JS, which is falsy: the latest version.
    match get("versionTime").and_then(parse_js_date) {
        Some(t) if t != 0 => Ok(Version::Time(t)),
        _ => Ok(Version::Latest),
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; malformed
/// escapes stay as written, and invalid UTF-8 becomes U+FFFD, as in `URLSearchParams`.
fn form_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h << 4) | l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `Math.floor(new Date(s).getTime() / 1000)` for the ISO forms `Date` must read:
/// `YYYY-MM-DD` (UTC), `YYYY-MM-DDTHH:mm[:ss[.sss…]]` with `Z` or `±HH:mm` (without a zone JS
/// reads local time; a node runs in UTC). Other forms give `None` (JS: NaN or a
/// browser-specific fallback).
pub(crate) fn parse_js_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) * 86_400;
    if b.len() == 10 {
        return Some(secs);
    }
    if b[10] != b'T' || b.len() < 16 || b[13] != b':' {
        return None;
    }
    let (hour, minute) = (num(11..13)?, num(14..16)?);
    let mut at = 16;
    let mut second = 0;
    if b.get(at) == Some(&b':') {
        second = num(at + 1..at + 3)?;
        at += 3;
        if b.get(at) == Some(&b'.') {
            let start = at + 1;
            at = start;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            if at == start {
                return None;
            }
        }
    }
    if hour > 24 || minute > 59 || second > 59 || (hour == 24 && (minute, second) != (0, 0)) {
        return None;
    }
    secs += hour * 3600 + minute * 60 + second;
    match &b[at..] {
        [] | [b'Z'] => {}
        [sign @ (b'+' | b'-'), ..] if b.len() == at + 6 && b[at + 3] == b':' => {
            let (oh, om) = (num(at + 1..at + 3)?, num(at + 4..at + 6)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let offset = oh * 3600 + om * 60;
            secs += if *sign == b'+' { -offset } else { offset };
        }
        _ => return None,
    }
    // A fraction of a second never changes the floor: whole seconds plus [0, 1).
    Some(secs)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `new Date(t * 1000).toISOString().split('.')[0] + 'Z'`: `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn format_time(t: u64) -> String {
    let t = i64::try_from(t).unwrap_or(i64::MAX / 2);
    let (days, rem) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The `didDocumentMetadata` of a resolution, as `extractMetadata` computes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentMetadata {
    /// The anchor time of the version (its last anchor).
    pub updated: Option<u64>,
    /// The anchor time of the next version, when there is one.
    pub next_update: Option<u64>,
    /// The version's commit (`"0"` for a genesis-only state).
    pub version_id: Option<String>,
    /// The next version's commit.
    pub next_version_id: Option<String>,
}

impl DocumentMetadata {
    fn extract(requested: &StreamState, latest: &StreamState) -> Self {
        let entry = requested.log.iter().rev().find(|e| e.anchor).or(requested.log.first());
        // JS truthiness: a timestamp of 0 counts as none.
        let updated = entry.and_then(|e| e.timestamp).filter(|t| *t != 0);
        let next = latest.log.iter().find(|e| match (e.timestamp.filter(|t| *t != 0), updated) {
            (Some(t), Some(u)) => t > u,
            (Some(_), None) => true,
            (None, _) => false,
        });
        DocumentMetadata {
            updated,
            next_update: next.and_then(|e| e.timestamp),
            version_id: entry.map(|e| {
                if requested.log.len() == 1 { "0".to_string() } else { e.cid.to_string() }
            }),
            next_version_id: next.map(|e| e.cid.to_string()),
        }
    }

    /// As JSON, keys in the JS resolver's order.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(t) = self.updated {
            m.insert("updated".into(), format_time(t).into());
        }
        if let Some(t) = self.next_update {
            m.insert("nextUpdate".into(), format_time(t).into());
        }
        if let Some(v) = &self.version_id {
            m.insert("versionId".into(), v.clone().into());
        }
        if let Some(v) = &self.next_version_id {
            m.insert("nextVersionId".into(), v.clone().into());
        }
        Value::Object(m)
    }
}

/// A resolved 3ID: the document (`None` when the version has no `publicKeys`) and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// The DID document as the JS resolver returns it.
    pub document: Option<Value>,
    /// The signing keys of the document.
    pub keys: DidDocument,
    /// The document metadata.
    pub metadata: DocumentMetadata,
}

impl Resolution {
    /// The JS resolver's result (`{didResolutionMetadata, didDocument, didDocumentMetadata}`)
    /// for `application/did+json`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "didResolutionMetadata".into(),
            serde_json::json!({"contentType": "application/did+json"}),
        );
        m.insert("didDocument".into(), self.document.clone().unwrap_or(Value::Null));
        m.insert("didDocumentMetadata".into(), self.metadata.to_json());
        Value::Object(m)
    }
}

/// Whether a property name is a JS array index (such keys come first, ascending, in
/// `Object.entries`).
fn array_index(key: &str) -> Option<u32> {
    let n: u32 = key.parse().ok()?;
    (n != u32::MAX && n.to_string() == key).then_some(n)
}

/// `Object.entries(publicKeys)` in JS order, for the values the JS resolver can read.
fn js_entries(value: &Value) -> Vec<(String, &Value)> {
    match value {
        Value::Object(map) => {
            let mut index: Vec<(u32, &String, &Value)> =
                map.iter().filter_map(|(k, v)| array_index(k).map(|n| (n, k, v))).collect();
            index.sort_by_key(|(n, _, _)| *n);
            index
                .into_iter()
                .map(|(_, k, v)| (k.clone(), v))
                .chain(
                    map.iter()
                        .filter(|(k, _)| array_index(k).is_none())
                        .map(|(k, v)| (k.clone(), v)),
                )
                .collect()
        }
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
        // A string's entries are its characters; each `slice(1)` is empty, so none is a key.
        _ => Vec::new(),
    }
}

fn js_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `wrapDocument(content, did)`: the DID document of a 3ID version, and its signing keys.
///
/// # Errors
/// [`ThreeIdError::InvalidPublicKey`] for an entry that is not a string or not base58btc.
pub fn wrap_document(content: &Value, did: &str) -> Result<(Option<Value>, DidDocument)> {
    let mut keys = DidDocument { id: did.to_string(), verification_methods: Vec::new() };
    let Some(public_keys) = content.get("publicKeys").filter(|v| js_truthy(v)) else {
        return Ok((None, keys));
    };
    let (mut methods, mut authentication, mut agreement) = (Vec::new(), Vec::new(), Vec::new());
    for (name, value) in js_entries(public_keys) {
        let invalid = || ThreeIdError::InvalidPublicKey { name: name.chars().take(100).collect() };
        let text = value.as_str().ok_or_else(invalid)?;
        let rest: String = text.chars().skip(1).collect();
        let bytes = multibase::Base::Base58Btc.decode(&rest).map_err(|_| invalid())?;
        let kind = match bytes.first() {
            Some(0xe7) => "EcdsaSecp256k1Signature2019",
            Some(0xec) => "X25519KeyAgreementKey2019",
            _ => continue,
        };
        let key = bytes.get(2..).unwrap_or_default();
        let id = format!("{did}#{name}");
        let entry = serde_json::json!({
            "id": id,
            "type": kind,
            "controller": did,
            "publicKeyBase58": multibase::Base::Base58Btc.encode(key),
        });
        methods.push(entry.clone());
        if bytes[0] == 0xe7 {
            authentication.push(entry);
            // A key that does not decode is listed, as in JS, but verifies nothing.
            if let Ok(public_key) = PublicKey::from_bytes(KeyType::Secp256k1, key) {
                keys.verification_methods.push(VerificationMethod {
                    id,
                    controller: did.to_string(),
                    public_key,
                });
            }
        } else {
            agreement.push(entry);
        }
    }
    let mut doc = Map::new();
    doc.insert("id".into(), did.into());
    doc.insert("verificationMethod".into(), methods.into());
    doc.insert("authentication".into(), authentication.into());
    doc.insert("keyAgreement".into(), agreement.into());
    Ok((Some(Value::Object(doc)), keys))
}

/// Resolves did:3 through a [`ThreeIdSource`], caching the documents of named versions (a
/// commit's content never changes; the latest and a time's version do, so they are not cached).
#[derive(Debug)]
pub struct ThreeIdResolver {
    source: Arc<dyn ThreeIdSource>,
    versions: Mutex<HashMap<String, Arc<DidDocument>>>,
}

impl ThreeIdResolver {
    /// A resolver over `source`.
    pub fn new(source: Arc<dyn ThreeIdSource>) -> Self {
        ThreeIdResolver { source, versions: Mutex::new(HashMap::new()) }
    }

    /// Resolves a did:3 DID URL as `@ceramicnetwork/3id-did-resolver` 6.4.0 does.
    ///
    /// # Errors
    /// The [`ThreeIdUrl::parse`] errors, [`ThreeIdError`] for a stream, commit or legacy document
    /// that is not found or a malformed key, and the source's errors.
    pub fn resolve_url(&self, url: &str) -> Result<Resolution> {
        let url = ThreeIdUrl::parse(url)?;
        match &url.kind {
            ThreeIdKind::V1(stream) => self.resolve_stream(stream, url.version, url.did(), false),
            ThreeIdKind::V0(cid) => self.resolve_legacy(cid, url.version, url.did()),
        }
    }

    fn load(&self, stream: &StreamId, at: At) -> Result<Option<StreamState>> {
        Ok(self.source.load(stream, at).map_err(ThreeIdError::from)?)
    }

    fn resolve_stream(
        &self,
        stream: &StreamId,
        version: Version,
        did: &str,
        create_if_missing: bool,
    ) -> Result<Resolution> {
        let not_found = || ThreeIdError::NotFound { stream: stream.to_string() };
        let missing = |state: Option<StreamState>| -> Result<StreamState> {
            match state {
                Some(state) => Ok(state),
                // `createStreamFromGenesis` makes the deterministic legacy Tile: genesis only,
                // content `{}`.
                None if create_if_missing => Ok(StreamState {
                    content: Value::Object(Map::new()),
                    log: vec![LogEntry { cid: stream.cid(), anchor: false, timestamp: None }],
                }),
                None => Err(not_found().into()),
            }
        };
        let (latest, requested) = match version {
            Version::Latest => (missing(self.load(stream, At::Latest)?)?, None),
            Version::Commit(commit) => {
                let latest = missing(self.load(stream, At::Latest)?)?;
                let at = self.load(stream, At::Commit(commit))?.ok_or_else(|| {
                    ThreeIdError::CommitNotFound {
                        stream: stream.to_string(),
                        commit: commit.to_string(),
                    }
                })?;
                (latest, Some(at))
            }
            // The JS resolver queries the stream twice under one key; the state at the time
            // replaces the latest, so it is both the requested and the "latest" state.
            Version::Time(t) => {
                let at = u64::try_from(t).unwrap_or(0);
                (missing(self.load(stream, At::Time(at))?)?, None)
            }
        };
        let requested = requested.as_ref().unwrap_or(&latest);
        let metadata = DocumentMetadata::extract(requested, &latest);
        let (document, keys) = wrap_document(&requested.content, did)?;
        Ok(Resolution { document, keys, metadata })
    }

    fn resolve_legacy(&self, cid: &Cid, version: Version, did: &str) -> Result<Resolution> {
        let doc = self
            .source
            .legacy_document(cid)
            .map_err(ThreeIdError::from)?
            .ok_or_else(|| ThreeIdError::LegacyNotFound(cid.to_string()))?;
        let legacy = LegacyKeys::from_document(&doc)?;
        let stream = legacy.stream_id()?;
        let mut resolution = self.resolve_stream(&stream, version, did, true)?;
        if resolution.document.is_none() {
            let (document, keys) = wrap_document(&legacy.content(), did)?;
            resolution.document = document;
            resolution.keys = keys;
        }
        Ok(resolution)
    }

    fn version_keys(&self, url: &ThreeIdUrl, cache_key: &str) -> Result<Arc<DidDocument>> {
        let cacheable = matches!(url.version, Version::Commit(_));
        if cacheable
            && let Some(doc) =
                self.versions.lock().unwrap_or_else(|e| e.into_inner()).get(cache_key)
        {
            return Ok(doc.clone());
        }
        let resolution = match &url.kind {
            ThreeIdKind::V1(stream) => {
                self.resolve_stream(stream, url.version, url.did(), false)?
            }
            ThreeIdKind::V0(cid) => self.resolve_legacy(cid, url.version, url.did())?,
        };
        let doc = Arc::new(resolution.keys);
        if cacheable {
            let mut cache = self.versions.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= VERSION_CACHE {
                cache.clear();
            }
            cache.insert(cache_key.to_string(), doc.clone());
        }
        Ok(doc)
    }
}

/// The keys of a legacy 3box DID document, as `LegacyResolver` reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LegacyKeys {
    signing: String,
    encryption: String,
}

impl LegacyKeys {
    fn from_document(doc: &Value) -> Result<Self, ThreeIdError> {
        let keys = doc
            .get("publicKey")
            .and_then(Value::as_array)
            .ok_or(ThreeIdError::InvalidLegacyDocument("publicKey is not an array"))?;
        let find = |suffix: &str, field: &str| -> Result<Option<String>, ThreeIdError> {
            for key in keys {
                let id = key
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or(ThreeIdError::InvalidLegacyDocument("a publicKey has no string id"))?;
                if id.ends_with(suffix) {
                    return match key.get(field) {
                        None | Some(Value::Null) => Ok(None),
                        Some(Value::String(s)) if s.is_empty() => Ok(None),
                        Some(Value::String(s)) => Ok(Some(s.clone())),
                        Some(_) => Err(ThreeIdError::InvalidLegacyDocument("key is not a string")),
                    };
                }
            }
            Ok(None)
        };
        let missing = ThreeIdError::InvalidLegacyDocument("no signingKey or encryptionKey");
        let (Some(signing_hex), Some(encryption_b64)) =
            (find("signingKey", "publicKeyHex")?, find("encryptionKey", "publicKeyBase64")?)
        else {
            return Err(missing);
        };
        let signing = legacy_compress(&signing_hex)?;
        let encryption = base64::engine::general_purpose::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new()
                .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
        )
        .decode(encryption_b64)
        .map_err(|_| ThreeIdError::InvalidLegacyDocument("encryptionKey is not base64"))?;
        Ok(LegacyKeys {
            signing: encode_key(0xe7, &signing),
            encryption: encode_key(0xec, &encryption),
        })
    }

    fn key_did(&self) -> String {
        format!("did:key:{}", self.signing)
    }

    /// The deterministic Tile `{header: {controllers: [keyDid], family: "3id"}}`.
    fn stream_id(&self) -> Result<StreamId> {
        let genesis = GenesisCommit {
            header: Header {
                controllers: Some(vec![self.key_did()]),
                family: Some("3id".into()),
                ..Header::default()
            },
            data: None,
        };
        let block = Block::encode(Codec::DagCbor, &Payload::Genesis(genesis))?;
        StreamId::new(StreamType::TILE, *block.cid())
            .map_err(|_| ThreeIdError::InvalidLegacyDocument("genesis CID").into())
    }

    /// `{publicKeys: {[signing.slice(-15)]: signing, [encryption.slice(-15)]: encryption}}`.
    fn content(&self) -> Value {
        let tail = |s: &str| {
            s.chars().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect::<String>()
        };
        let mut keys = Map::new();
        keys.insert(tail(&self.signing), self.signing.clone().into());
        keys.insert(tail(&self.encryption), self.encryption.clone().into());
        serde_json::json!({ "publicKeys": Value::Object(keys) })
    }
}

/// `z` + base58btc of `[prefix, 0x01, ...key]`.
fn encode_key(prefix: u8, key: &[u8]) -> String {
    let mut bytes = vec![prefix, 0x01];
    bytes.extend_from_slice(key);
    multibase::encode(multibase::Base::Base58Btc, bytes)
}

/// `compressKey`: `x = hex[2..66]`, prefix `02`/`03` by `(hex[66..130] & 1)` in JS, where the
/// `&` converts the hex string to a Number: NaN (0) unless it is a decimal literal. So the prefix
/// is almost always `02`; the JS rule is kept because it decides which key a legacy 3ID has.
fn legacy_compress(hex: &str) -> Result<Vec<u8>, ThreeIdError> {
    let slice = |r: std::ops::Range<usize>| -> &str {
        let chars: Vec<(usize, char)> = hex.char_indices().collect();
        let at = |i: usize| chars.get(i).map_or(hex.len(), |(b, _)| *b);
        &hex[at(r.start.min(chars.len()))..at(r.end.min(chars.len()))]
    };
    let (x, y) = (slice(2..66), slice(66..130));
    let prefix = if js_number_parity(y) { "03" } else { "02" };
    let text = format!("{prefix}{x}");
    if text.len() % 2 != 0
        || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ThreeIdError::InvalidLegacyDocument("signingKey is not lowercase hex"));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| ThreeIdError::InvalidLegacyDocument("signingKey is not lowercase hex"))
}

/// `(s & 1) === 1` in JS for a string of hex characters: `ToInt32(ToNumber(s)) & 1`.
fn js_number_parity(s: &str) -> bool {
    let t = s.trim_matches(|c: char| c.is_ascii_whitespace());
    let valid = {
        let (mantissa, exponent) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], Some(&t[i + 1..])),
            None => (t, None),
        };
        !mantissa.is_empty()
            && mantissa.bytes().all(|b| b.is_ascii_digit())
            && exponent.is_none_or(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()))
    };
    // An empty string is 0 in JS: even.
    if !valid {
        return false;
    }
    let Ok(v) = t.parse::<f64>() else { return false };
    if !v.is_finite() {
        return false;
    }
    let m = v.trunc() % 4_294_967_296.0;
    // `m` is an exact integer below 2^32.
    m >= 0.0 && (m as u64) & 1 == 1
}

impl Resolver for ThreeIdResolver {
    fn resolve(&self, did: &str) -> Result<Arc<DidDocument>> {
        let url = ThreeIdUrl::parse(did)?;
        self.version_keys(&url, did)
    }

    fn resolve_kid(&self, kid: &str) -> Result<Arc<DidDocument>> {
        let url = ThreeIdUrl::parse(kid)?;
        let key = kid.split('#').next().unwrap_or_default();
        self.version_keys(&url, key)
    }

    fn check_key_time(&self, kid: &str, at_time: Option<u64>) -> Result<()> {
        let url = ThreeIdUrl::parse(kid)?;
        let metadata = match &url.kind {
            ThreeIdKind::V1(stream) => {
                self.resolve_stream(stream, url.version, url.did(), false)?.metadata
            }
            ThreeIdKind::V0(cid) => self.resolve_legacy(cid, url.version, url.did())?.metadata,
        };
        check_times(kid, &metadata, at_time)
    }

    fn cacheable(&self, _did: &str) -> bool {
        false
    }
}

/// The time rules of `dids` `verifyJWS` (5.0.3) with js-ceramic's 24 h phase-out: a version
/// replaced at `nextUpdate` signs only for commits anchored before `nextUpdate` + phase-out (an
/// unanchored commit not at all), and no commit anchored before the version's `updated`.
///
/// # Errors
/// [`ThreeIdError::Revoked`], [`ThreeIdError::BeforeVersion`].
pub fn check_times(kid: &str, metadata: &DocumentMetadata, at_time: Option<u64>) -> Result<()> {
    let at_time = at_time.filter(|t| *t != 0);
    if let Some(next) = metadata.next_update {
        let earlier = at_time.is_some_and(|t| t < next.saturating_add(REVOCATION_PHASE_OUT_SECS));
        if !earlier {
            return Err(ThreeIdError::Revoked {
                kid: kid.chars().take(300).collect(),
                next_update: format_time(next),
            }
            .into());
        }
    }
    if let (Some(updated), Some(t)) = (metadata.updated, at_time)
        && t < updated
    {
        return Err(ThreeIdError::BeforeVersion {
            kid: kid.chars().take(300).collect(),
            updated: format_time(updated),
        }
        .into());
    }
    Ok(())
}

/// The `publicKeys` entry of a secp256k1 key, as 3id-did-provider writes it: the name is the
/// last 15 characters of the value, `z` + base58btc of the multicodec key (the did:key id).
///
/// # Errors
/// [`ThreeIdError::NotASigningKey`] for a key that is not secp256k1.
pub fn public_key_entry(key: &KeySigner) -> Result<(String, String)> {
    if key.did_key().public_key().key_type() != KeyType::Secp256k1 {
        return Err(ThreeIdError::NotASigningKey.into());
    }
    let value = key.did().trim_start_matches("did:key:").to_string();
    let name = value.get(value.len().saturating_sub(15)..).unwrap_or_default().to_string();
    Ok((name, value))
}

/// The content of a 3ID version listing `keys` (secp256k1): `{"publicKeys": {name: key, …}}`.
///
/// # Errors
/// [`ThreeIdError::NotASigningKey`].
pub fn three_id_content(keys: &[&KeySigner]) -> Result<Value> {
    let mut entries = Map::new();
    for key in keys {
        let (name, value) = public_key_entry(key)?;
        entries.insert(name, value.into());
    }
    Ok(serde_json::json!({ "publicKeys": Value::Object(entries) }))
}

/// Signs as a 3ID with one of its secp256k1 keys: `kid` is `did:3:<id>?version-id=<commit>#<name>`
/// (the version whose document lists the key), as 3id-did-provider signs.
pub struct ThreeIdSigner {
    key: KeySigner,
    did: String,
    kid: String,
}

impl fmt::Debug for ThreeIdSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreeIdSigner").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl ThreeIdSigner {
    /// `key` signing for the 3ID `did` at document version `version` (a commit of the 3ID's
    /// stream, normally its latest anchor), or without a version (the latest document).
    ///
    /// # Errors
    /// [`ThreeIdError::NotASigningKey`], and the [`ThreeIdUrl::parse`] errors for `did`.
    pub fn new(key: KeySigner, did: &str, version: Option<Cid>) -> Result<Self> {
        let url = ThreeIdUrl::parse(did)?;
        let (name, _) = public_key_entry(&key)?;
        let kid = match version {
            Some(v) => format!("{}?version-id={v}#{name}", url.did()),
            None => format!("{}#{name}", url.did()),
        };
        Ok(ThreeIdSigner { key, did: url.did().to_string(), kid })
    }
}

impl Signer for ThreeIdSigner {
    fn did(&self) -> &str {
        &self.did
    }
    fn kid(&self) -> String {
        self.kid.clone()
    }
    fn algorithm(&self) -> crate::Algorithm {
        crate::Algorithm::ES256K
    }
    fn sign(&self, signing_input: &[u8]) -> Result<Vec<u8>> {
        self.key.sign(signing_input)
    }
}

/// The body of the `did_parse_three_id` fuzz target.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn fuzz_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(url) = ThreeIdUrl::parse(text) {
        assert!(text.starts_with(url.did()));
    }
    let _ = parse_js_date(text);
    let _ = legacy_compress(text);
    if let Ok(content) = serde_json::from_str::<Value>(text) {
        let _ = wrap_document(&content, "did:3:fuzz");
        let _ = LegacyKeys::from_document(&content);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_times_like_js() {
        assert_eq!(format_time(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(parse_js_date("2023-11-14T22:13:20.000Z"), Some(1_700_000_000));
        assert_eq!(parse_js_date("2023-11-14T22:13:20.999Z"), Some(1_700_000_000));
        assert_eq!(parse_js_date("2023-11-14T23:13:20+01:00"), Some(1_700_000_000));
        assert_eq!(parse_js_date("2023-11-14"), Some(1_699_920_000));
        assert_eq!(parse_js_date("2023-02-30"), None);
        assert_eq!(parse_js_date("yesterday"), None);
    }

    #[test]
    fn reads_versions_as_url_search_params_do() {
        let cid = "bafyreiar7ke2vn5rr3yqlt533a6kzqwhmjrzjertiwp3digzbplng7ssvq";
        assert!(matches!(parse_version(&format!("version-id={cid}")), Ok(Version::Commit(_))));
        assert!(matches!(
            parse_version(&format!("versionId=&version-id={cid}")),
            Ok(Version::Commit(_))
        ));
        assert!(parse_version("version-id=nope").is_err());
        assert_eq!(parse_version("versionTime=garbage").unwrap(), Version::Latest);
        assert_eq!(
            parse_version("versionTime=2023-11-14T22%3A13%3A20Z").unwrap(),
            Version::Time(1_700_000_000)
        );
        assert_eq!(parse_version("versionTime=1970-01-01T00:00:00Z").unwrap(), Version::Latest);
    }

    #[test]
    fn parses_ids_as_the_js_resolver_does() {
        assert!(matches!(ThreeIdUrl::parse("did:key:z6Mk"), Err(Error::NotADid(_))));
        assert!(matches!(
            ThreeIdUrl::parse("did:3:nonsense"),
            Err(Error::ThreeId(ThreeIdError::InvalidId(_)))
        ));
        let v0 = ThreeIdUrl::parse(
            "did:3:bafyreib4mxj2g3zy5a47tnx5omzvwwaprwjwupht3r44vhxjxqy2urlfnm#key",
        )
        .unwrap();
        assert!(matches!(v0.kind(), ThreeIdKind::V0(_)));
    }

    #[test]
    fn js_number_parity_follows_to_int32() {
        assert!(!js_number_parity("abcdef"));
        assert!(js_number_parity(
            "0000000000000000000000000000000000000000000000000000000000000001"
        ));
        assert!(!js_number_parity(
            "1234567890123456789012345678901234567890123456789012345678901234"
        ));
        assert!(js_number_parity("3"));
        assert!(!js_number_parity("1e400"));
    }

    #[test]
    fn fuzz_body_takes_odd_inputs() {
        for input in [
            &b"did:3:"[..],
            b"did:3:kjzl6cwe1jw149tlplc4bgnpn1v4uwk9rg9jkvijx0u0zmfa97t69dnqibqa2as?version-id=%zz#",
            br#"{"publicKeys":{"0":"z","1":7}}"#,
            br##"{"publicKey":[{"id":"#signingKey","publicKeyHex":"04e9"}]}"##,
            "2023-11-14T22:13:20.5+25:00".as_bytes(),
        ] {
            fuzz_parse(input);
        }
    }

    #[test]
    fn time_rules() {
        let meta = DocumentMetadata {
            updated: Some(100),
            next_update: Some(1000),
            ..DocumentMetadata::default()
        };
        assert!(check_times("k", &meta, Some(150)).is_ok());
        assert!(check_times("k", &meta, Some(1000 + REVOCATION_PHASE_OUT_SECS - 1)).is_ok());
        assert!(check_times("k", &meta, Some(1000 + REVOCATION_PHASE_OUT_SECS)).is_err());
        assert!(check_times("k", &meta, None).is_err());
        assert!(check_times("k", &meta, Some(99)).is_err());
        let latest = DocumentMetadata { updated: Some(100), ..DocumentMetadata::default() };
        assert!(check_times("k", &latest, None).is_ok());
    }

    #[test]
    fn js_entry_order_puts_array_indices_first() {
        let v: Value =
            serde_json::from_str(r#"{"b":1,"10":2,"a":3,"2":4,"4294967295":5}"#).unwrap();
        let keys: Vec<String> = js_entries(&v).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["2", "10", "b", "a", "4294967295"]);
    }
}
