//! Query strings, read as js-ceramic's daemon reads them (`parse-query-object.ts`): `true` and
//! `false` become booleans, integers become numbers, a value starting with `{` is parsed as
//! JSON, anything else stays a string. Then the load options are picked out and checked.
//!
//! Stricter than js where js would silently misread: `parseInt("12abc")` is 12 there and an
//! error here, a JSON value that does not parse is an error (js answers 500), and a key given
//! twice is an error (Express would make it an array).

use percent_encoding::percent_decode_str;
use serde_json::Value;

/// Why a query string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// A key or value is not valid percent-encoded UTF-8.
    #[error("the query string is not valid percent-encoded UTF-8")]
    Encoding,
    /// A key appears twice.
    #[error("query parameter `{0}` is given more than once")]
    Duplicate(String),
    /// A value starting with `{` is not JSON.
    #[error("query parameter `{0}` starts with `{{` but is not JSON")]
    Json(String),
    /// A known option has a value of the wrong kind or out of range.
    #[error("query parameter `{key}` must be {expected}")]
    Invalid {
        /// The option.
        key: &'static str,
        /// What it must be.
        expected: &'static str,
    },
}

/// A typed query value.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryValue {
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A JSON object.
    Json(Value),
    /// Anything else.
    Text(String),
}

/// Splits and decodes a query string into typed values, in order.
///
/// # Errors
/// [`QueryError::Encoding`], [`QueryError::Duplicate`], [`QueryError::Json`].
pub fn parse_query(query: &str) -> Result<Vec<(String, QueryValue)>, QueryError> {
    let mut out: Vec<(String, QueryValue)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (decode(key)?, decode(value)?);
        if out.iter().any(|(k, _)| *k == key) {
            return Err(QueryError::Duplicate(crate::commit::shorten(&key)));
        }
        let typed = if value.starts_with('{') {
            QueryValue::Json(
                serde_json::from_str(&value)
                    .map_err(|_| QueryError::Json(crate::commit::shorten(&key)))?,
            )
        } else if value == "true" {
            QueryValue::Bool(true)
        } else if value == "false" {
            QueryValue::Bool(false)
        } else if let Ok(n) = value.parse::<i64>() {
            QueryValue::Int(n)
        } else {
            QueryValue::Text(value)
        };
        out.push((key, typed));
    }
    Ok(out)
}

/// `+` is a space, then percent-decoding (`application/x-www-form-urlencoded`, as Express's
/// `qs` reads it).
fn decode(text: &str) -> Result<String, QueryError> {
    let spaced = text.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| QueryError::Encoding)
}

/// js `SyncOptions`: how a load syncs with the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sync {
    /// `0`: use the local state if there is one.
    #[default]
    PreferCache,
    /// `1`: always ask the network.
    SyncAlways,
    /// `2`: never ask the network.
    NeverSync,
    /// `3`: ask the network only if the local state fails to load.
    SyncOnError,
}

/// The options of a load (`GET /streams/:id`, `/content`, a multiquery's `opts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadOpts {
    /// How to sync (accepted and checked; this node has no network to sync with yet).
    pub sync: Sync,
    /// How long to wait for the network (accepted and checked, see `sync`).
    pub sync_timeout_seconds: Option<u64>,
    /// Load the state as of this unix time (seconds): the last anchor at or before it.
    pub at_time: Option<u64>,
}

impl LoadOpts {
    /// Picks the load options out of parsed query values; other keys are ignored, as js does.
    ///
    /// # Errors
    /// [`QueryError::Invalid`] for a known option of the wrong kind or out of range.
    pub fn from_query(values: &[(String, QueryValue)]) -> Result<Self, QueryError> {
        let mut opts = LoadOpts::default();
        for (key, value) in values {
            match key.as_str() {
                "sync" => opts.sync = sync(value_as_i64(value))?,
                "syncTimeoutSeconds" => {
                    opts.sync_timeout_seconds =
                        Some(non_negative(value_as_i64(value), "syncTimeoutSeconds")?)
                }
                "atTime" => opts.at_time = Some(non_negative(value_as_i64(value), "atTime")?),
                _ => {}
            }
        }
        Ok(opts)
    }

    /// The same options from a JSON object (a multiquery's `opts`); `null` means defaults.
    ///
    /// # Errors
    /// [`QueryError::Invalid`].
    pub fn from_json(value: &Value) -> Result<Self, QueryError> {
        let mut opts = LoadOpts::default();
        let object = match value {
            Value::Null => return Ok(opts),
            Value::Object(object) => object,
            _ => return Err(QueryError::Invalid { key: "opts", expected: "an object" }),
        };
        let int = |v: &Value| v.as_i64();
        if let Some(v) = object.get("sync").filter(|v| !v.is_null()) {
            opts.sync = sync(int(v))?;
        }
        if let Some(v) = object.get("syncTimeoutSeconds").filter(|v| !v.is_null()) {
            opts.sync_timeout_seconds = Some(non_negative(int(v), "syncTimeoutSeconds")?);
        }
        if let Some(v) = object.get("atTime").filter(|v| !v.is_null()) {
            opts.at_time = Some(non_negative(int(v), "atTime")?);
        }
        Ok(opts)
    }
}

fn value_as_i64(value: &QueryValue) -> Option<i64> {
    match value {
        QueryValue::Int(n) => Some(*n),
        _ => None,
    }
}

fn sync(value: Option<i64>) -> Result<Sync, QueryError> {
    match value {
        Some(0) => Ok(Sync::PreferCache),
        Some(1) => Ok(Sync::SyncAlways),
        Some(2) => Ok(Sync::NeverSync),
        Some(3) => Ok(Sync::SyncOnError),
        _ => Err(QueryError::Invalid { key: "sync", expected: "0, 1, 2 or 3 (SyncOptions)" }),
    }
}

fn non_negative(value: Option<i64>, key: &'static str) -> Result<u64, QueryError> {
    value
        .and_then(|n| u64::try_from(n).ok())
        .ok_or(QueryError::Invalid { key, expected: "a non-negative integer" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_values_like_parse_query_object() {
        let parsed =
            parse_query("sync=0&a=true&b=false&c=%7B%22x%22%3A1%7D&d=hello+world&e").unwrap();
        assert_eq!(
            parsed,
            [
                ("sync".to_string(), QueryValue::Int(0)),
                ("a".to_string(), QueryValue::Bool(true)),
                ("b".to_string(), QueryValue::Bool(false)),
                ("c".to_string(), QueryValue::Json(serde_json::json!({"x": 1}))),
                ("d".to_string(), QueryValue::Text("hello world".into())),
                ("e".to_string(), QueryValue::Text(String::new())),
            ]
        );
        assert_eq!(parse_query("").unwrap(), []);
    }

    #[test]
    fn refuses_what_js_would_misread() {
        assert_eq!(parse_query("a=1&a=2"), Err(QueryError::Duplicate("a".into())));
        assert_eq!(parse_query("a=%7Bnope"), Err(QueryError::Json("a".into())));
        assert_eq!(parse_query("a=%ff"), Err(QueryError::Encoding));
        let opts = |q: &str| LoadOpts::from_query(&parse_query(q).unwrap());
        assert!(opts("sync=4").is_err());
        assert!(opts("sync=true").is_err());
        assert!(opts("atTime=12abc").is_err());
        assert!(opts("atTime=-1").is_err());
        assert!(opts("syncTimeoutSeconds=x").is_err());
    }

    #[test]
    fn picks_out_load_options() {
        let opts = LoadOpts::from_query(
            &parse_query("sync=2&syncTimeoutSeconds=3&atTime=1700000000&pin=true").unwrap(),
        )
        .unwrap();
        assert_eq!(
            opts,
            LoadOpts {
                sync: Sync::NeverSync,
                sync_timeout_seconds: Some(3),
                at_time: Some(1_700_000_000)
            }
        );
        let json = serde_json::json!({"sync": 1, "atTime": 5});
        let opts = LoadOpts::from_json(&json).unwrap();
        assert_eq!((opts.sync, opts.at_time), (Sync::SyncAlways, Some(5)));
        assert!(LoadOpts::from_json(&serde_json::json!([])).is_err());
        assert_eq!(LoadOpts::from_json(&Value::Null).unwrap(), LoadOpts::default());
    }
}
