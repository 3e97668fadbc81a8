//! Serialized commits: the JSON form in which `@ceramicnetwork/http-client` sends commits and
//! js-ceramic's daemon returns them (js `StreamUtils.serializeCommit` / `deserializeCommit`,
//! `packages/common/src/utils/stream-utils.ts`), converted to and from the blocks we store.
//!
//! - A signed commit travels as its `DagJWSResult`:
//!   `{jws: {payload, signatures: [{protected, signature}], link}, linkedBlock, cacaoBlock?}`.
//!   `payload`, `protected` and `signature` are base64url (the JWS's own encoding), `link` is a
//!   CID string, `linkedBlock`/`cacaoBlock` are **standard base64 without padding** (uint8arrays'
//!   `base64`). The dag-jose envelope block is rebuilt from the JWS (as js's `dag-jose` codec
//!   does) and `linkedBlock` must hash to `link` (js does not check this: it would store the
//!   bytes under the genuine CID).
//! - A bare JWS (`{payload, signatures, link}`, no container) carries only the envelope: its
//!   payload block must already be stored.
//! - An unsigned commit is its payload with links as CID strings (`id`, `prev`, `proof`) and the
//!   header's `model`, `context` and `unique` as base64 (js `deserializeCommit` turns a
//!   non-empty base64 `unique` into bytes, so we do too). The result is encoded as dag-cbor and
//!   must decode strictly (`ceramic_codecs::Payload::decode`).
//!
//! Content is converted with JavaScript number semantics (`ceramic_doctype::json_to_ipld`), so
//! a commit built by a JS client hashes to the CID the client expects.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ceramic_codecs::{Block, Cid, Codec, Envelope, Ipld, Payload, Signature};
use ceramic_doctype::{JsonError, ipld_to_json, json_to_ipld};
use serde_json::{Map, Value};

/// Standard base64 as js `uint8arrays.fromString(s, 'base64')` reads it: padding optional,
/// trailing bits must be zero.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
/// base64url as js `dag-jose` reads JWS fields: padding optional.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
/// The most characters of a bad value an error message repeats.
const SHOWN: usize = 80;

/// Why a serialized commit could not be turned into blocks, or blocks into a serialized commit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommitJsonError {
    /// A field is absent.
    #[error("`{0}` is missing")]
    Missing(&'static str),
    /// A field has the wrong JSON type.
    #[error("`{field}` must be {expected}")]
    Type {
        /// The field.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
    /// A field that this form of commit does not have.
    #[error("unexpected field `{field}` in {what}")]
    Unknown {
        /// The field's name (shortened).
        field: String,
        /// Where it was.
        what: &'static str,
    },
    /// A base64 or base64url field does not decode.
    #[error("`{field}` is not valid {encoding}")]
    Encoding {
        /// The field.
        field: &'static str,
        /// `base64` or `base64url`.
        encoding: &'static str,
    },
    /// A CID field does not parse.
    #[error("`{field}` is not a CID: {value:?}")]
    Cid {
        /// The field.
        field: &'static str,
        /// The value (shortened).
        value: String,
    },
    /// `jws.link` names another CID than `jws.payload` holds.
    #[error("jws.link {link} is not the CID in jws.payload ({payload})")]
    LinkMismatch {
        /// `jws.link`.
        link: Box<Cid>,
        /// The CID in `jws.payload`.
        payload: Box<Cid>,
    },
    /// `linkedBlock` does not hash to the CID the JWS signs.
    #[error("linkedBlock does not hash to jws.link {link}: {source}")]
    LinkedBlock {
        /// The signed CID.
        link: Box<Cid>,
        /// The hash mismatch.
        #[source]
        source: Box<ceramic_codecs::Error>,
    },
    /// A block does not encode or decode as a commit.
    #[error("{what}: {source}")]
    Codec {
        /// Which block.
        what: &'static str,
        /// The codec's complaint.
        #[source]
        source: Box<ceramic_codecs::Error>,
    },
    /// A value cannot be converted between JSON and IPLD.
    #[error("{what}: {source}")]
    Json {
        /// Which value.
        what: &'static str,
        /// Why.
        #[source]
        source: JsonError,
    },
    /// A stored commit is neither dag-cbor nor dag-jose.
    #[error("commit {0} is neither dag-cbor nor dag-jose")]
    WrongCodec(Box<Cid>),
    /// A block needed to serialize a commit is not available.
    #[error("block {0} is not stored")]
    MissingBlock(Box<Cid>),
}

type Result<T, E = CommitJsonError> = std::result::Result<T, E>;

/// A commit as blocks: its CID (the envelope's for a signed commit) and the blocks that came
/// with it (envelope first, then the payload block and a CACAO block if they were sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitBlocks {
    cid: Cid,
    link: Option<Cid>,
    blocks: Vec<Block>,
}

impl CommitBlocks {
    /// The commit's CID.
    pub fn cid(&self) -> &Cid {
        &self.cid
    }

    /// The CID of the payload block: the JWS link of a signed commit, else the commit's CID.
    pub fn payload_cid(&self) -> &Cid {
        self.link.as_ref().unwrap_or(&self.cid)
    }

    /// Whether the commit is signed (a dag-jose envelope).
    pub fn is_signed(&self) -> bool {
        self.link.is_some()
    }

    /// The blocks that came with the commit.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    /// The block with CID `cid`, if it came with the commit.
    pub fn block(&self, cid: &Cid) -> Option<&Block> {
        self.blocks.iter().find(|b| b.cid() == cid)
    }

    /// The blocks, by value.
    pub fn into_blocks(self) -> Vec<Block> {
        self.blocks
    }
}

/// Reads a serialized commit (any of the forms in the module docs) into blocks.
///
/// # Errors
/// [`CommitJsonError`] naming the malformed field; a `linkedBlock` that does not hash to the
/// JWS link is [`CommitJsonError::LinkedBlock`].
pub fn from_json(value: &Value) -> Result<CommitBlocks> {
    let object = value.as_object().ok_or(CommitJsonError::Type {
        field: "commit",
        expected: "an object (a serialized commit)",
    })?;
    if let Some(jws) = object.get("jws") {
        return container_from_json(object, jws);
    }
    if object.contains_key("signatures") || object.contains_key("link") {
        let (envelope, link) = envelope_from_json(object)?;
        return Ok(CommitBlocks { cid: *envelope.cid(), link: Some(link), blocks: vec![envelope] });
    }
    let block = payload_from_json(object)?;
    Ok(CommitBlocks { cid: *block.cid(), link: None, blocks: vec![block] })
}

/// Serializes the stored commit `cid` as js-ceramic's daemon does for `GET /commits`: a signed
/// commit as its `DagJWSResult` container (envelope JWS plus `linkedBlock`), an unsigned one as
/// its payload with links as CID strings and header bytes as base64. `block` reads stored
/// blocks.
///
/// Two forms differ from js, which cannot produce them: bytes inside content become dag-json's
/// `{"/": {"bytes": …}}` (js would write `{"0": …}`), and a text `unique` stays text (js's
/// `serializeCommit` throws on it).
///
/// # Errors
/// [`CommitJsonError::MissingBlock`], [`CommitJsonError::WrongCodec`], and codec errors for
/// blocks that do not decode.
pub fn to_json(cid: &Cid, block: impl Fn(&Cid) -> Option<Vec<u8>>) -> Result<Value> {
    let bytes = block(cid).ok_or_else(|| CommitJsonError::MissingBlock(Box::new(*cid)))?;
    if cid.codec() == Codec::DagJose.code() {
        let envelope = Envelope::decode(&bytes).map_err(codec("dag-jose envelope"))?;
        let link = *envelope.link();
        let linked = block(&link).ok_or_else(|| CommitJsonError::MissingBlock(Box::new(link)))?;
        let mut container = Map::new();
        container.insert("jws".into(), envelope_to_json(&envelope)?);
        container.insert("linkedBlock".into(), Value::String(STANDARD_NO_PAD.encode(linked)));
        return Ok(Value::Object(container));
    }
    if cid.codec() != Codec::DagCbor.code() {
        return Err(CommitJsonError::WrongCodec(Box::new(*cid)));
    }
    payload_to_json(&bytes)
}

/// The payload block's JSON form (unsigned commits).
fn payload_to_json(bytes: &[u8]) -> Result<Value> {
    // Strict shape check first: only real commits are served.
    Payload::decode(bytes).map_err(codec("commit payload"))?;
    let ipld: Ipld =
        ceramic_codecs::decode(bytes, "commit payload").map_err(codec("commit payload"))?;
    let Ipld::Map(map) = ipld else {
        return Err(CommitJsonError::Type { field: "commit", expected: "a map" });
    };
    let mut out = Map::new();
    for (key, value) in map {
        let json = match (key.as_str(), value) {
            ("id" | "prev" | "proof", Ipld::Link(cid)) => Value::String(cid.to_string()),
            ("header", Ipld::Map(header)) => {
                let mut fields = Map::new();
                for (name, value) in header {
                    let json = match (name.as_str(), value) {
                        ("model" | "context" | "unique", Ipld::Bytes(bytes)) => {
                            Value::String(STANDARD_NO_PAD.encode(bytes))
                        }
                        (_, other) => ipld_to_json(&other).map_err(json("header"))?,
                    };
                    fields.insert(name, json);
                }
                Value::Object(fields)
            }
            (_, other) => ipld_to_json(&other).map_err(json("commit"))?,
        };
        out.insert(key, json);
    }
    Ok(Value::Object(out))
}

/// The JWS of an envelope in general JSON serialization, with `link`.
fn envelope_to_json(envelope: &Envelope) -> Result<Value> {
    let signatures = envelope
        .signatures()
        .iter()
        .map(|s| {
            let mut out = Map::new();
            if let Some(header) = &s.header {
                let header = Ipld::Map(header.clone());
                out.insert("header".into(), ipld_to_json(&header).map_err(json("header"))?);
            }
            if let Some(protected) = &s.protected {
                out.insert("protected".into(), Value::String(URL_SAFE_NO_PAD.encode(protected)));
            }
            out.insert("signature".into(), Value::String(URL_SAFE_NO_PAD.encode(&s.signature)));
            Ok(Value::Object(out))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut jws = Map::new();
    jws.insert("payload".into(), Value::String(URL_SAFE_NO_PAD.encode(envelope.payload())));
    jws.insert("signatures".into(), Value::Array(signatures));
    jws.insert("link".into(), Value::String(envelope.link().to_string()));
    Ok(Value::Object(jws))
}

fn container_from_json(object: &Map<String, Value>, jws: &Value) -> Result<CommitBlocks> {
    check_keys(object, &["jws", "linkedBlock", "cacaoBlock"], "a signed commit container")?;
    let jws = jws.as_object().ok_or(CommitJsonError::Type {
        field: "jws",
        expected: "an object (a JWS in general serialization)",
    })?;
    let (envelope, link) = envelope_from_json(jws)?;
    let mut blocks = vec![envelope];
    if let Some(linked) = optional(object, "linkedBlock") {
        let bytes = base64_field(linked, "linkedBlock", &BASE64, "base64")?;
        let block = Block::new(link, bytes).map_err(|e| match e {
            // Too large is said as such (with the size), not as a hash mismatch.
            e @ ceramic_codecs::Error::BlockTooLarge { .. } => codec("linkedBlock")(e),
            e => CommitJsonError::LinkedBlock { link: Box::new(link), source: Box::new(e) },
        })?;
        blocks.push(block);
    }
    if let Some(cacao) = optional(object, "cacaoBlock") {
        let bytes = base64_field(cacao, "cacaoBlock", &BASE64, "base64")?;
        blocks.push(Block::from_data(Codec::DagCbor, bytes).map_err(codec("cacaoBlock"))?);
    }
    Ok(CommitBlocks { cid: *blocks[0].cid(), link: Some(link), blocks })
}

/// The envelope block of a JWS (`{payload, signatures, link?}`) and the CID it signs.
fn envelope_from_json(jws: &Map<String, Value>) -> Result<(Block, Cid)> {
    check_keys(jws, &["payload", "signatures", "link"], "a JWS")?;
    let payload = jws.get("payload").ok_or(CommitJsonError::Missing("jws.payload"))?;
    let payload = base64_field(payload, "jws.payload", &BASE64URL, "base64url")?;
    let signed = Cid::try_from(payload.as_slice()).map_err(|_| CommitJsonError::Cid {
        field: "jws.payload",
        value: shorten(&URL_SAFE_NO_PAD.encode(&payload)),
    })?;
    if signed.to_bytes() != payload {
        return Err(CommitJsonError::Codec {
            what: "jws.payload",
            source: Box::new(ceramic_codecs::Error::NonCanonical { what: "JWS payload CID" }),
        });
    }
    if let Some(link) = optional(jws, "link") {
        let link = cid_field(link, "jws.link")?;
        if link != signed {
            return Err(CommitJsonError::LinkMismatch {
                link: Box::new(link),
                payload: Box::new(signed),
            });
        }
    }
    let signatures = jws
        .get("signatures")
        .ok_or(CommitJsonError::Missing("jws.signatures"))?
        .as_array()
        .ok_or(CommitJsonError::Type { field: "jws.signatures", expected: "an array" })?
        .iter()
        .map(signature_from_json)
        .collect::<Result<Vec<_>>>()?;
    let envelope = Envelope::new(signed, signatures).map_err(codec("jws"))?;
    let bytes = envelope.encode().map_err(codec("jws"))?;
    // The strict decoder is the one the engine uses: what it refuses, we refuse here.
    Envelope::decode(&bytes).map_err(codec("jws"))?;
    let block = Block::from_data(Codec::DagJose, bytes).map_err(codec("jws"))?;
    Ok((block, signed))
}

fn signature_from_json(value: &Value) -> Result<Signature> {
    let object = value
        .as_object()
        .ok_or(CommitJsonError::Type { field: "jws.signatures[]", expected: "an object" })?;
    check_keys(object, &["protected", "signature", "header"], "a JWS signature")?;
    let protected = optional(object, "protected")
        .map(|p| base64_field(p, "jws.signatures[].protected", &BASE64URL, "base64url"))
        .transpose()?;
    let signature =
        object.get("signature").ok_or(CommitJsonError::Missing("jws.signatures[].signature"))?;
    let signature = base64_field(signature, "jws.signatures[].signature", &BASE64URL, "base64url")?;
    let header = match optional(object, "header") {
        None => None,
        Some(Value::Object(header)) => Some(
            header
                .iter()
                .map(|(k, v)| Ok((k.clone(), json_to_ipld(v).map_err(json("header"))?)))
                .collect::<Result<BTreeMap<_, _>>>()?,
        ),
        Some(_) => {
            return Err(CommitJsonError::Type {
                field: "jws.signatures[].header",
                expected: "an object",
            });
        }
    };
    Ok(Signature { header, protected: protected.map(Into::into), signature: signature.into() })
}

/// An unsigned commit's payload block.
fn payload_from_json(object: &Map<String, Value>) -> Result<Block> {
    let mut map = BTreeMap::new();
    for (key, value) in object {
        let ipld = match key.as_str() {
            "id" => Ipld::Link(cid_field(value, "id")?),
            "prev" => Ipld::Link(cid_field(value, "prev")?),
            "proof" => Ipld::Link(cid_field(value, "proof")?),
            "header" => header_from_json(value)?,
            "data" => json_to_ipld(value).map_err(json("data"))?,
            "path" => json_to_ipld(value).map_err(json("path"))?,
            other => {
                return Err(CommitJsonError::Unknown {
                    field: shorten(other),
                    what: "an unsigned commit",
                });
            }
        };
        map.insert(key.clone(), ipld);
    }
    let bytes = ceramic_codecs::encode(&Ipld::Map(map)).map_err(codec("commit"))?;
    Payload::decode(&bytes).map_err(codec("commit"))?;
    Block::from_data(Codec::DagCbor, bytes).map_err(codec("commit"))
}

fn header_from_json(value: &Value) -> Result<Ipld> {
    let header = value
        .as_object()
        .ok_or(CommitJsonError::Type { field: "header", expected: "an object" })?;
    let mut map = BTreeMap::new();
    for (name, value) in header {
        let ipld = match (name.as_str(), value) {
            // js `deserializeCommit`: a truthy `model`/`context`/`unique` is base64 of bytes.
            ("model", Value::String(s)) if !s.is_empty() => {
                Ipld::Bytes(decode(s, "header.model", &BASE64, "base64")?)
            }
            ("context", Value::String(s)) if !s.is_empty() => {
                Ipld::Bytes(decode(s, "header.context", &BASE64, "base64")?)
            }
            ("unique", Value::String(s)) if !s.is_empty() => {
                Ipld::Bytes(decode(s, "header.unique", &BASE64, "base64")?)
            }
            (_, other) => json_to_ipld(other).map_err(json("header"))?,
        };
        map.insert(name.clone(), ipld);
    }
    Ok(Ipld::Map(map))
}

fn check_keys(object: &Map<String, Value>, allowed: &[&str], what: &'static str) -> Result<()> {
    match object.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(field) => Err(CommitJsonError::Unknown { field: shorten(field), what }),
        None => Ok(()),
    }
}

/// A field that is present and not null (js tests fields for truthiness).
fn optional<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

fn cid_field(value: &Value, field: &'static str) -> Result<Cid> {
    let text = value.as_str().ok_or(CommitJsonError::Type { field, expected: "a CID string" })?;
    // Length first: base58/base36 decoding is quadratic (specs/streamid.md § Limits).
    ceramic_streamid::cid_from_str(text)
        .map_err(|_| CommitJsonError::Cid { field, value: shorten(text) })
}

fn base64_field(
    value: &Value,
    field: &'static str,
    engine: &GeneralPurpose,
    encoding: &'static str,
) -> Result<Vec<u8>> {
    let text = value.as_str().ok_or(CommitJsonError::Type { field, expected: "a string" })?;
    decode(text, field, engine, encoding)
}

fn decode(
    text: &str,
    field: &'static str,
    engine: &GeneralPurpose,
    encoding: &'static str,
) -> Result<Vec<u8>> {
    engine.decode(text).map_err(|_| CommitJsonError::Encoding { field, encoding })
}

fn codec(what: &'static str) -> impl Fn(ceramic_codecs::Error) -> CommitJsonError {
    move |e| CommitJsonError::Codec { what, source: Box::new(e) }
}

fn json(what: &'static str) -> impl Fn(JsonError) -> CommitJsonError {
    move |source| CommitJsonError::Json { what, source }
}

/// At most [`SHOWN`] characters of `text`, for error messages.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lookup(blocks: &[Block]) -> impl Fn(&Cid) -> Option<Vec<u8>> + '_ {
        |cid| blocks.iter().find(|b| b.cid() == cid).map(|b| b.data().to_vec())
    }

    #[test]
    fn an_unsigned_genesis_round_trips() {
        let value = json!({"header": {"controllers": ["did:key:z6Mk"], "family": "f"}, "data": {"a": 1.5, "b": [1, 2]}});
        let commit = from_json(&value).unwrap();
        assert!(!commit.is_signed());
        assert_eq!(commit.blocks().len(), 1);
        let back = to_json(commit.cid(), lookup(commit.blocks())).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn unique_model_and_context_are_base64_bytes() {
        let value = json!({"header": {"controllers": ["did:key:z6Mk"], "unique": "AQID", "model": "zgEC", "context": "zgED"}});
        let commit = from_json(&value).unwrap();
        let Payload::Genesis(genesis) = Payload::decode(commit.blocks()[0].data()).unwrap() else {
            panic!("not a genesis")
        };
        assert_eq!(genesis.header.unique, Some(ceramic_codecs::Unique::Bytes(vec![1, 2, 3])));
        assert_eq!(
            genesis.header.model.as_deref().map(|m| m.as_slice()),
            Some(&[0xce, 0x01, 0x02][..])
        );
        assert_eq!(to_json(commit.cid(), lookup(commit.blocks())).unwrap(), value);
        // Padding is accepted on input, as uint8arrays accepts it.
        let padded = json!({"header": {"controllers": ["did:key:z6Mk"], "unique": "AQI="}});
        assert!(from_json(&padded).is_ok());
    }

    #[test]
    fn refuses_malformed_commits() {
        let cases = [
            json!([]),
            json!({"header": 1}),
            json!({"header": {}, "extra": 1}),
            json!({"header": {}, "id": "not a cid"}),
            json!({"header": {"unique": "!!"}}),
            json!({"jws": "x"}),
            json!({"jws": {"payload": "AXESIA", "signatures": []}}),
            json!({"jws": {"payload": "%%", "signatures": [{"signature": "AA"}]}}),
            json!({"jws": {"payload": "AXESIA", "signatures": [{"signature": "AA"}]}}),
            json!({"jws": {}, "more": 1}),
        ];
        for case in cases {
            assert!(from_json(&case).is_err(), "{case} was accepted");
        }
    }

    #[test]
    fn shortens_long_values() {
        assert_eq!(shorten("abc"), "abc");
        assert_eq!(shorten(&"x".repeat(200)).chars().count(), SHOWN + 1);
    }
}
