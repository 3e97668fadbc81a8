//! Requests, parsed and bounded before anything reaches the service: query strings, the JSON
//! bodies, multibase, event CAR files ([`parse_event_body`], [`parse_event_car`]: decoded by
//! `ceramic_event::Event::decode_car`, the workspace's one event decoder) and ids. Each function
//! refuses bad input with a [`RequestError`] and never panics (the `event_api_request` fuzz
//! target drives them with arbitrary bytes).

use std::collections::HashSet;
use std::str::FromStr;

use ceramic_codecs::Cid;
use ceramic_event::Event;
use ceramic_streamid::StreamId;

/// The default page of `GET /feed/events` (ceramic.yaml).
pub const DEFAULT_LIMIT: usize = 100;
/// The largest page of `GET /feed/events` (ceramic.yaml: 10,000 with data).
pub const MAX_LIMIT: usize = 10_000;
/// The longest query string read.
pub const MAX_QUERY: usize = 8 * 1024;
/// The most streams one subscription may name.
pub const MAX_STREAMS: usize = 1_000;

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
    /// A stored event's CAR does not encode (the node's blocks, not the request's).
    #[error("Invalid event data: CAR error: {0}")]
    Car(#[source] ceramic_codecs::Error),
    /// The CAR is not a Ceramic event: every reason [`Event::decode_car`] refuses one (not a
    /// CAR, not one root, the root not the event, a block missing, extra or malformed, ...).
    #[error("Invalid event: {0}")]
    Event(#[source] ceramic_event::Error),
    /// An init event whose separator key is not `model` (the only one Models and MIDs have).
    #[error("Invalid event: an init event's separator must be 'model', got '{0}'")]
    EventSeparator(String),
    /// A data or time event whose init event this node does not store (ceramic-one: "data
    /// events need the init event stored locally first").
    #[error("Invalid event: the event's init event is not stored on this node: {0}")]
    InitNotStored(Box<Cid>),
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

/// `POST /events`: the body `{"data": "<multibase CAR>"}`, its event decoded
/// ([`parse_event_car`]).
///
/// # Errors
/// [`RequestError::Body`], [`RequestError::Multibase`], then those of [`parse_event_car`].
pub fn parse_event_body(body: &[u8]) -> Result<Event, RequestError> {
    let body: EventBody =
        serde_json::from_slice(body).map_err(|e| RequestError::Body(e.to_string()))?;
    parse_event_car(&decode_multibase(&body.data)?)
}

/// A Ceramic event from its CAR, strictly ([`Event::decode_car`]: one root, the event, every
/// block it needs and no other, each of the right codec and shape); an init event's separator
/// must be `model`. Which stream type an init event starts is its model's business
/// ([`ceramic_event::InitHeader::stream_type`]: the meta-model makes a Model, any other a MID).
///
/// # Errors
/// [`RequestError::Event`], [`RequestError::EventSeparator`].
pub fn parse_event_car(bytes: &[u8]) -> Result<Event, RequestError> {
    let event = Event::decode_car(bytes).map_err(RequestError::Event)?;
    if let Some(header) = event.init_header()
        && header.sep() != ceramic_event::DEFAULT_SEP
    {
        return Err(RequestError::EventSeparator(shorten(header.sep())));
    }
    Ok(event)
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
        use ceramic_codecs::{Block, Codec, write_car};
        let block = Block::encode(Codec::DagCbor, &serde_json::json!({"not": "an event"})).unwrap();
        let other = Block::encode(Codec::DagCbor, &1u8).unwrap();
        let car = |roots: Vec<Cid>, blocks: Vec<Block>| write_car(&roots, &blocks).unwrap();
        let cases = [
            car(vec![], vec![block.clone()]),
            car(vec![*block.cid(), *other.cid()], vec![block.clone(), other.clone()]),
            car(vec![*other.cid()], vec![block.clone()]),
            car(vec![*block.cid()], vec![block.clone()]),
            b"not a CAR".to_vec(),
        ];
        for case in cases {
            assert!(matches!(parse_event_car(&case), Err(RequestError::Event(_))));
        }
    }

    /// An init event of another separator than `model` is refused, the same event with
    /// `model` is read.
    #[test]
    fn refuses_init_events_of_other_separators() {
        use ceramic_did::{KeySigner, KeyType};
        use ceramic_event::{InitHeader, InitPayload};
        let signer = KeySigner::from_seed(KeyType::Ed25519, &[3; 32]).unwrap();
        let model: StreamId =
            "kjzl6hvfrbw6c5ajfmes842lu09vjxu5956e3xq0xk12gp2jcf9s90cagt2god9".parse().unwrap();
        let make = |sep: &str| {
            let mut header = InitHeader::new(ceramic_did::Signer::did(&signer), model);
            header.sep = Some(sep.to_string());
            let payload = InitPayload { header, data: Some(ceramic_codecs::Ipld::Null) };
            let event = Event::sign(&signer, payload.into()).unwrap();
            let car = event.encode_car().unwrap();
            format!(r#"{{"data":"{}"}}"#, encode_multibase(&car))
        };
        let read = parse_event_body(make("model").as_bytes()).unwrap();
        assert_eq!(read.kind(), ceramic_event::EventKind::Init);
        assert!(matches!(
            parse_event_body(make("account").as_bytes()),
            Err(RequestError::EventSeparator(sep)) if sep == "account"
        ));
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

        /// Any event the workspace can make, posted as the SDK posts it (base64 or base64url
        /// multibase of its CAR), is read back as the same event; an init event of another
        /// separator than `model` is refused.
        #[test]
        fn posted_events_read_back_as_themselves(
            event in ceramic_event::test_utils::arb_event(),
            url in proptest::prelude::any::<bool>(),
        ) {
            let base = if url { ceramic_event::CarBase::Base64Url } else { ceramic_event::CarBase::Base64 };
            let body = serde_json::json!({ "data": event.encode_multibase(base).unwrap() }).to_string();
            let read = parse_event_body(body.as_bytes());
            match event.init_header().map(ceramic_event::InitHeader::sep) {
                Some(sep) if sep != "model" => {
                    proptest::prop_assert!(matches!(read, Err(RequestError::EventSeparator(_))));
                }
                _ => proptest::prop_assert_eq!(read.unwrap(), event),
            }
        }

        #[test]
        fn resume_tokens_round_trip(n in proptest::prelude::any::<u64>()) {
            proptest::prop_assert_eq!(parse_resume_token(&n.to_string()).unwrap(), n);
        }
    }
}
