//! Requests, parsed and bounded before anything reaches the service: query strings, the JSON
//! bodies, multibase, event CAR files ([`parse_event`]) and ids. Each function refuses bad
//! input with a [`RequestError`] and never panics (the `event_api_request` fuzz target drives
//! them with arbitrary bytes).

use std::collections::HashSet;
use std::str::FromStr;

use ceramic_codecs::{Block, Car, Cid, Codec, Envelope, Payload};
use ceramic_streamid::{StreamId, StreamType};

/// The default page of `GET /feed/events` (ceramic.yaml).
pub const DEFAULT_LIMIT: usize = 100;
/// The largest page of `GET /feed/events` (ceramic.yaml: 10,000 with data).
pub const MAX_LIMIT: usize = 10_000;
/// The longest query string read.
pub const MAX_QUERY: usize = 8 * 1024;
/// The most streams one subscription may name.
pub const MAX_STREAMS: usize = 1_000;
/// The meta-model: a Model's `header.model` (StreamID `kh4q0ozorrgaq2mezktnrmdwleo1d`).
pub const META_MODEL: &str = "kh4q0ozorrgaq2mezktnrmdwleo1d";

/// Why a request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The query string is too long or not percent-encoded UTF-8.
    #[error("Invalid query string: {0}")]
    Query(&'static str),
    /// A query parameter has a value it cannot have.
    #[error("Invalid value for '{name}': {reason}")]
    Param {
        /// The parameter.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// `resumeAt` is not a token this node gave out.
    #[error("Invalid resume token '{0}'. It must be a decimal number this node returned")]
    ResumeToken(String),
    /// The body is not the JSON the route takes.
    #[error("Invalid body: {0}")]
    Body(String),
    /// Multibase text that does not decode.
    #[error("Invalid event data: multibase error: {0}")]
    Multibase(String),
    /// The CAR file does not decode.
    #[error("Invalid event data: CAR error: {0}")]
    Car(#[source] ceramic_codecs::Error),
    /// The CAR's root is not an event the CAR holds.
    #[error("Invalid event: {0}")]
    Event(&'static str),
    /// The event's payload does not decode.
    #[error("Invalid event: {0}")]
    Payload(#[source] ceramic_codecs::Error),
    /// A CID that does not parse.
    #[error("Invalid Cid: {0}")]
    Cid(String),
    /// A StreamID that does not parse.
    #[error("invalid stream id: {0}")]
    StreamId(String),
    /// An interest with a separator other than `model`.
    #[error("Invalid interest: only the 'model' separator is supported, got '{0}'")]
    Separator(String),
}

/// A query string's parameters, percent-decoded, in order.
///
/// # Errors
/// [`RequestError::Query`].
pub fn parse_query(raw: Option<&str>) -> Result<Vec<(String, String)>, RequestError> {
    let Some(raw) = raw else { return Ok(Vec::new()) };
    if raw.len() > MAX_QUERY {
        return Err(RequestError::Query("longer than 8 KiB"));
    }
    let decode = |s: &str| -> Result<String, RequestError> {
        let plus = s.replace('+', " ");
        percent_encoding::percent_decode_str(&plus)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| RequestError::Query("not UTF-8 once percent-decoded"))
    };
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

fn single<'a>(
    params: &'a [(String, String)],
    name: &'static str,
) -> Result<Option<&'a str>, RequestError> {
    let mut values = params.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(RequestError::Param { name, reason: "given more than once".into() });
    }
    Ok(first)
}

/// Whether a feed page carries each event's CAR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeData {
    /// Ids only (the default).
    #[default]
    None,
    /// Each event's CAR, as multibase.
    Full,
}

/// `GET /feed/events` and `GET /feed/sse`: where to resume and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedQuery {
    /// Resume after this token (0: from the start).
    pub resume_at: u64,
    /// The page size, 1..=[`MAX_LIMIT`].
    pub limit: usize,
    /// Whether events carry their CAR.
    pub include_data: IncludeData,
    /// Only the events of this model's instances (`model`, SSE only).
    pub model: Option<StreamId>,
    /// Only the events of these streams (`streamIds`, comma-separated, SSE only).
    pub streams: Option<HashSet<StreamId>>,
}

/// A resume token: a decimal feed position (ceramic-one's tokens are decimal too).
///
/// # Errors
/// [`RequestError::ResumeToken`].
pub fn parse_resume_token(text: &str) -> Result<u64, RequestError> {
    if text.is_empty() {
        return Ok(0);
    }
    if text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RequestError::ResumeToken(shorten(text)));
    }
    text.parse().map_err(|_| RequestError::ResumeToken(shorten(text)))
}

/// Parses the feed parameters of a query string.
///
/// # Errors
/// [`RequestError`] naming the parameter.
pub fn parse_feed_query(raw: Option<&str>) -> Result<FeedQuery, RequestError> {
    let params = parse_query(raw)?;
    let resume_at = single(&params, "resumeAt")?.map(parse_resume_token).transpose()?.unwrap_or(0);
    let limit = match single(&params, "limit")? {
        None => DEFAULT_LIMIT,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(RequestError::Param {
                    name: "limit",
                    reason: format!("'{}' is not a number from 1 to {MAX_LIMIT}", shorten(text)),
                });
            }
        },
    };
    let include_data = match single(&params, "includeData")? {
        None | Some("none") => IncludeData::None,
        Some("full") => IncludeData::Full,
        Some(other) => {
            return Err(RequestError::Param {
                name: "includeData",
                reason: format!("'{}' must be one of 'none' or 'full'", shorten(other)),
            });
        }
    };
    let model = single(&params, "model")?.map(parse_stream_id).transpose()?;
    let streams = match single(&params, "streamIds")? {
        None => None,
        Some(list) => {
            let ids = list
                .split(',')
                .filter(|s| !s.is_empty())
                .map(parse_stream_id)
                .collect::<Result<HashSet<_>, _>>()?;
            if ids.len() > MAX_STREAMS {
                return Err(RequestError::Param {
                    name: "streamIds",
                    reason: format!("more than {MAX_STREAMS} streams"),
                });
            }
            Some(ids)
        }
    };
    Ok(FeedQuery { resume_at, limit, include_data, model, streams })
}

/// A StreamID string.
///
/// # Errors
/// [`RequestError::StreamId`].
pub fn parse_stream_id(text: &str) -> Result<StreamId, RequestError> {
    StreamId::from_str(text).map_err(|e| RequestError::StreamId(format!("{}: {e}", shorten(text))))
}

/// A CID string (an event id).
///
/// # Errors
/// [`RequestError::Cid`].
pub fn parse_cid(text: &str) -> Result<Cid, RequestError> {
    Cid::from_str(text).map_err(|e| RequestError::Cid(format!("{}: {e}", shorten(text))))
}

/// Multibase text of any base the `multibase` crate knows (ceramic-one reads it with the same
/// crate).
///
/// # Errors
/// [`RequestError::Multibase`].
pub fn decode_multibase(text: &str) -> Result<Vec<u8>, RequestError> {
    multibase::decode(text)
        .map(|(_, bytes)| bytes)
        .map_err(|e| RequestError::Multibase(e.to_string()))
}

/// Bytes as multibase base64url (`u`), as ceramic-one writes them.
pub fn encode_multibase(bytes: &[u8]) -> String {
    multibase::encode(multibase::Base::Base64Url, bytes)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EventBody {
    data: String,
}

/// `POST /events`: the body `{"data": "<multibase CAR>"}`, its CAR decoded.
///
/// # Errors
/// [`RequestError::Body`], [`RequestError::Multibase`], [`RequestError::Car`].
pub fn parse_event_body(body: &[u8]) -> Result<Car, RequestError> {
    let body: EventBody =
        serde_json::from_slice(body).map_err(|e| RequestError::Body(e.to_string()))?;
    let bytes = decode_multibase(&body.data)?;
    ceramic_codecs::read_car(&bytes).map_err(RequestError::Car)
}

/// `POST /interests`: `{sep, sepValue, controller?, streamId?}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Interest {
    /// The separator key: only `model`.
    pub sep: String,
    /// The model's StreamID.
    pub sep_value: String,
    /// Only this controller's documents.
    #[serde(default)]
    pub controller: Option<String>,
    /// Only this stream.
    #[serde(default)]
    pub stream_id: Option<String>,
}

/// Parses and checks an interest body; returns it and its model.
///
/// # Errors
/// [`RequestError::Body`], [`RequestError::Separator`], [`RequestError::StreamId`].
pub fn parse_interest(body: &[u8]) -> Result<(Interest, StreamId), RequestError> {
    let interest: Interest =
        serde_json::from_slice(body).map_err(|e| RequestError::Body(e.to_string()))?;
    if interest.sep != "model" {
        return Err(RequestError::Separator(shorten(&interest.sep)));
    }
    let model = parse_stream_id(&interest.sep_value)?;
    if let Some(stream) = &interest.stream_id {
        parse_stream_id(stream)?;
    }
    Ok((interest, model))
}

/// What an event is, from its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An init event: a new stream of this type (Model or ModelInstanceDocument).
    Init(StreamType),
    /// A data event of the stream whose init event is this CID.
    Data(Cid),
    /// A time event of the stream whose init event is this CID.
    Time(Cid),
}

/// An event from a CAR: its CID (the CAR's root), what it is, and the CAR's blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event's CID.
    pub cid: Cid,
    /// What it is.
    pub kind: EventKind,
    /// The CAR's blocks (the event, its payload, capability, proof...).
    pub blocks: Vec<Block>,
}

/// Reads a Ceramic event from its CAR: one root, which the CAR holds, a dag-jose envelope
/// (whose payload the CAR holds) or a dag-cbor payload; an init event names its model.
///
/// # Errors
/// [`RequestError::Event`] and [`RequestError::Payload`].
pub fn parse_event(car: Car) -> Result<Event, RequestError> {
    let [root] = car.roots.as_slice() else {
        return Err(RequestError::Event("the CAR must have exactly one root"));
    };
    let root = *root;
    let block = car.get(&root).ok_or(RequestError::Event("the CAR's root is not in the CAR"))?;
    let payload_bytes = match root.codec() {
        c if c == Codec::DagJose.code() => {
            let envelope = Envelope::decode(block.data()).map_err(RequestError::Payload)?;
            car.get(envelope.link())
                .ok_or(RequestError::Event("the signed event's payload is not in the CAR"))?
                .data()
        }
        c if c == Codec::DagCbor.code() => block.data(),
        _ => return Err(RequestError::Event("the CAR's root is neither dag-jose nor dag-cbor")),
    };
    let kind = match Payload::decode(payload_bytes).map_err(RequestError::Payload)? {
        Payload::Genesis(genesis) => {
            let model = genesis
                .header
                .model
                .ok_or(RequestError::Event("an init event must name its model"))?;
            if genesis.header.sep.as_deref().is_some_and(|sep| sep != "model") {
                return Err(RequestError::Event("an init event's separator must be 'model'"));
            }
            let model = StreamId::from_bytes(&model)
                .map_err(|_| RequestError::Event("an init event's model is not a StreamID"))?;
            if model.to_string() == META_MODEL {
                EventKind::Init(StreamType::MODEL)
            } else {
                EventKind::Init(StreamType::MID)
            }
        }
        Payload::Data(data) => EventKind::Data(data.id),
        Payload::Anchor(time) => {
            EventKind::Time(time.id.ok_or(RequestError::Event("a time event must have an id"))?)
        }
    };
    Ok(Event { cid: root, kind, blocks: car.blocks })
}

/// `text`, cut to 100 characters for error messages.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_feed_parameters_and_refuses_bad_ones() {
        let q = parse_feed_query(None).unwrap();
        assert_eq!((q.resume_at, q.limit, q.include_data), (0, DEFAULT_LIMIT, IncludeData::None));
        let q = parse_feed_query(Some("resumeAt=42&limit=7&includeData=full")).unwrap();
        assert_eq!((q.resume_at, q.limit, q.include_data), (42, 7, IncludeData::Full));
        for bad in [
            "resumeAt=abc",
            "resumeAt=-1",
            "resumeAt=99999999999999999999999",
            "limit=0",
            "limit=10001",
            "limit=x",
            "includeData=some",
            "limit=1&limit=2",
            "model=notastream",
            "resumeAt=%ff",
        ] {
            assert!(parse_feed_query(Some(bad)).is_err(), "{bad}");
        }
        assert!(parse_feed_query(Some(&"a".repeat(MAX_QUERY + 1))).is_err());
    }

    #[test]
    fn multibase_round_trips_and_refuses_unknown_bases() {
        let bytes = b"\x00\x01ceramic\xff".to_vec();
        assert_eq!(decode_multibase(&encode_multibase(&bytes)).unwrap(), bytes);
        assert_eq!(decode_multibase("f00ff").unwrap(), [0, 255]);
        assert_eq!(decode_multibase("mAAE").unwrap(), [0, 1]);
        for bad in ["", "u***", "f0", "fzz", "\u{1F600}abc"] {
            assert!(decode_multibase(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_interests_of_other_separators() {
        let model = "kjzl6hvfrbw6c5ajfmes842lu09vjxu5956e3xq0xk12gp2jcf9s90cagt2god9";
        let ok = format!(r#"{{"sep":"model","sepValue":"{model}"}}"#);
        assert_eq!(parse_interest(ok.as_bytes()).unwrap().1.to_string(), model);
        let other = format!(r#"{{"sep":"account","sepValue":"{model}"}}"#);
        assert!(matches!(parse_interest(other.as_bytes()), Err(RequestError::Separator(_))));
        assert!(parse_interest(br#"{"sep":"model","sepValue":"x"}"#).is_err());
        assert!(parse_interest(b"[]").is_err());
    }

    #[test]
    fn refuses_cars_whose_root_is_not_an_event() {
        let block = Block::encode(Codec::DagCbor, &serde_json::json!({"not": "an event"})).unwrap();
        let other = Block::encode(Codec::DagCbor, &1u8).unwrap();
        let car = |roots: Vec<Cid>, blocks: Vec<Block>| Car { roots, blocks };
        let cases = [
            car(vec![], vec![block.clone()]),
            car(vec![*block.cid(), *other.cid()], vec![block.clone(), other.clone()]),
            car(vec![*other.cid()], vec![block.clone()]),
            car(vec![*block.cid()], vec![block.clone()]),
        ];
        for case in cases {
            assert!(parse_event(case).is_err());
        }
    }

    proptest::proptest! {
        #[test]
        fn multibase_of_any_bytes_round_trips(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100)) {
            proptest::prop_assert_eq!(decode_multibase(&encode_multibase(&bytes)).unwrap(), bytes);
        }

        #[test]
        fn any_query_parses_or_is_refused(raw in ".{0,200}") {
            let _ = parse_feed_query(Some(&raw));
        }

        #[test]
        fn resume_tokens_round_trip(n in proptest::prelude::any::<u64>()) {
            proptest::prop_assert_eq!(parse_resume_token(&n.to_string()).unwrap(), n);
        }
    }
}
