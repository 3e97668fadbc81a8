//! Commit payloads: genesis, data and anchor commits, and anchor proofs.
//!
//! Field names and shapes follow js-ceramic (`packages/common/src/stream.ts`); see
//! `specs/commits.md`. Every struct rejects fields it does not know, as rust-ceramic does: an
//! unknown field would otherwise be dropped on re-encoding and change the commit's CID.

use std::fmt;

use cid::Cid;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_bytes::ByteBuf;

use crate::dagcbor::{check_round_trip, present};
use crate::{Error, Ipld, Result, dagcbor};

/// The header of a genesis commit, or the header changes of a data commit.
///
/// Which fields a stream type requires or allows is the doctype's business; the codec only
/// fixes their names and types.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Header {
    /// The controller DIDs (exactly one for every built-in stream type).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub controllers: Option<Vec<String>>,
    /// Tile and CAIP-10 family (deprecated).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub family: Option<String>,
    /// Tile schema: the CommitID string of a schema tile (deprecated).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub schema: Option<String>,
    /// Tile tags (deprecated).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub tags: Option<Vec<String>>,
    /// Uniqueness salt: a base64 string for Tile, bytes for Model Instance Documents.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub unique: Option<Unique>,
    /// Tile: the controller may never change (genesis only).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub forbid_controller_change: Option<bool>,
    /// Model / MID: the StreamID bytes of the model.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub model: Option<ByteBuf>,
    /// Model / MID: the separator key, always `"model"`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub sep: Option<String>,
    /// MID: the StreamID bytes of a context.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub context: Option<ByteBuf>,
    /// MID: whether indexers should index the document.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub should_index: Option<bool>,
    /// MID: the model version (rust-ceramic).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub model_version: Option<Cid>,
}

/// A `unique` header value: text for Tile, bytes for Model Instance Documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unique {
    /// A string (Tile: base64 of 12 random bytes).
    Text(String),
    /// Bytes (MID).
    Bytes(Vec<u8>),
}

impl Serialize for Unique {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Unique::Text(text) => s.serialize_str(text),
            Unique::Bytes(bytes) => s.serialize_bytes(bytes),
        }
    }
}

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Unique;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or bytes")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Unique, E> {
                Ok(Unique::Text(v.to_owned()))
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> std::result::Result<Unique, E> {
                Ok(Unique::Bytes(v.to_vec()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A genesis commit (InitEvent): `{header, data?}`. Its CID (or its envelope's, if signed)
/// names the stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisCommit {
    /// The header.
    pub header: Header,
    /// The initial content; `None` when absent, `Some(Ipld::Null)` when written as null.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub data: Option<Ipld>,
}

/// A data commit (DataEvent): `{id, prev, header?, data}`, usually signed. For Tile, `data`
/// is an RFC 6902 JSON patch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataCommit {
    /// The CID of the stream's genesis commit.
    pub id: Cid,
    /// The CID of the commit this one follows.
    pub prev: Cid,
    /// Header changes (js-ceramic writes `{}` when there are none).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub header: Option<Header>,
    /// The change itself.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub data: Option<Ipld>,
}

/// An anchor commit (TimeEvent): `{id?, prev, proof, path}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorCommit {
    /// The CID of the stream's genesis commit (absent in some old anchor-service commits).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub id: Option<Cid>,
    /// The anchored commit.
    pub prev: Cid,
    /// The CID of the [`AnchorProof`] block.
    pub proof: Cid,
    /// The Merkle path from the proof's root to `prev`: `0`/`1` steps joined by `/`, `""` when
    /// the root is `prev`.
    pub path: String,
}

/// An anchor proof: `{chainId, root, txHash, txType?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnchorProof {
    /// CAIP-2 chain id, e.g. `eip155:1`.
    pub chain_id: String,
    /// The Merkle root (a dag-cbor CID).
    pub root: Cid,
    /// The transaction, as a CID (codec 0x93 eth-tx, keccak-256).
    pub tx_hash: Cid,
    /// `"f(bytes32)"` for contract anchors; absent or `"raw"` for legacy v0 anchors.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present::deserialize"
    )]
    pub tx_type: Option<String>,
}

/// Any commit payload, told apart by its fields: `proof` makes an anchor commit, `prev` a data
/// commit, and neither a genesis commit.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// A genesis commit.
    Genesis(GenesisCommit),
    /// A data commit.
    Data(DataCommit),
    /// An anchor commit.
    Anchor(AnchorCommit),
}

/// Every field any payload may have, for telling the kinds apart.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayload {
    #[serde(default, deserialize_with = "present::deserialize")]
    header: Option<Header>,
    #[serde(default, deserialize_with = "present::deserialize")]
    data: Option<Ipld>,
    #[serde(default, deserialize_with = "present::deserialize")]
    id: Option<Cid>,
    #[serde(default, deserialize_with = "present::deserialize")]
    prev: Option<Cid>,
    #[serde(default, deserialize_with = "present::deserialize")]
    proof: Option<Cid>,
    #[serde(default, deserialize_with = "present::deserialize")]
    path: Option<String>,
}

fn forbid<T>(field: &Option<T>, kind: &'static str, name: &'static str) -> Result<()> {
    match field {
        Some(_) => Err(Error::UnexpectedField { kind, field: name }),
        None => Ok(()),
    }
}

fn require<T>(field: Option<T>, kind: &'static str, name: &'static str) -> Result<T> {
    field.ok_or(Error::MissingField { kind, field: name })
}

impl Payload {
    /// Decodes a dag-cbor commit payload of any kind, strictly (see the crate docs).
    ///
    /// # Errors
    /// [`Error::Decode`], [`Error::MissingField`], [`Error::UnexpectedField`],
    /// [`Error::NonCanonical`], [`Error::BlockTooLarge`], [`Error::TooDeep`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        crate::dagcbor::check_untrusted(bytes)?;
        let raw: RawPayload = serde_ipld_dagcbor::from_slice(bytes)?;
        let payload = if raw.proof.is_some() {
            const KIND: &str = "anchor commit";
            forbid(&raw.header, KIND, "header")?;
            forbid(&raw.data, KIND, "data")?;
            Payload::Anchor(AnchorCommit {
                id: raw.id,
                prev: require(raw.prev, KIND, "prev")?,
                proof: require(raw.proof, KIND, "proof")?,
                path: require(raw.path, KIND, "path")?,
            })
        } else if raw.prev.is_some() {
            const KIND: &str = "data commit";
            forbid(&raw.path, KIND, "path")?;
            Payload::Data(DataCommit {
                id: require(raw.id, KIND, "id")?,
                prev: require(raw.prev, KIND, "prev")?,
                header: raw.header,
                data: raw.data,
            })
        } else {
            const KIND: &str = "genesis commit";
            forbid(&raw.id, KIND, "id")?;
            forbid(&raw.path, KIND, "path")?;
            Payload::Genesis(GenesisCommit {
                header: require(raw.header, KIND, "header")?,
                data: raw.data,
            })
        };
        check_round_trip(&payload, bytes, "commit payload")?;
        Ok(payload)
    }

    /// Encodes the payload as canonical dag-cbor.
    ///
    /// # Errors
    /// See [`crate::encode`].
    pub fn encode(&self) -> Result<Vec<u8>> {
        dagcbor::encode(self)
    }

    /// `"genesis"`, `"data"` or `"anchor"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Payload::Genesis(_) => "genesis",
            Payload::Data(_) => "data",
            Payload::Anchor(_) => "anchor",
        }
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Payload::Genesis(c) => c.serialize(s),
            Payload::Data(c) => c.serialize(s),
            Payload::Anchor(c) => c.serialize(s),
        }
    }
}

impl From<GenesisCommit> for Payload {
    fn from(c: GenesisCommit) -> Self {
        Payload::Genesis(c)
    }
}
impl From<DataCommit> for Payload {
    fn from(c: DataCommit) -> Self {
        Payload::Data(c)
    }
}
impl From<AnchorCommit> for Payload {
    fn from(c: AnchorCommit) -> Self {
        Payload::Anchor(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Block, Codec};

    fn cid(n: u8) -> Cid {
        *Block::from_data(Codec::DagCbor, vec![n]).unwrap().cid()
    }

    #[test]
    fn tells_the_kinds_apart() {
        let genesis = GenesisCommit { header: Header::default(), data: Some(Ipld::Null) };
        let data = DataCommit {
            id: cid(1),
            prev: cid(2),
            header: Some(Header::default()),
            data: Some(Ipld::List(vec![])),
        };
        let anchor = AnchorCommit { id: None, prev: cid(2), proof: cid(3), path: "0/1".into() };
        for payload in [Payload::from(genesis), data.into(), anchor.into()] {
            assert_eq!(Payload::decode(&payload.encode().unwrap()).unwrap(), payload);
        }
    }

    #[test]
    fn keeps_null_and_absent_apart() {
        let with_null = GenesisCommit { header: Header::default(), data: Some(Ipld::Null) };
        let without = GenesisCommit { header: Header::default(), data: None };
        let a = dagcbor::encode(&with_null).unwrap();
        let b = dagcbor::encode(&without).unwrap();
        assert_ne!(a, b);
        assert_eq!(Payload::decode(&a).unwrap(), Payload::Genesis(with_null));
        assert_eq!(Payload::decode(&b).unwrap(), Payload::Genesis(without));
    }

    #[test]
    fn rejects_fields_of_another_kind_and_unknown_fields() {
        let mut map = std::collections::BTreeMap::new();
        map.insert("prev".to_string(), Ipld::Link(cid(1)));
        map.insert("proof".to_string(), Ipld::Link(cid(2)));
        map.insert("path".to_string(), Ipld::String(String::new()));
        map.insert("data".to_string(), Ipld::Null);
        let bytes = dagcbor::encode(&Ipld::Map(map.clone())).unwrap();
        assert!(matches!(
            Payload::decode(&bytes),
            Err(Error::UnexpectedField { field: "data", .. })
        ));
        map.remove("data");
        map.insert("extra".to_string(), Ipld::Null);
        let bytes = dagcbor::encode(&Ipld::Map(map)).unwrap();
        assert!(matches!(Payload::decode(&bytes), Err(Error::Decode(_))));
    }

    #[test]
    fn rejects_a_data_commit_without_id() {
        let mut map = std::collections::BTreeMap::new();
        map.insert("prev".to_string(), Ipld::Link(cid(1)));
        map.insert("data".to_string(), Ipld::Null);
        let bytes = dagcbor::encode(&Ipld::Map(map)).unwrap();
        assert!(matches!(Payload::decode(&bytes), Err(Error::MissingField { field: "id", .. })));
    }

    #[test]
    fn unique_may_be_text_or_bytes() {
        for unique in [Unique::Text("abc".into()), Unique::Bytes(vec![1, 2, 3])] {
            let header = Header { unique: Some(unique.clone()), ..Header::default() };
            let bytes = dagcbor::encode(&header).unwrap();
            assert_eq!(dagcbor::decode::<Header>(&bytes, "header").unwrap().unique, Some(unique));
        }
    }
}
