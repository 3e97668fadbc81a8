//! The js-ceramic JSON form of a state, written straight from the typed state.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{LogEntry, Next, StreamState};

/// A state as js-ceramic's `StreamUtils.serializeState` writes it, serialized without building
/// a [`serde_json::Value`] first (CIDs are formatted straight into the output). Made by
/// [`StreamState::js`]; [`StreamState::to_js_json`] is this view as a `Value`.
#[derive(Debug, Clone, Copy)]
pub struct JsState<'a>(pub(super) &'a StreamState);

impl Serialize for JsState<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let state = self.0;
        let stream_type = state.stream_type();
        let name = stream_type.name();
        let fields = 6
            + usize::from(name.is_some())
            + usize::from(state.next.is_some())
            + usize::from(state.anchor_proof.is_some());
        let mut map = serializer.serialize_map(Some(fields))?;
        map.serialize_entry("type", &stream_type.code())?;
        // serializeState names the stream type; js throws for an unregistered one, we omit it.
        if let Some(name) = name {
            map.serialize_entry("doctype", name)?;
        }
        map.serialize_entry("content", &state.content)?;
        if let Some(next) = &state.next {
            map.serialize_entry("next", &JsNext(next))?;
        }
        map.serialize_entry("metadata", &state.metadata)?;
        map.serialize_entry("signature", &(state.signature as u8))?;
        map.serialize_entry("anchorStatus", state.anchor_status.name())?;
        if let Some(proof) = &state.anchor_proof {
            map.serialize_entry("anchorProof", &JsProof(proof))?;
        }
        map.serialize_entry("log", &JsLog(&state.log))?;
        map.end()
    }
}

/// `next`: only the parts a commit set.
struct JsNext<'a>(&'a Next);

impl Serialize for JsNext<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let next = self.0;
        let len = usize::from(next.content.is_some()) + usize::from(next.metadata.is_some());
        let mut map = serializer.serialize_map(Some(len))?;
        if let Some(content) = &next.content {
            map.serialize_entry("content", content)?;
        }
        if let Some(metadata) = &next.metadata {
            map.serialize_entry("metadata", metadata)?;
        }
        map.end()
    }
}

/// `anchorProof`, CIDs as strings.
struct JsProof<'a>(&'a ceramic_codecs::AnchorProof);

impl Serialize for JsProof<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let proof = self.0;
        let mut map = serializer.serialize_map(Some(3 + usize::from(proof.tx_type.is_some())))?;
        map.serialize_entry("chainId", &proof.chain_id)?;
        map.serialize_entry("root", &Display(&proof.root))?;
        map.serialize_entry("txHash", &Display(&proof.tx_hash))?;
        if let Some(tx_type) = &proof.tx_type {
            map.serialize_entry("txType", tx_type)?;
        }
        map.end()
    }
}

/// `log`: `{cid, type, timestamp?}` per entry.
struct JsLog<'a>(&'a [LogEntry]);

impl Serialize for JsLog<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(JsEntry))
    }
}

struct JsEntry<'a>(&'a LogEntry);

impl Serialize for JsEntry<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let entry = self.0;
        let mut map = serializer.serialize_map(Some(2 + usize::from(entry.timestamp.is_some())))?;
        map.serialize_entry("cid", &Display(&entry.cid))?;
        map.serialize_entry("type", &(entry.kind as u8))?;
        if let Some(timestamp) = entry.timestamp {
            map.serialize_entry("timestamp", &timestamp)?;
        }
        map.end()
    }
}

/// A value serialized as its `Display` text (a CID as its multibase string).
struct Display<'a, T>(&'a T);

impl<T: std::fmt::Display> Serialize for Display<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}
