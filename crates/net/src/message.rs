//! The Ceramic pubsub messages (js-ceramic `pubsub-message.ts`; `specs/network.md`): UTF-8 JSON
//! objects on the topic `/ceramic/<network>`, told apart by `typ`.
//!
//! | typ | message   | fields                                   | extra keys |
//! |-----|-----------|------------------------------------------|------------|
//! | 0   | UPDATE    | `stream`, `tip`, optional `model`        | tolerated  |
//! | 1   | QUERY     | `id`, `stream`                           | refused    |
//! | 2   | RESPONSE  | `id`, `tips` (`{StreamID: CID}`)         | refused    |
//! | 3   | KEEPALIVE | `ts` (ms), `ver`, `ipfsVer`              | refused    |

use std::collections::BTreeMap;

use base64::Engine as _;
use ceramic_codecs::{Cid, Ipld};
use ceramic_streamid::StreamId;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The largest pubsub message accepted or sent, in bytes; larger ones are dropped unparsed.
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// The most tips one RESPONSE may carry.
pub const MAX_RESPONSE_TIPS: usize = 256;

/// The longest string field accepted (`id`, `ver`, `ipfsVer`), in bytes.
const MAX_STRING: usize = 1024;

/// A pubsub message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// `typ: 0`: a stream has a new tip.
    Update(Update),
    /// `typ: 1`: who knows the tip of this stream?
    Query(Query),
    /// `typ: 2`: the tips a node has for a query.
    Response(Response),
    /// `typ: 3`: "I am alive" (receivers ignore it).
    Keepalive(Keepalive),
}

/// UPDATE: `stream`'s tip is `tip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The stream.
    pub stream: StreamId,
    /// Its new tip.
    pub tip: Cid,
    /// The stream's model (ComposeDB documents), when the sender gave one.
    pub model: Option<StreamId>,
}

/// QUERY: asks for the tip of `stream`; answers carry `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The query id (see [`query_id`]; receivers do not recompute it, as in js-ceramic).
    pub id: String,
    /// The stream asked about.
    pub stream: StreamId,
}

/// RESPONSE: the tips a node knows, for the query `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The id of the query answered.
    pub id: String,
    /// Tips by stream.
    pub tips: BTreeMap<StreamId, Cid>,
}

/// KEEPALIVE: sent when nothing else was published for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keepalive {
    /// Sender's clock, milliseconds since the epoch.
    pub ts: u64,
    /// The sender's Ceramic version.
    pub ver: String,
    /// The sender's IPFS version.
    pub ipfs_ver: String,
}

/// Why a pubsub message was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The message is larger than [`MAX_MESSAGE_SIZE`].
    #[error("message of {size} bytes is larger than {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Not JSON (or not UTF-8).
    #[error("not a JSON message: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not an object.
    #[error("the message is not a JSON object")]
    NotAnObject,
    /// A required field is missing.
    #[error("field {0:?} is missing")]
    MissingField(&'static str),
    /// A field has the wrong JSON type or is out of range.
    #[error("field {field:?} is not {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
    },
    /// `typ` is not 0..=3.
    #[error("unknown message type {0}")]
    UnknownType(u64),
    /// A strict message (QUERY, RESPONSE, KEEPALIVE) has a key it does not define.
    #[error("unexpected field {field:?} in a message of type {typ}")]
    UnexpectedField {
        /// The message type.
        typ: u64,
        /// The key.
        field: String,
    },
    /// A StreamID field does not parse.
    #[error("field {field:?} is not a StreamID: {source}")]
    StreamId {
        /// The field.
        field: &'static str,
        /// Why.
        #[source]
        source: ceramic_streamid::Error,
    },
    /// A CID field does not parse (or is longer than any CID, see
    /// [`ceramic_streamid::cid_from_str`]).
    #[error("field {field:?} is not a CID: {source}")]
    Cid {
        /// The field.
        field: &'static str,
        /// Why.
        #[source]
        source: ceramic_streamid::Error,
    },
    /// A RESPONSE carries more than [`MAX_RESPONSE_TIPS`] tips.
    #[error("response with {0} tips (at most {MAX_RESPONSE_TIPS})")]
    TooManyTips(usize),
}

impl Message {
    /// Parses a message from the bytes of a pubsub message.
    ///
    /// # Errors
    /// A [`ParseError`] naming what is wrong.
    pub fn decode(bytes: &[u8]) -> Result<Message, ParseError> {
        if bytes.len() > MAX_MESSAGE_SIZE {
            return Err(ParseError::TooLarge { size: bytes.len(), max: MAX_MESSAGE_SIZE });
        }
        let Value::Object(map) = serde_json::from_slice::<Value>(bytes)? else {
            return Err(ParseError::NotAnObject);
        };
        let typ = map
            .get("typ")
            .ok_or(ParseError::MissingField("typ"))?
            .as_u64()
            .ok_or(ParseError::WrongType { field: "typ", expected: "an unsigned integer" })?;
        match typ {
            0 => Ok(Message::Update(Update {
                stream: stream_id(&map, "stream")?,
                tip: cid(&map, "tip")?,
                model: match map.get("model") {
                    None | Some(Value::Null) => None,
                    Some(_) => Some(stream_id(&map, "model")?),
                },
            })),
            1 => {
                strict(&map, 1, &["typ", "id", "stream"])?;
                Ok(Message::Query(Query {
                    id: string(&map, "id")?,
                    stream: stream_id(&map, "stream")?,
                }))
            }
            2 => {
                strict(&map, 2, &["typ", "id", "tips"])?;
                let id = string(&map, "id")?;
                let Value::Object(raw) = map.get("tips").ok_or(ParseError::MissingField("tips"))?
                else {
                    return Err(ParseError::WrongType { field: "tips", expected: "an object" });
                };
                if raw.len() > MAX_RESPONSE_TIPS {
                    return Err(ParseError::TooManyTips(raw.len()));
                }
                let mut tips = BTreeMap::new();
                for (stream, tip) in raw {
                    let stream = stream
                        .parse::<StreamId>()
                        .map_err(|source| ParseError::StreamId { field: "tips", source })?;
                    let tip = tip
                        .as_str()
                        .ok_or(ParseError::WrongType { field: "tips", expected: "CID strings" })?;
                    let tip = ceramic_streamid::cid_from_str(tip)
                        .map_err(|source| ParseError::Cid { field: "tips", source })?;
                    tips.insert(stream, tip);
                }
                Ok(Message::Response(Response { id, tips }))
            }
            3 => {
                strict(&map, 3, &["typ", "ts", "ver", "ipfsVer"])?;
                let ts = map.get("ts").ok_or(ParseError::MissingField("ts"))?.as_u64().ok_or(
                    ParseError::WrongType { field: "ts", expected: "an unsigned integer" },
                )?;
                Ok(Message::Keepalive(Keepalive {
                    ts,
                    ver: string(&map, "ver")?,
                    ipfs_ver: string(&map, "ipfsVer")?,
                }))
            }
            other => Err(ParseError::UnknownType(other)),
        }
    }

    /// The message as js-ceramic serializes it (keys in its order, no whitespace).
    pub fn encode(&self) -> Vec<u8> {
        let value = match self {
            Message::Update(u) => {
                let mut v =
                    json!({"typ": 0, "stream": u.stream.to_string(), "tip": u.tip.to_string()});
                if let Some(model) = &u.model {
                    v["model"] = json!(model.to_string());
                }
                v
            }
            Message::Query(q) => json!({"typ": 1, "id": q.id, "stream": q.stream.to_string()}),
            Message::Response(r) => {
                let tips: Map<String, Value> =
                    r.tips.iter().map(|(s, c)| (s.to_string(), json!(c.to_string()))).collect();
                json!({"typ": 2, "id": r.id, "tips": tips})
            }
            Message::Keepalive(k) => {
                json!({"typ": 3, "ts": k.ts, "ver": k.ver, "ipfsVer": k.ipfs_ver})
            }
        };
        serde_json::to_vec(&value).expect("a JSON value serializes")
    }

    /// The message's name (`UPDATE`, `QUERY`, `RESPONSE`, `KEEPALIVE`), for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Update(_) => "UPDATE",
            Message::Query(_) => "QUERY",
            Message::Response(_) => "RESPONSE",
            Message::Keepalive(_) => "KEEPALIVE",
        }
    }
}

fn strict(map: &Map<String, Value>, typ: u64, allowed: &[&str]) -> Result<(), ParseError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(field) => Err(ParseError::UnexpectedField { typ, field: field.clone() }),
        None => Ok(()),
    }
}

fn string(map: &Map<String, Value>, field: &'static str) -> Result<String, ParseError> {
    match map.get(field).ok_or(ParseError::MissingField(field))? {
        Value::String(s) if s.len() <= MAX_STRING => Ok(s.clone()),
        Value::String(_) => Err(ParseError::WrongType { field, expected: "a short string" }),
        _ => Err(ParseError::WrongType { field, expected: "a string" }),
    }
}

fn stream_id(map: &Map<String, Value>, field: &'static str) -> Result<StreamId, ParseError> {
    let text = map
        .get(field)
        .ok_or(ParseError::MissingField(field))?
        .as_str()
        .ok_or(ParseError::WrongType { field, expected: "a StreamID string" })?;
    text.parse().map_err(|source| ParseError::StreamId { field, source })
}

fn cid(map: &Map<String, Value>, field: &'static str) -> Result<Cid, ParseError> {
    let text = map
        .get(field)
        .ok_or(ParseError::MissingField(field))?
        .as_str()
        .ok_or(ParseError::WrongType { field, expected: "a CID string" })?;
    ceramic_streamid::cid_from_str(text).map_err(|source| ParseError::Cid { field, source })
}

/// The id of a QUERY for `stream`, as js-ceramic makes it:
/// `base64url_nopad(0x12 0x20 || sha256(dagcbor({typ: 1, stream: "<StreamID>"})))`.
pub fn query_id(stream: &StreamId) -> String {
    let body = Ipld::Map(
        [
            ("typ".to_string(), Ipld::Integer(1)),
            ("stream".to_string(), Ipld::String(stream.to_string())),
        ]
        .into_iter()
        .collect(),
    );
    let bytes = ceramic_codecs::encode(&body).expect("a map of a string and an integer encodes");
    let mut multihash = vec![0x12, 0x20];
    multihash.extend_from_slice(&Sha256::digest(&bytes));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(multihash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::arb_message;
    use proptest::prelude::*;

    const STREAM: &str = "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s";
    const TIP: &str = "bagcqcerakszw2vsovxznyp5gfnpdj4cqm2xiv76yd24wkjewhhykovorwo6a";

    #[test]
    fn query_id_matches_the_computed_js_example() {
        let stream: StreamId = STREAM.parse().unwrap();
        assert_eq!(query_id(&stream), "EiDO7KTOiiWv1mPOp5vJVhkpIcaPVeSNFaO6vA5M6Um4Fw");
    }

    #[test]
    fn update_tolerates_extra_keys_and_reads_model() {
        let text = format!(
            r#"{{"typ":0,"stream":"{STREAM}","tip":"{TIP}","model":"{STREAM}","doc":"x"}}"#
        );
        let Message::Update(u) = Message::decode(text.as_bytes()).unwrap() else { panic!() };
        assert_eq!(u.stream.to_string(), STREAM);
        assert_eq!(u.tip.to_string(), TIP);
        assert_eq!(u.model, Some(u.stream));
    }

    #[test]
    fn encodes_keys_in_js_order() {
        let stream: StreamId = STREAM.parse().unwrap();
        let q = Message::Query(Query { id: query_id(&stream), stream });
        assert_eq!(
            String::from_utf8(q.encode()).unwrap(),
            format!(
                r#"{{"typ":1,"id":"EiDO7KTOiiWv1mPOp5vJVhkpIcaPVeSNFaO6vA5M6Um4Fw","stream":"{STREAM}"}}"#
            )
        );
        let u = Message::Update(Update { stream, tip: TIP.parse().unwrap(), model: None });
        assert_eq!(
            String::from_utf8(u.encode()).unwrap(),
            format!(r#"{{"typ":0,"stream":"{STREAM}","tip":"{TIP}"}}"#)
        );
    }

    #[test]
    fn strict_messages_refuse_extra_keys() {
        let text = format!(r#"{{"typ":1,"id":"x","stream":"{STREAM}","more":1}}"#);
        assert!(matches!(
            Message::decode(text.as_bytes()),
            Err(ParseError::UnexpectedField { typ: 1, .. })
        ));
        let text = r#"{"typ":3,"ts":1,"ver":"a","ipfsVer":"b","x":null}"#;
        assert!(matches!(
            Message::decode(text.as_bytes()),
            Err(ParseError::UnexpectedField { typ: 3, .. })
        ));
    }

    #[test]
    fn rejects_bad_messages_with_typed_errors() {
        type Check = fn(&ParseError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("[1]", |e| matches!(e, ParseError::NotAnObject)),
            ("{", |e| matches!(e, ParseError::Json(_))),
            (r#"{"typ":9}"#, |e| matches!(e, ParseError::UnknownType(9))),
            (r#"{"typ":-1}"#, |e| matches!(e, ParseError::WrongType { field: "typ", .. })),
            (r#"{"stream":"x"}"#, |e| matches!(e, ParseError::MissingField("typ"))),
            (r#"{"typ":0,"stream":"nope","tip":"x"}"#, |e| {
                matches!(e, ParseError::StreamId { field: "stream", .. })
            }),
            (r#"{"typ":2,"id":"q","tips":[]}"#, |e| {
                matches!(e, ParseError::WrongType { field: "tips", .. })
            }),
        ];
        for (text, check) in cases {
            let err = Message::decode(text.as_bytes()).unwrap_err();
            assert!(check(&err), "{text}: {err:?}");
        }
        let bad_tip = format!(r#"{{"typ":0,"stream":"{STREAM}","tip":"zzz"}}"#);
        assert!(matches!(
            Message::decode(bad_tip.as_bytes()),
            Err(ParseError::Cid { field: "tip", .. })
        ));
    }

    #[test]
    fn rejects_oversized_messages_before_parsing() {
        let big = vec![b' '; MAX_MESSAGE_SIZE + 1];
        assert!(matches!(Message::decode(&big), Err(ParseError::TooLarge { .. })));
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(message in arb_message()) {
            prop_assert_eq!(Message::decode(&message.encode()).unwrap(), message);
        }

        #[test]
        fn truncated_or_flipped_messages_never_panic(
            message in arb_message(), cut in any::<prop::sample::Index>(), flip in any::<u8>(),
        ) {
            let bytes = message.encode();
            let at = cut.index(bytes.len());
            let _ = Message::decode(&bytes[..at]);
            let mut flipped = bytes.clone();
            flipped[at] ^= flip;
            let _ = Message::decode(&flipped);
        }
    }
}
