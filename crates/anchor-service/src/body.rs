//! Request bodies: the CAS v3 JSON body and the v2 CAR body (cas:src/controllers/request-controller.ts,
//! cas:src/ancillary/anchor-request-params-parser.ts), parsed into a [`NewRequest`].

use ceramic_codecs::{Cid, Ipld, read_car};
use ceramic_streamid::StreamId;
use serde::Deserialize;

use crate::BodyError;
use crate::time::parse_iso8601_ms;

/// The largest request body the HTTP API reads (1 MiB); a longer one is answered 413.
pub const MAX_BODY: usize = 1 << 20;

/// The content type of CAR bodies.
pub const CAR_CONTENT_TYPE: &str = "application/vnd.ipld.car";

/// A parsed anchor request: the stream, the commit to anchor and the client's timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    /// The stream.
    pub stream_id: StreamId,
    /// The commit to anchor.
    pub cid: Cid,
    /// The client's timestamp (unix ms); `None` uses the time the service stores it.
    pub timestamp: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonBody {
    stream_id: String,
    cid: String,
    #[serde(default)]
    timestamp: Option<String>,
}

/// Parses a StreamID from its text (`k…`).
///
/// # Errors
/// [`BodyError::StreamId`].
pub fn parse_stream_id(text: &str) -> Result<StreamId, BodyError> {
    text.parse().map_err(|source| BodyError::StreamId { value: shown(text), source })
}

/// Parses a CID from its multibase text (or a CIDv0 `Qm…`), refusing text longer than any CID
/// ([`ceramic_streamid::MAX_CID_TEXT_LEN`]) before decoding it.
///
/// # Errors
/// [`BodyError::Cid`].
pub fn parse_cid(text: &str) -> Result<Cid, BodyError> {
    ceramic_streamid::cid_from_str(text)
        .map_err(|source| BodyError::Cid { value: shown(text), source })
}

/// The first 200 characters of a refused value, for its error (the body may be 1 MiB).
fn shown(text: &str) -> String {
    text.chars().take(200).collect()
}

/// Parses an ISO-8601 timestamp into unix ms.
///
/// # Errors
/// [`BodyError::Timestamp`].
pub fn parse_timestamp(text: &str) -> Result<u64, BodyError> {
    parse_iso8601_ms(text).ok_or_else(|| BodyError::Timestamp(text.into()))
}

/// Parses the JSON body `{streamId, cid, timestamp?, ...}`; other fields (`jsCeramicVersion`,
/// `ceramicOneVersion`) are ignored.
///
/// # Errors
/// [`BodyError::Json`] for bad JSON or missing / mistyped fields, then the id and timestamp
/// errors.
pub fn parse_json(bytes: &[u8]) -> Result<NewRequest, BodyError> {
    let body: JsonBody = serde_json::from_slice(bytes)?;
    Ok(NewRequest {
        stream_id: parse_stream_id(&body.stream_id)?,
        cid: parse_cid(&body.cid)?,
        timestamp: body.timestamp.as_deref().map(parse_timestamp).transpose()?,
    })
}

/// Parses the CAR body: one root, a dag-cbor block `{streamId: bytes, tip: CID, timestamp?:
/// ISO string}` (the CAR may hold more blocks, such as the tip commit; they are not read).
///
/// # Errors
/// [`BodyError::Car`] when the CAR or the root block does not decode, [`BodyError::CarRoot`]
/// when the root is missing or not of that shape, then the id and timestamp errors.
pub fn parse_car(bytes: &[u8]) -> Result<NewRequest, BodyError> {
    let car = read_car(bytes)?;
    let [root] = car.roots.as_slice() else {
        return Err(BodyError::CarRoot("expected exactly one root"));
    };
    let block = car.get(root).ok_or(BodyError::CarRoot("the root block is not in the CAR"))?;
    let value: Ipld = ceramic_codecs::decode(block.data(), "anchor request")?;
    let Ipld::Map(map) = value else {
        return Err(BodyError::CarRoot("the root block is not a map"));
    };
    let stream_id = match map.get("streamId") {
        Some(Ipld::Bytes(bytes)) => StreamId::from_bytes(bytes).map_err(|source| {
            BodyError::StreamId { value: hex::encode(bytes.get(..100).unwrap_or(bytes)), source }
        })?,
        _ => return Err(BodyError::CarRoot("streamId must be bytes")),
    };
    let cid = match map.get("tip") {
        Some(Ipld::Link(cid)) => *cid,
        _ => return Err(BodyError::CarRoot("tip must be a CID link")),
    };
    let timestamp = match map.get("timestamp") {
        None | Some(Ipld::Null) => None,
        Some(Ipld::String(text)) => Some(parse_timestamp(text)?),
        Some(_) => return Err(BodyError::CarRoot("timestamp must be a string")),
    };
    Ok(NewRequest { stream_id, cid, timestamp })
}

/// Parses a body by its content type: CAR for `application/vnd.ipld.car`, JSON for
/// `application/json` or none (parameters such as `; charset=utf-8` are ignored).
///
/// # Errors
/// [`BodyError::ContentType`] for other types, then [`parse_json`]'s or [`parse_car`]'s.
pub fn parse_body(content_type: Option<&str>, bytes: &[u8]) -> Result<NewRequest, BodyError> {
    let essence =
        content_type.map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    match essence.as_deref() {
        None | Some("" | "application/json") => parse_json(bytes),
        Some(CAR_CONTENT_TYPE) => parse_car(bytes),
        Some(_) => Err(BodyError::ContentType(content_type.unwrap_or_default().into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_codecs::{Block, Codec, cid_of, write_car};
    use ceramic_streamid::StreamType;
    use std::collections::BTreeMap;

    fn stream() -> StreamId {
        StreamId::new(StreamType::TILE, cid_of(0x71, b"genesis")).unwrap()
    }

    #[test]
    fn parses_the_json_body_and_ignores_extra_fields() {
        let tip = cid_of(0x71, b"tip");
        let body = serde_json::json!({
            "streamId": stream().to_string(), "cid": tip.to_string(),
            "timestamp": "2024-01-02T03:04:05.678Z", "jsCeramicVersion": "5.0.0",
        });
        let parsed =
            parse_body(Some("application/json; charset=utf-8"), body.to_string().as_bytes())
                .unwrap();
        assert_eq!(
            parsed,
            NewRequest { stream_id: stream(), cid: tip, timestamp: Some(1_704_164_645_678) }
        );
        let no_time = serde_json::json!({"streamId": stream().to_string(), "cid": tip.to_string()});
        assert_eq!(parse_json(no_time.to_string().as_bytes()).unwrap().timestamp, None);
    }

    #[test]
    fn refuses_bad_json_bodies() {
        let tip = cid_of(0x71, b"tip").to_string();
        let sid = stream().to_string();
        let cases = [
            (serde_json::json!({"cid": tip}).to_string(), "missing streamId"),
            (serde_json::json!({"streamId": sid, "cid": 5}).to_string(), "wrong type"),
            (serde_json::json!({"streamId": "kxyz", "cid": tip}).to_string(), "bad stream id"),
            (serde_json::json!({"streamId": sid, "cid": "bafynope"}).to_string(), "bad cid"),
            (
                serde_json::json!({"streamId": sid, "cid": tip, "timestamp": "yesterday"})
                    .to_string(),
                "bad time",
            ),
            ("{".to_owned(), "truncated"),
            ("[]".to_owned(), "not an object"),
        ];
        for (body, what) in cases {
            assert!(parse_json(body.as_bytes()).is_err(), "{what}");
        }
        assert!(matches!(parse_body(Some("text/plain"), b"{}"), Err(BodyError::ContentType(_))));
    }

    #[test]
    fn parses_the_car_body() {
        let tip = cid_of(0x71, b"tip");
        let mut map = BTreeMap::new();
        map.insert("streamId".to_owned(), Ipld::Bytes(stream().to_bytes()));
        map.insert("tip".to_owned(), Ipld::Link(tip));
        map.insert("timestamp".to_owned(), Ipld::String("2024-01-02T03:04:05.678Z".into()));
        let block = Block::encode(Codec::DagCbor, &Ipld::Map(map.clone())).unwrap();
        let car = write_car(&[*block.cid()], [&block]).unwrap();
        let parsed = parse_body(Some(CAR_CONTENT_TYPE), &car).unwrap();
        assert_eq!(
            parsed,
            NewRequest { stream_id: stream(), cid: tip, timestamp: Some(1_704_164_645_678) }
        );

        map.insert("tip".to_owned(), Ipld::String(tip.to_string()));
        let bad = Block::encode(Codec::DagCbor, &Ipld::Map(map)).unwrap();
        let car = write_car(&[*bad.cid()], [&bad]).unwrap();
        assert!(matches!(parse_car(&car), Err(BodyError::CarRoot(_))));
        let rootless = write_car(&[], [&block]).unwrap();
        assert!(matches!(parse_car(&rootless), Err(BodyError::CarRoot(_))));
        assert!(matches!(parse_car(b"not a car"), Err(BodyError::Car(_))));
    }
}
