//! Conversions between the protobuf messages and the typed values of the crates below: ids,
//! blocks, stream states and log entries. Parsing a request field is checked here, and a field
//! that does not parse is a [`FieldError`] naming it; nothing here knows the engine or storage.

use std::fmt::Display;

use ceramic_codecs::{Block, Cid, MAX_BLOCK_SIZE};
use ceramic_doctype::{CommitKind, LogEntry, StreamState};
use ceramic_streamid::{StreamId, StreamRef};

use crate::v1;

/// A request field that does not parse: the field's name and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field (e.g. `blocks[1].cid`).
    pub field: String,
    /// Why it does not parse.
    pub reason: String,
}

impl FieldError {
    /// Field `field` is wrong because of `reason`.
    pub fn new(field: impl Into<String>, reason: impl Display) -> Self {
        FieldError { field: field.into(), reason: reason.to_string() }
    }
}

/// A CID field; empty is missing. Text longer than any CID
/// ([`ceramic_streamid::MAX_CID_TEXT_LEN`]) is refused before it is decoded.
///
/// # Errors
/// [`FieldError`] when it is empty, too long or does not parse.
pub fn parse_cid(field: &str, text: &str) -> Result<Cid, FieldError> {
    if text.is_empty() {
        return Err(FieldError::new(field, "missing"));
    }
    ceramic_streamid::cid_from_str(text).map_err(|e| FieldError::new(field, e))
}

/// A StreamID or CommitID field (its length is checked before it is decoded, see
/// [`ceramic_streamid::MAX_REF_TEXT_LEN`]).
///
/// # Errors
/// [`FieldError`] when it is too long or does not parse.
pub fn parse_ref(field: &str, text: &str) -> Result<StreamRef, FieldError> {
    text.parse::<StreamRef>().map_err(|e| FieldError::new(field, e))
}

/// A page's `after`: empty for the first page, else a StreamID.
///
/// # Errors
/// [`FieldError`] when it is not empty and does not parse.
pub fn parse_after(text: &str) -> Result<Option<StreamId>, FieldError> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<StreamId>().map(Some).map_err(|e| FieldError::new("after", e))
}

/// The blocks of a write, each checked against its CID and the block size limit.
///
/// # Errors
/// [`FieldError`] naming the first block that is too large, whose CID does not parse, or whose
/// bytes do not hash to its CID.
pub fn parse_blocks(blocks: Vec<v1::Block>) -> Result<Vec<Block>, FieldError> {
    blocks
        .into_iter()
        .enumerate()
        .map(|(i, block)| {
            let field = format!("blocks[{i}]");
            if block.data.len() > MAX_BLOCK_SIZE {
                let reason = format!("{} bytes, at most {MAX_BLOCK_SIZE}", block.data.len());
                return Err(FieldError::new(field, reason));
            }
            let cid = parse_cid(&format!("{field}.cid"), &block.cid)?;
            Block::new(cid, block.data).map_err(|e| FieldError::new(field, e))
        })
        .collect()
}

impl From<&StreamState> for v1::StreamState {
    fn from(state: &StreamState) -> Self {
        let stream = state.stream_id();
        let tip = state.tip();
        v1::StreamState {
            stream_id: stream.to_string(),
            stream_type: stream.stream_type().code(),
            tip: tip.to_string(),
            tip_commit_id: stream.at_commit(tip).map(|c| c.to_string()).unwrap_or_default(),
            log_length: u64::try_from(state.log().len()).unwrap_or(u64::MAX),
            state_json: state.to_js_string(),
        }
    }
}

impl From<&StreamState> for v1::StreamResponse {
    fn from(state: &StreamState) -> Self {
        v1::StreamResponse { state: Some(state.into()) }
    }
}

impl From<CommitKind> for v1::CommitKind {
    fn from(kind: CommitKind) -> Self {
        match kind {
            CommitKind::Genesis => v1::CommitKind::Genesis,
            CommitKind::Data => v1::CommitKind::Data,
            CommitKind::Anchor => v1::CommitKind::Anchor,
        }
    }
}

impl v1::LogEntry {
    /// The entry of `stream`'s log.
    pub fn new(stream: &StreamId, entry: &LogEntry) -> Self {
        v1::LogEntry {
            cid: entry.cid.to_string(),
            commit_id: stream.at_commit(entry.cid).map(|c| c.to_string()).unwrap_or_default(),
            kind: v1::CommitKind::from(entry.kind).into(),
            timestamp: entry.timestamp,
        }
    }
}

impl v1::StreamPage {
    /// A page of `streams`, followed by the page after `next` if there is one.
    pub fn new(streams: &[StreamId], next: Option<&StreamId>) -> Self {
        v1::StreamPage {
            stream_ids: streams.iter().map(ToString::to_string).collect(),
            next: next.map(ToString::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_must_hash_to_their_cid() {
        let block = Block::from_data(ceramic_codecs::Codec::DagCbor, vec![0xa0]).unwrap();
        let good = v1::Block { cid: block.cid().to_string(), data: vec![0xa0] };
        assert_eq!(parse_blocks(vec![good.clone()]).unwrap(), vec![block]);
        let bad = v1::Block { data: vec![0xa1], ..good };
        assert_eq!(parse_blocks(vec![bad]).unwrap_err().field, "blocks[0]");
        let big = v1::Block { cid: String::new(), data: vec![0; MAX_BLOCK_SIZE + 1] };
        assert_eq!(parse_blocks(vec![big]).unwrap_err().field, "blocks[0]");
    }

    #[test]
    fn ids_that_do_not_parse_are_field_errors() {
        assert_eq!(parse_ref("id", "").unwrap_err().field, "id");
        assert_eq!(parse_ref("id", "kxyz").unwrap_err().field, "id");
        assert_eq!(parse_after("").unwrap(), None);
        assert_eq!(parse_cid("commit", "").unwrap_err().reason, "missing");
        assert_eq!(parse_cid("commit", "nope").unwrap_err().field, "commit");
    }

    #[test]
    fn states_convert_with_their_ids() {
        let genesis = ceramic_codecs::cid_of(0x71, b"g");
        let state = StreamState::genesis(
            ceramic_streamid::StreamType::TILE,
            genesis,
            serde_json::json!({"a": 1}),
            serde_json::Map::new(),
            ceramic_doctype::SignatureStatus::Genesis,
        )
        .unwrap();
        let message = v1::StreamState::from(&state);
        assert_eq!(message.stream_id, state.stream_id().to_string());
        assert_eq!(message.tip, genesis.to_string());
        assert_eq!(message.log_length, 1);
        let json: serde_json::Value = serde_json::from_str(&message.state_json).unwrap();
        assert_eq!(StreamState::from_js_json(&json).unwrap(), state);
    }
}
