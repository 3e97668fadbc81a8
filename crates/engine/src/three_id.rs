//! The engine as the [`ThreeIdSource`] of did:3 resolution: 3ID streams are read from the
//! engine's own store (latest state, the log up to a commit, or up to the last anchor before a
//! time), and legacy 3box documents from its blocks. Reads never wait on the network, so a 3ID
//! that is not stored resolves at once to [`ceramic_did::ThreeIdError::NotFound`].

use ceramic_codecs::{Cid, Ipld};
use ceramic_did::{At, SourceError, ThreeIdLogEntry, ThreeIdSource, ThreeIdState};
use ceramic_doctype::{CommitKind, StreamState};
use ceramic_storage::BlockSource as _;
use ceramic_streamid::StreamId;
use serde_json::Value;

use crate::{ApplyError, Engine};

/// The parts of a state the 3ID resolver reads.
pub(crate) fn three_id_state(state: &StreamState) -> ThreeIdState {
    ThreeIdState {
        content: state.content().clone(),
        log: state
            .log()
            .iter()
            .map(|e| ThreeIdLogEntry {
                cid: e.cid,
                anchor: e.kind == CommitKind::Anchor,
                timestamp: e.timestamp,
            })
            .collect(),
    }
}

impl ThreeIdSource for Engine {
    fn load(&self, stream: &StreamId, at: At) -> Result<Option<ThreeIdState>, SourceError> {
        let state = match at {
            At::Latest => Engine::load(self, stream),
            At::Commit(commit) => self.state_at(stream, commit),
            At::Time(t) => self.load_at_time(stream, t),
        };
        match state {
            Ok(state) => Ok(Some(three_id_state(&state))),
            Err(
                ApplyError::NotFound(_)
                | ApplyError::MissingBlock(_)
                | ApplyError::NotThisStream { .. },
            ) => Ok(None),
            Err(e) => Err(SourceError::Failed(Box::new(e))),
        }
    }

    fn legacy_document(&self, cid: &Cid) -> Result<Option<Value>, SourceError> {
        let Some(bytes) =
            self.store.get_block(cid).map_err(|e| SourceError::Failed(Box::new(e)))?
        else {
            return Ok(None);
        };
        let failed = |e: ceramic_codecs::Error| SourceError::Failed(Box::new(e));
        let ipld: Ipld = ceramic_codecs::decode(&bytes, "legacy 3ID document").map_err(failed)?;
        let json = ceramic_codecs::to_dag_json(&ipld).map_err(failed)?;
        serde_json::from_str(&json).map(Some).map_err(|e| SourceError::Failed(Box::new(e)))
    }
}
