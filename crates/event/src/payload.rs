//! Event payloads: init headers and payloads, data payloads, time events and anchor proofs, and
//! their mapping onto the commit shapes of `ceramic-codecs`.

use ceramic_codecs::{DataCommit, GenesisCommit, Header, Ipld, Payload as Commit, Unique};
use ceramic_streamid::{StreamId, StreamType};
use cid::Cid;
use serde_bytes::ByteBuf;

use crate::{Error, Result};

pub use ceramic_codecs::AnchorProof;

/// The separator key of every Model and ModelInstanceDocument event (CIP-124), and what a
/// header without `sep` means (rust-ceramic `init::Header::sep`).
pub const DEFAULT_SEP: &str = "model";

/// The bytes of the Model "meta-model" StreamID (`kh4q0ozorrgaq2mezktnrmdwleo1d`), the `model`
/// header value of every Model stream (js-ceramic `Model.MODEL`, rust-ceramic
/// `METAMODEL_STREAM_ID`). Its CID reproduces a js bug: multihash code 0x71 over the identity
/// bytes of dag-cbor `"model-v1"`.
pub const METAMODEL_STREAM_ID: [u8; 18] = [
    0xce, 0x01, 0x04, 0x01, 0x71, 0x71, 0x0b, 0x00, 0x09, 0x68, b'm', b'o', b'd', b'e', b'l', b'-',
    b'v', b'1',
];

/// The header of an init event (`InitEventHeader` of `@ceramic-sdk/events`, `init::Header` of
/// rust-ceramic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitHeader {
    /// The controller: the one DID that may write the stream.
    pub controller: String,
    /// The separator key; `None` when the header has no `sep` (read as [`DEFAULT_SEP`]).
    pub sep: Option<String>,
    /// The model StreamID (the meta-model for a Model stream).
    pub model: StreamId,
    /// The uniqueness value: absent for a Model and a `single` MID, the values of the `set`
    /// fields joined with `|` for a `set` MID ([`set_unique`]), random bytes for a `list` MID.
    pub unique: Option<Vec<u8>>,
    /// A context StreamID.
    pub context: Option<StreamId>,
    /// Whether indexers should index the stream.
    pub should_index: Option<bool>,
    /// The model version (rust-ceramic).
    pub model_version: Option<Cid>,
}

impl InitHeader {
    /// A header with only the controller, `sep: "model"` and the model.
    pub fn new(controller: impl Into<String>, model: StreamId) -> Self {
        InitHeader {
            controller: controller.into(),
            sep: Some(DEFAULT_SEP.to_owned()),
            model,
            unique: None,
            context: None,
            should_index: None,
            model_version: None,
        }
    }

    /// The same header with this `unique`.
    pub fn with_unique(mut self, unique: Vec<u8>) -> Self {
        self.unique = Some(unique);
        self
    }

    /// The separator key (`sep`, or [`DEFAULT_SEP`] when absent).
    pub fn sep(&self) -> &str {
        self.sep.as_deref().unwrap_or(DEFAULT_SEP)
    }

    /// The separator value the EventID hashes: the `model` bytes.
    pub fn sep_value(&self) -> Vec<u8> {
        self.model.to_bytes()
    }

    /// Whether the model is the meta-model, i.e. the stream is a Model.
    pub fn is_model_definition(&self) -> bool {
        self.model.to_bytes() == METAMODEL_STREAM_ID
    }

    /// The type of the stream this header starts: Model for the meta-model, otherwise MID.
    pub fn stream_type(&self) -> StreamType {
        if self.is_model_definition() { StreamType::MODEL } else { StreamType::MID }
    }

    fn to_header(&self) -> Header {
        Header {
            controllers: Some(vec![self.controller.clone()]),
            sep: self.sep.clone(),
            model: Some(ByteBuf::from(self.model.to_bytes())),
            unique: self.unique.clone().map(Unique::Bytes),
            context: self.context.map(|c| ByteBuf::from(c.to_bytes())),
            should_index: self.should_index,
            model_version: self.model_version,
            ..Header::default()
        }
    }

    fn from_header(header: Header) -> Result<Self> {
        const KIND: &str = "init event header";
        forbid(&header.family, KIND, "family")?;
        forbid(&header.schema, KIND, "schema")?;
        forbid(&header.tags, KIND, "tags")?;
        forbid(&header.forbid_controller_change, KIND, "forbidControllerChange")?;
        let controllers =
            header.controllers.ok_or(Error::MissingField { kind: KIND, field: "controllers" })?;
        let [controller] = <[String; 1]>::try_from(controllers)
            .map_err(|list: Vec<String>| Error::ControllerCount(list.len()))?;
        let model = header.model.ok_or(Error::MissingField { kind: KIND, field: "model" })?;
        let model = StreamId::from_bytes(&model)
            .map_err(|source| Error::InvalidStreamId { field: "model", source })?;
        let unique = match header.unique {
            None => None,
            Some(Unique::Bytes(bytes)) => Some(bytes),
            Some(Unique::Text(_)) => return Err(Error::UniqueNotBytes),
        };
        let context = header
            .context
            .map(|c| StreamId::from_bytes(&c))
            .transpose()
            .map_err(|source| Error::InvalidStreamId { field: "context", source })?;
        Ok(InitHeader {
            controller,
            sep: header.sep,
            model,
            unique,
            context,
            should_index: header.should_index,
            model_version: header.model_version,
        })
    }
}

/// The `unique` of a `set` relation MID: the UTF-8 of the set fields' values joined with `|`
/// (`@ceramic-sdk/model-instance-client` `createInitHeader`).
pub fn set_unique<S: AsRef<str>>(values: &[S]) -> Vec<u8> {
    values.iter().map(AsRef::as_ref).collect::<Vec<_>>().join("|").into_bytes()
}

/// An init event's payload: `{data, header}`.
#[derive(Debug, Clone, PartialEq)]
pub struct InitPayload {
    /// The header.
    pub header: InitHeader,
    /// The content: `None` when the field is absent, `Some(Ipld::Null)` when it is null.
    pub data: Option<Ipld>,
}

impl InitPayload {
    pub(crate) fn to_commit(&self) -> Commit {
        Commit::Genesis(GenesisCommit { header: self.header.to_header(), data: self.data.clone() })
    }

    /// Whether the content is absent or null (what an unsigned init event must have).
    pub fn has_no_content(&self) -> bool {
        matches!(self.data, None | Some(Ipld::Null))
    }
}

/// The header of a data event: only `shouldIndex` and `modelVersion` may change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataHeader {
    /// Whether indexers should index the stream.
    pub should_index: Option<bool>,
    /// The model version (rust-ceramic).
    pub model_version: Option<Cid>,
}

impl DataHeader {
    fn to_header(&self) -> Header {
        Header {
            should_index: self.should_index,
            model_version: self.model_version,
            ..Header::default()
        }
    }

    fn from_header(header: Header) -> Result<Self> {
        const KIND: &str = "data event header";
        forbid(&header.controllers, KIND, "controllers")?;
        forbid(&header.family, KIND, "family")?;
        forbid(&header.schema, KIND, "schema")?;
        forbid(&header.tags, KIND, "tags")?;
        forbid(&header.unique, KIND, "unique")?;
        forbid(&header.forbid_controller_change, KIND, "forbidControllerChange")?;
        forbid(&header.model, KIND, "model")?;
        forbid(&header.sep, KIND, "sep")?;
        forbid(&header.context, KIND, "context")?;
        Ok(DataHeader { should_index: header.should_index, model_version: header.model_version })
    }
}

/// A data event's payload: `{id, prev, header?, data}`; `data` is a JSON patch for Models and
/// MIDs.
#[derive(Debug, Clone, PartialEq)]
pub struct DataPayload {
    /// The stream's init event CID.
    pub id: Cid,
    /// The event this one follows.
    pub prev: Cid,
    /// Header changes, if any.
    pub header: Option<DataHeader>,
    /// The change: `None` when absent, `Some(Ipld::Null)` when null.
    pub data: Option<Ipld>,
}

impl DataPayload {
    pub(crate) fn to_commit(&self) -> Commit {
        Commit::Data(DataCommit {
            id: self.id,
            prev: self.prev,
            header: self.header.as_ref().map(DataHeader::to_header),
            data: self.data.clone(),
        })
    }
}

/// A time event's own block: `{id, prev, proof, path}` (`TimeEvent` of `@ceramic-sdk/events`,
/// all four fields required).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimePayload {
    /// The stream's init event CID.
    pub id: Cid,
    /// The anchored event.
    pub prev: Cid,
    /// The CID of the [`AnchorProof`] block.
    pub proof: Cid,
    /// The Merkle path from the proof's root to `prev`: `0`/`1` steps joined by `/`, `""` when
    /// the root is `prev`.
    pub path: String,
}

impl TimePayload {
    pub(crate) fn to_commit(&self) -> Commit {
        Commit::Anchor(ceramic_codecs::AnchorCommit {
            id: Some(self.id),
            prev: self.prev,
            proof: self.proof,
            path: self.path.clone(),
        })
    }
}

/// What an event says, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum EventPayload {
    /// An init event (signed, or unsigned for a deterministic stream).
    Init(InitPayload),
    /// A data event (always signed).
    Data(DataPayload),
    /// A time event.
    Time(TimePayload),
}

impl EventPayload {
    /// The commit of `ceramic-codecs` this payload is.
    pub fn to_commit(&self) -> Commit {
        match self {
            EventPayload::Init(p) => p.to_commit(),
            EventPayload::Data(p) => p.to_commit(),
            EventPayload::Time(p) => p.to_commit(),
        }
    }

    /// Maps a strictly decoded commit onto the event shapes, refusing what Ceramic events do
    /// not have (Tile header fields, text `unique`, a time event without `id`, ...).
    pub(crate) fn from_commit(commit: Commit) -> Result<Self> {
        Ok(match commit {
            Commit::Genesis(g) => EventPayload::Init(InitPayload {
                header: InitHeader::from_header(g.header)?,
                data: g.data,
            }),
            Commit::Data(d) => EventPayload::Data(DataPayload {
                id: d.id,
                prev: d.prev,
                header: d.header.map(DataHeader::from_header).transpose()?,
                data: d.data,
            }),
            Commit::Anchor(a) => EventPayload::Time(TimePayload {
                id: a.id.ok_or(Error::MissingField { kind: "time event", field: "id" })?,
                prev: a.prev,
                proof: a.proof,
                path: a.path,
            }),
        })
    }
}

fn forbid<T>(field: &Option<T>, kind: &'static str, name: &'static str) -> Result<()> {
    match field {
        Some(_) => Err(Error::UnexpectedField { kind, field: name }),
        None => Ok(()),
    }
}
