//! Errors of event decoding, encoding and signing, and of EventIDs.

use cid::Cid;

/// Why an event (its CAR, one of its blocks, or its multibase text) was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The CAR is larger than [`crate::MAX_CAR_SIZE`]; refused before it is read.
    #[error("event CAR of {size} bytes is larger than the {max} allowed")]
    CarTooLarge {
        /// The CAR's size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not a valid CAR v1 (truncated, bad length prefix, a block over
    /// [`ceramic_codecs::MAX_BLOCK_SIZE`], a block that does not hash to its CID, ...).
    #[error("invalid event CAR: {0}")]
    Car(#[source] ceramic_codecs::Error),
    /// An event CAR has exactly one root, the event; this one has another number.
    #[error("an event CAR has exactly one root (the event), this one has {0}")]
    RootCount(usize),
    /// A block the event needs is not in the CAR.
    #[error("the CAR has no block for the {what} {cid}")]
    MissingBlock {
        /// Which block: "event", "signed payload", "CACAO", "anchor proof", "Merkle node".
        what: &'static str,
        /// Its CID (boxed: CIDs are large and errors stay small).
        cid: Box<Cid>,
    },
    /// The CAR root is the payload of a signed event, not the event: the event is the dag-jose
    /// envelope that links to it.
    #[error("the CAR root is not the event: it is the payload signed by the envelope {envelope}")]
    RootIsPayload {
        /// The envelope (the event) found in the CAR.
        envelope: Box<Cid>,
    },
    /// The CAR holds a block the event does not use.
    #[error("the CAR holds the block {0}, which the event does not use")]
    ExtraBlock(Box<Cid>),
    /// The CAR holds the same block twice.
    #[error("the CAR holds the block {0} twice")]
    DuplicateBlock(Box<Cid>),
    /// A block of the wrong IPLD codec.
    #[error("the {what} must be {expected}, its CID has codec {actual:#x}")]
    WrongCodec {
        /// Which block.
        what: &'static str,
        /// The codec(s) allowed.
        expected: &'static str,
        /// The codec of its CID.
        actual: u64,
    },
    /// A block does not decode as what it must be (not canonical dag-cbor, an unknown field, a
    /// field of the wrong type, bytes that do not re-encode to the same bytes).
    #[error("invalid {what}: {source}")]
    Block {
        /// Which block.
        what: &'static str,
        /// Why.
        #[source]
        source: ceramic_codecs::Error,
    },
    /// A field an event must not have (a Tile header field in a Ceramic event, `data` in a
    /// time event, ...).
    #[error("{kind} must not have the field `{field}`")]
    UnexpectedField {
        /// The kind of event.
        kind: &'static str,
        /// The field.
        field: &'static str,
    },
    /// A field an event must have.
    #[error("{kind} is missing the field `{field}`")]
    MissingField {
        /// The kind of event.
        kind: &'static str,
        /// The field.
        field: &'static str,
    },
    /// An init event's header must name exactly one controller.
    #[error("an init event names exactly one controller, this one names {0}")]
    ControllerCount(usize),
    /// A header field that must hold StreamID bytes does not.
    #[error("the header field `{field}` is not a StreamID: {source}")]
    InvalidStreamId {
        /// `model` or `context`.
        field: &'static str,
        /// Why.
        #[source]
        source: ceramic_streamid::Error,
    },
    /// The `unique` of a Ceramic event header is bytes; this one is text (the Tile form).
    #[error("the header field `unique` of a Ceramic event is bytes, not text")]
    UniqueNotBytes,
    /// An unsigned init event with content: content needs a signature.
    #[error("an unsigned init event must have null or no data (content needs a signature)")]
    UnsignedInitWithData,
    /// A data event that is not signed.
    #[error("a data event must be signed")]
    UnsignedData,
    /// A time event inside a signature: time events are plain dag-cbor.
    #[error("a time event is never signed")]
    SignedTime,
    /// A signed event carries exactly one signature.
    #[error("a signed event carries exactly one signature, this one has {0}")]
    SignatureCount(usize),
    /// The signature's protected header is missing or not JSON with `alg` and `kid`.
    #[error("invalid protected header: {0}")]
    ProtectedHeader(#[source] ceramic_did::Error),
    /// The CACAO the protected header's `cap` names is invalid.
    #[error("invalid CACAO: {0}")]
    Cacao(#[source] ceramic_did::CacaoError),
    /// A time event's Merkle path is not `0`/`1` steps joined by `/`, or longer than
    /// [`crate::MAX_PATH_DEPTH`].
    #[error("invalid time event path {0:?}")]
    InvalidPath(String),
    /// A Merkle node on a time event's path is not a list with a link at the step's index.
    #[error("the Merkle node {node} has no link at index {index}")]
    PathNode {
        /// The node.
        node: Box<Cid>,
        /// The index the path takes.
        index: usize,
    },
    /// A time event's path from the proof's root does not lead to its `prev`.
    #[error("the time event path leads to {found}, not to its prev {expected}")]
    PathMismatch {
        /// The event's `prev`.
        expected: Box<Cid>,
        /// Where the path leads.
        found: Box<Cid>,
    },
    /// Signing failed, or the signature does not verify ([`crate::Event::verify_signature`]).
    #[error("signature: {0}")]
    Signature(#[source] ceramic_did::Error),
    /// An event to build does not encode (too large, a non-finite float).
    #[error("cannot encode the event: {0}")]
    Encode(#[source] ceramic_codecs::Error),
    /// Multibase CAR text is not multibase, or is not base64 / base64url.
    #[error("invalid multibase CAR text: {0}")]
    Multibase(&'static str),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why bytes or text are not an EventID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventIdError {
    /// Longer than [`crate::EventId::MAX_LEN`] bytes (or twice that in text).
    #[error("an EventID has at most {max} bytes, this has {len}")]
    TooLong {
        /// The length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Does not start with `varint(0xce) varint(0x05)` (a CIP-124 EventID).
    #[error("not an EventID: it does not start with ce01 05")]
    Prefix,
    /// The network id is not a minimal varint.
    #[error("invalid network id varint")]
    Network,
    /// Fewer than the 8 + 8 + 4 bytes of separator, controller and stream hashes.
    #[error("EventID truncated in its {0}")]
    Truncated(&'static str),
    /// The event CID is not a canonical CIDv1, or bytes follow it.
    #[error("invalid event CID in the EventID")]
    Cid,
    /// The text is neither hex nor multibase.
    #[error("EventID text is neither hex nor multibase")]
    Text,
}
