//! Request bodies of the write routes and multiqueries, parsed and checked before anything
//! reaches the engine: `POST /streams` (`{type, genesis, opts}`), `POST /commits`
//! (`{streamId, commit, opts}`), `POST /multiqueries` (`{queries, timeout}`).

use std::collections::BTreeMap;
use std::time::Duration;

use ceramic_streamid::{StreamId, StreamRef, StreamType};
use serde_json::{Map, Value};

use crate::commit::{CommitBlocks, CommitJsonError, from_json};
use crate::query::{LoadOpts, QueryError};

/// The most queries one multiquery may hold.
pub const MAX_QUERIES: usize = 1_000;
/// The most `/`-separated keys one multiquery path may have. A [`PathTrie`] is as deep as its
/// longest path, and dropping (or comparing, or printing) one recurses once per level: a 1 MiB
/// body of `a/a/a/…` made a trie 500,000 levels deep, which overflowed the stack. Each level is
/// a link followed to another stream, and a multiquery loads at most
/// [`crate::MAX_MULTIQUERY_LOADS`] streams in all.
pub const MAX_PATH_DEPTH: usize = 64;
/// A multiquery's per-stream timeout when it names none (js `DEFAULT_MULTIQUERY_TIMEOUT_MS`).
pub const DEFAULT_MULTIQUERY_TIMEOUT: Duration = Duration::from_millis(30_000);

/// Why a request body was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The body is not JSON.
    #[error("the body is not valid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// A required field is absent.
    #[error("`{0}` is required")]
    Missing(&'static str),
    /// A field has the wrong type or is out of range.
    #[error("`{field}` must be {expected}")]
    Type {
        /// The field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// A StreamID or CommitID does not parse.
    #[error("`{field}` is not a StreamID or CommitID: {source}")]
    Id {
        /// The field.
        field: &'static str,
        /// Why.
        #[source]
        source: ceramic_streamid::Error,
    },
    /// The serialized commit is malformed.
    #[error("invalid commit: {0}")]
    Commit(#[from] CommitJsonError),
    /// Load options are malformed.
    #[error(transparent)]
    Opts(#[from] QueryError),
    /// Too many items.
    #[error("`{field}` holds {count} items, at most {max}")]
    TooMany {
        /// The field.
        field: &'static str,
        /// How many it held.
        count: usize,
        /// The limit.
        max: usize,
    },
}

type Result<T, E = RequestError> = std::result::Result<T, E>;

/// The options of a write (`opts` of create and apply). js also sends `publish`, `sync` and
/// `syncTimeoutSeconds`; they are accepted and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOpts {
    /// Request an anchor of the new tip (js default: true).
    pub anchor: bool,
    /// `opts.pin`: `true` pins the stream, `false` unpins it, absent (or `null`) leaves it to
    /// the node's `gc.pin_on_write`.
    pub pin: Option<bool>,
}

impl Default for WriteOpts {
    fn default() -> Self {
        WriteOpts { anchor: true, pin: None }
    }
}

/// `POST /api/v0/streams`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRequest {
    /// The stream type (`type`).
    pub stream_type: StreamType,
    /// The genesis commit.
    pub genesis: CommitBlocks,
    /// The options.
    pub opts: WriteOpts,
}

/// `POST /api/v0/commits`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyRequest {
    /// The stream written to (a CommitID names its stream).
    pub stream: StreamId,
    /// The commit.
    pub commit: CommitBlocks,
    /// The options.
    pub opts: WriteOpts,
}

/// Link paths to follow from a stream's content (js `PathTrie`): each key names a content field
/// holding a StreamID string, whose stream is loaded and walked with the key's own children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PathTrie {
    /// The keys to follow from this stream.
    pub children: BTreeMap<String, PathTrie>,
}

impl PathTrie {
    /// Adds a `/`-separated path (a leading `/` is dropped, as js does).
    pub fn add(&mut self, path: &str) {
        let path = path.strip_prefix('/').unwrap_or(path);
        let mut node = self;
        for key in path.split('/') {
            node = node.children.entry(key.to_string()).or_default();
        }
    }
}

/// One query of a multiquery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The stream (or commit) to load.
    pub id: StreamRef,
    /// Links to follow.
    pub paths: PathTrie,
    /// An unsigned genesis to create the stream from if it is not stored.
    pub genesis: Option<CommitBlocks>,
    /// Load options.
    pub opts: LoadOpts,
}

/// `POST /api/v0/multiqueries`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiQuery {
    /// The queries.
    pub queries: Vec<Query>,
    /// How long each stream load may take.
    pub timeout: Duration,
}

/// Parses a `POST /streams` body.
///
/// # Errors
/// [`RequestError`] naming the malformed field.
pub fn parse_create(body: &[u8]) -> Result<CreateRequest> {
    let object = object(body)?;
    let stream_type =
        object.get("type").ok_or(RequestError::Missing("type"))?.as_u64().ok_or(
            RequestError::Type { field: "type", expected: "a stream type code (0, 1, …)" },
        )?;
    let genesis = from_json(object.get("genesis").ok_or(RequestError::Missing("genesis"))?)?;
    Ok(CreateRequest {
        stream_type: StreamType::new(stream_type),
        genesis,
        opts: write_opts(object.get("opts"))?,
    })
}

/// Parses a `POST /commits` body.
///
/// # Errors
/// [`RequestError`] naming the malformed field.
pub fn parse_apply(body: &[u8]) -> Result<ApplyRequest> {
    let object = object(body)?;
    let stream = object
        .get("streamId")
        .ok_or(RequestError::Missing("streamId"))?
        .as_str()
        .ok_or(RequestError::Type { field: "streamId", expected: "a StreamID string" })?
        .parse::<StreamRef>()
        .map_err(|source| RequestError::Id { field: "streamId", source })?
        .stream_id();
    let commit = from_json(object.get("commit").ok_or(RequestError::Missing("commit"))?)?;
    Ok(ApplyRequest { stream, commit, opts: write_opts(object.get("opts"))? })
}

/// Parses a `POST /multiqueries` body.
///
/// # Errors
/// [`RequestError`] naming the malformed field.
pub fn parse_multiquery(body: &[u8]) -> Result<MultiQuery> {
    let object = object(body)?;
    let queries = object
        .get("queries")
        .ok_or(RequestError::Missing("queries"))?
        .as_array()
        .ok_or(RequestError::Type { field: "queries", expected: "an array" })?;
    if queries.len() > MAX_QUERIES {
        return Err(RequestError::TooMany {
            field: "queries",
            count: queries.len(),
            max: MAX_QUERIES,
        });
    }
    let timeout = match object.get("timeout").filter(|v| !v.is_null()) {
        None => DEFAULT_MULTIQUERY_TIMEOUT,
        Some(t) => Duration::from_millis(t.as_u64().ok_or(RequestError::Type {
            field: "timeout",
            expected: "a non-negative number of milliseconds",
        })?),
    };
    let queries = queries.iter().map(query).collect::<Result<Vec<_>>>()?;
    Ok(MultiQuery { queries, timeout })
}

fn query(value: &Value) -> Result<Query> {
    let object = value
        .as_object()
        .ok_or(RequestError::Type { field: "queries[]", expected: "an object" })?;
    let id = object
        .get("streamId")
        .ok_or(RequestError::Missing("queries[].streamId"))?
        .as_str()
        .ok_or(RequestError::Type { field: "queries[].streamId", expected: "a string" })?
        .parse::<StreamRef>()
        .map_err(|source| RequestError::Id { field: "queries[].streamId", source })?;
    let mut paths = PathTrie::default();
    if let Some(list) = object.get("paths").filter(|v| !v.is_null()) {
        let list = list
            .as_array()
            .ok_or(RequestError::Type { field: "queries[].paths", expected: "an array" })?;
        for path in list {
            let path = path
                .as_str()
                .ok_or(RequestError::Type { field: "queries[].paths[]", expected: "a string" })?;
            let depth = path.strip_prefix('/').unwrap_or(path).split('/').count();
            if depth > MAX_PATH_DEPTH {
                return Err(RequestError::TooMany {
                    field: "queries[].paths[]",
                    count: depth,
                    max: MAX_PATH_DEPTH,
                });
            }
            paths.add(path);
        }
    }
    let genesis = object.get("genesis").filter(|v| !v.is_null()).map(from_json).transpose()?;
    let opts = LoadOpts::from_json(object.get("opts").unwrap_or(&Value::Null))?;
    Ok(Query { id, paths, genesis, opts })
}

fn object(body: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice(body).map_err(RequestError::Json)? {
        Value::Object(object) => Ok(object),
        _ => Err(RequestError::Type { field: "body", expected: "a JSON object" }),
    }
}

fn write_opts(value: Option<&Value>) -> Result<WriteOpts> {
    let mut opts = WriteOpts::default();
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(opts) };
    let object =
        value.as_object().ok_or(RequestError::Type { field: "opts", expected: "an object" })?;
    if let Some(anchor) = object.get("anchor").filter(|v| !v.is_null()) {
        opts.anchor = anchor
            .as_bool()
            .ok_or(RequestError::Type { field: "opts.anchor", expected: "a boolean" })?;
    }
    if let Some(pin) = object.get("pin").filter(|v| !v.is_null()) {
        opts.pin = Some(
            pin.as_bool().ok_or(RequestError::Type { field: "opts.pin", expected: "a boolean" })?,
        );
    }
    Ok(opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENESIS: &str = r#"{"header":{"controllers":["did:key:z6Mk"]}}"#;

    #[test]
    fn parses_a_create_request() {
        let body =
            format!(r#"{{"type":0,"genesis":{GENESIS},"opts":{{"anchor":false,"publish":true}}}}"#);
        let request = parse_create(body.as_bytes()).unwrap();
        assert_eq!(request.stream_type, StreamType::TILE);
        assert!(!request.opts.anchor);
        let body = format!(r#"{{"type":0,"genesis":{GENESIS}}}"#);
        assert!(parse_create(body.as_bytes()).unwrap().opts.anchor);
        assert_eq!(parse_create(body.as_bytes()).unwrap().opts.pin, None);
    }

    #[test]
    fn reads_opts_pin_true_false_absent_and_refuses_a_non_boolean() {
        for (pin, expected) in [("true", Some(true)), ("false", Some(false)), ("null", None)] {
            let body = format!(r#"{{"type":0,"genesis":{GENESIS},"opts":{{"pin":{pin}}}}}"#);
            assert_eq!(parse_create(body.as_bytes()).unwrap().opts.pin, expected, "{pin}");
        }
        let body = format!(r#"{{"type":0,"genesis":{GENESIS},"opts":{{"pin":"yes"}}}}"#);
        let err = parse_create(body.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("opts.pin"), "{err}");
    }

    #[test]
    fn refuses_malformed_bodies() {
        for body in [
            "",
            "{",
            "[]",
            r#"{"genesis":{}}"#,
            r#"{"type":-1,"genesis":{}}"#,
            r#"{"type":"tile","genesis":{}}"#,
            r#"{"type":0}"#,
            r#"{"type":0,"genesis":{"header":{}},"opts":[]}"#,
            r#"{"type":0,"genesis":{"header":{}},"opts":{"anchor":"yes"}}"#,
        ] {
            assert!(parse_create(body.as_bytes()).is_err(), "{body} was accepted");
        }
        for body in [r#"{"commit":{}}"#, r#"{"streamId":"nope","commit":{}}"#, r#"{"streamId":1}"#]
        {
            assert!(parse_apply(body.as_bytes()).is_err(), "{body} was accepted");
        }
        for body in [
            r#"{}"#,
            r#"{"queries":{}}"#,
            r#"{"queries":[{"streamId":"x"}]}"#,
            r#"{"queries":[],"timeout":-5}"#,
            r#"{"queries":[{"streamId":"kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s","paths":[1]}]}"#,
        ] {
            assert!(parse_multiquery(body.as_bytes()).is_err(), "{body} was accepted");
        }
    }

    #[test]
    fn builds_the_path_trie_like_js() {
        let body = r#"{"queries":[{"streamId":"kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s","paths":["/a/b","a/c","d"]}],"timeout":10}"#;
        let query = parse_multiquery(body.as_bytes()).unwrap();
        assert_eq!(query.timeout, Duration::from_millis(10));
        let trie = &query.queries[0].paths;
        assert_eq!(trie.children.keys().collect::<Vec<_>>(), ["a", "d"]);
        assert_eq!(trie.children["a"].children.keys().collect::<Vec<_>>(), ["b", "c"]);
    }
}
