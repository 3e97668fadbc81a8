//! The compact binary form of a state, for stores: CIDs as bytes, no text encoding of the log.
//!
//! Layout (every integer an unsigned LEB128 varint, every byte string and JSON text prefixed by
//! its length as a varint):
//!
//! ```text
//! stream type code
//! flags: 1 next, 2 next.content, 4 next.metadata, 8 anchorProof, 16 anchorProof.txType
//! content (JSON text) · [next.content (JSON)] · [next.metadata (JSON object)] · metadata (JSON object)
//! signature (0..=2) · anchor status (0..=5)
//! [anchorProof: chainId (UTF-8) · root (CID bytes) · txHash (CID bytes) · [txType (UTF-8)]]
//! log length · per entry: kind (0..=2, +4 when a timestamp follows) · [timestamp] · CID bytes
//! ```
//!
//! Content and metadata stay JSON text, which keeps their key order (a CBOR encoder would sort
//! the keys). The log, whose length grows with the stream, is only bytes.
//!
//! A store may keep the log apart, one record per entry, so that a commit rewrites only what
//! changed: [`StreamState::head_to_bytes`] is everything up to and including the log's length,
//! [`LogEntry::to_bytes`] one entry as it follows there, and [`StreamState::from_head_and_log`]
//! puts them together again.

use ceramic_codecs::{AnchorProof, Cid};
use ceramic_streamid::{StreamId, StreamType};
use serde_json::Value;

use super::{AnchorStatus, CommitKind, LogEntry, Metadata, Next, SignatureStatus, StreamState};

/// Why bytes are not a state's binary form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateBytesError {
    /// The bytes end inside a field, or a length runs past the end.
    #[error("state bytes end inside `{0}`")]
    Truncated(&'static str),
    /// A varint is malformed or too large.
    #[error("state field `{0}` holds a malformed varint")]
    Varint(&'static str),
    /// A JSON field does not parse, or is not an object where one is needed.
    #[error("state field `{0}` holds malformed JSON")]
    Json(&'static str),
    /// A string field is not UTF-8.
    #[error("state field `{0}` is not UTF-8")]
    Utf8(&'static str),
    /// A CID field does not parse.
    #[error("state field `{0}` holds an invalid CID")]
    Cid(&'static str),
    /// An enum value or flag is out of range.
    #[error("state field `{0}` holds an unknown value")]
    Unknown(&'static str),
    /// The log is empty or does not start with a genesis entry of a CIDv1.
    #[error("the log must start with a genesis entry")]
    Log,
    /// Bytes follow the last field.
    #[error("{0} bytes follow the state")]
    Trailing(usize),
    /// A head names another number of log entries than were given with it.
    #[error("the state's head names {named} log entries, {given} were given")]
    LogCount {
        /// The length the head names.
        named: u64,
        /// The entries given.
        given: usize,
    },
}

const NEXT: u8 = 1;
const NEXT_CONTENT: u8 = 2;
const NEXT_METADATA: u8 = 4;
const PROOF: u8 = 8;
const PROOF_TX_TYPE: u8 = 16;
const HAS_TIMESTAMP: u8 = 4;

fn put_varint(out: &mut Vec<u8>, n: u64) {
    let mut buf = unsigned_varint::encode::u64_buffer();
    out.extend_from_slice(unsigned_varint::encode::u64(n, &mut buf));
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A JSON value or object, as length-prefixed text.
fn put_json<T: serde::Serialize>(out: &mut Vec<u8>, value: &T) {
    // serde_json fails only for a `Serialize` impl that fails or for maps with non-string
    // keys; `Value` and `Metadata` have neither.
    let text = serde_json::to_vec(value).expect("JSON values always serialize");
    put_bytes(out, &text);
}

impl StreamState {
    /// The state's compact binary form (see the module docs of `state::binary`), read back by
    /// [`StreamState::from_bytes`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.log.len() * 40);
        self.put_head(&mut out);
        for entry in &self.log {
            entry.put(&mut out);
        }
        out
    }

    /// The binary form without the log's entries: every field up to and including the log's
    /// length (see the module docs).
    pub fn head_to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.put_head(&mut out);
        out
    }

    fn put_head(&self, out: &mut Vec<u8>) {
        put_varint(out, self.stream_type().code());
        let mut flags = 0;
        if let Some(next) = &self.next {
            flags |= NEXT;
            if next.content.is_some() {
                flags |= NEXT_CONTENT;
            }
            if next.metadata.is_some() {
                flags |= NEXT_METADATA;
            }
        }
        if let Some(proof) = &self.anchor_proof {
            flags |= PROOF;
            if proof.tx_type.is_some() {
                flags |= PROOF_TX_TYPE;
            }
        }
        out.push(flags);
        put_json(out, &self.content);
        if let Some(next) = &self.next {
            if let Some(content) = &next.content {
                put_json(out, content);
            }
            if let Some(metadata) = &next.metadata {
                put_json(out, metadata);
            }
        }
        put_json(out, &self.metadata);
        out.push(self.signature as u8);
        out.push(self.anchor_status as u8);
        if let Some(proof) = &self.anchor_proof {
            put_bytes(out, proof.chain_id.as_bytes());
            put_bytes(out, &proof.root.to_bytes());
            put_bytes(out, &proof.tx_hash.to_bytes());
            if let Some(tx_type) = &proof.tx_type {
                put_bytes(out, tx_type.as_bytes());
            }
        }
        put_varint(out, self.log.len() as u64);
    }

    /// Reads back what [`StreamState::to_bytes`] wrote, checking the state's invariants.
    ///
    /// # Errors
    /// [`StateBytesError`] naming the malformed field.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StateBytesError> {
        let mut r = Reader(bytes);
        let (head, len) = Head::read(&mut r)?;
        // Every entry takes at least 3 bytes: no allocation beyond what the input can hold.
        let mut log = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(r.0.len() / 3));
        for _ in 0..len {
            log.push(LogEntry::read(&mut r)?);
        }
        if !r.0.is_empty() {
            return Err(StateBytesError::Trailing(r.0.len()));
        }
        head.with_log(log)
    }

    /// A state from what [`StreamState::head_to_bytes`] wrote and its log's entries, checking
    /// that the head names as many entries as are given, and the state's invariants.
    ///
    /// # Errors
    /// [`StateBytesError`] naming the malformed field, [`StateBytesError::LogCount`].
    pub fn from_head_and_log(head: &[u8], log: Vec<LogEntry>) -> Result<Self, StateBytesError> {
        let mut r = Reader(head);
        let (head, len) = Head::read(&mut r)?;
        if !r.0.is_empty() {
            return Err(StateBytesError::Trailing(r.0.len()));
        }
        if usize::try_from(len).ok() != Some(log.len()) {
            return Err(StateBytesError::LogCount { named: len, given: log.len() });
        }
        head.with_log(log)
    }
}

/// Every field of a state's binary form but its log.
struct Head {
    stream_type: StreamType,
    content: Value,
    next: Option<Next>,
    metadata: Metadata,
    signature: SignatureStatus,
    anchor_status: AnchorStatus,
    anchor_proof: Option<AnchorProof>,
}

impl Head {
    /// Reads the head and the log's length.
    fn read(r: &mut Reader<'_>) -> Result<(Head, u64), StateBytesError> {
        let stream_type = StreamType::new(r.varint("type")?);
        let flags = r.byte("flags")?;
        if flags & !(NEXT | NEXT_CONTENT | NEXT_METADATA | PROOF | PROOF_TX_TYPE) != 0
            || (flags & NEXT == 0 && flags & (NEXT_CONTENT | NEXT_METADATA) != 0)
            || (flags & PROOF == 0 && flags & PROOF_TX_TYPE != 0)
        {
            return Err(StateBytesError::Unknown("flags"));
        }
        let content = r.json("content")?;
        let next = if flags & NEXT != 0 {
            let content =
                if flags & NEXT_CONTENT != 0 { Some(r.json("next.content")?) } else { None };
            let metadata =
                if flags & NEXT_METADATA != 0 { Some(r.object("next.metadata")?) } else { None };
            Some(Next { content, metadata })
        } else {
            None
        };
        let metadata = r.object("metadata")?;
        let signature = match r.byte("signature")? {
            0 => SignatureStatus::Genesis,
            1 => SignatureStatus::Partial,
            2 => SignatureStatus::Signed,
            _ => return Err(StateBytesError::Unknown("signature")),
        };
        let anchor_status = match r.byte("anchorStatus")? {
            0 => AnchorStatus::NotRequested,
            1 => AnchorStatus::Pending,
            2 => AnchorStatus::Processing,
            3 => AnchorStatus::Anchored,
            4 => AnchorStatus::Failed,
            5 => AnchorStatus::Replaced,
            _ => return Err(StateBytesError::Unknown("anchorStatus")),
        };
        let anchor_proof = if flags & PROOF != 0 {
            Some(AnchorProof {
                chain_id: r.text("anchorProof.chainId")?,
                root: r.cid("anchorProof.root")?,
                tx_hash: r.cid("anchorProof.txHash")?,
                tx_type: if flags & PROOF_TX_TYPE != 0 {
                    Some(r.text("anchorProof.txType")?)
                } else {
                    None
                },
            })
        } else {
            None
        };
        let len = r.varint("log")?;
        let head =
            Head { stream_type, content, next, metadata, signature, anchor_status, anchor_proof };
        Ok((head, len))
    }

    /// The state of this head and `log`, checking that the log starts with a genesis entry.
    fn with_log(self, log: Vec<LogEntry>) -> Result<StreamState, StateBytesError> {
        let Head { stream_type, content, next, metadata, signature, anchor_status, anchor_proof } =
            self;
        let id = match log.first() {
            Some(LogEntry { cid, kind: CommitKind::Genesis, .. }) => {
                StreamId::new(stream_type, *cid).map_err(|_| StateBytesError::Log)?
            }
            _ => return Err(StateBytesError::Log),
        };
        Ok(StreamState { id, content, next, metadata, signature, anchor_status, anchor_proof, log })
    }
}

impl LogEntry {
    /// The entry as it follows the head in a state's binary form: kind (`+4` when a timestamp
    /// follows) · [timestamp] · CID bytes. Read back by [`LogEntry::from_bytes`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48);
        self.put(&mut out);
        out
    }

    /// Reads back what [`LogEntry::to_bytes`] wrote, and nothing more.
    ///
    /// # Errors
    /// [`StateBytesError`] naming the malformed field.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StateBytesError> {
        let mut r = Reader(bytes);
        let entry = LogEntry::read(&mut r)?;
        if !r.0.is_empty() {
            return Err(StateBytesError::Trailing(r.0.len()));
        }
        Ok(entry)
    }

    fn put(&self, out: &mut Vec<u8>) {
        let kind = self.kind as u8;
        match self.timestamp {
            Some(t) => {
                out.push(kind | HAS_TIMESTAMP);
                put_varint(out, t);
            }
            None => out.push(kind),
        }
        put_bytes(out, &self.cid.to_bytes());
    }

    fn read(r: &mut Reader<'_>) -> Result<Self, StateBytesError> {
        let tag = r.byte("log.type")?;
        let kind = match tag & !HAS_TIMESTAMP {
            0 => CommitKind::Genesis,
            1 => CommitKind::Data,
            2 => CommitKind::Anchor,
            _ => return Err(StateBytesError::Unknown("log.type")),
        };
        let timestamp =
            if tag & HAS_TIMESTAMP != 0 { Some(r.varint("log.timestamp")?) } else { None };
        Ok(LogEntry { cid: r.cid("log.cid")?, kind, timestamp })
    }
}

/// The unread rest of the input.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self, field: &'static str) -> Result<u8, StateBytesError> {
        let (&b, rest) = self.0.split_first().ok_or(StateBytesError::Truncated(field))?;
        self.0 = rest;
        Ok(b)
    }

    fn varint(&mut self, field: &'static str) -> Result<u64, StateBytesError> {
        let (n, rest) = unsigned_varint::decode::u64(self.0).map_err(|e| match e {
            unsigned_varint::decode::Error::Insufficient => StateBytesError::Truncated(field),
            _ => StateBytesError::Varint(field),
        })?;
        self.0 = rest;
        Ok(n)
    }

    fn bytes(&mut self, field: &'static str) -> Result<&'a [u8], StateBytesError> {
        let len = self.varint(field)?;
        let len = usize::try_from(len).map_err(|_| StateBytesError::Truncated(field))?;
        if len > self.0.len() {
            return Err(StateBytesError::Truncated(field));
        }
        let (bytes, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(bytes)
    }

    fn json(&mut self, field: &'static str) -> Result<Value, StateBytesError> {
        serde_json::from_slice(self.bytes(field)?).map_err(|_| StateBytesError::Json(field))
    }

    fn object(&mut self, field: &'static str) -> Result<Metadata, StateBytesError> {
        match self.json(field)? {
            Value::Object(map) => Ok(map),
            _ => Err(StateBytesError::Json(field)),
        }
    }

    fn text(&mut self, field: &'static str) -> Result<String, StateBytesError> {
        let bytes = self.bytes(field)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| StateBytesError::Utf8(field))
    }

    fn cid(&mut self, field: &'static str) -> Result<Cid, StateBytesError> {
        let bytes = self.bytes(field)?;
        Cid::try_from(bytes).map_err(|_| StateBytesError::Cid(field))
    }
}
