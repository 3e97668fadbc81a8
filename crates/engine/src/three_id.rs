//! The engine as the [`ThreeIdSource`] of did:3 resolution: 3ID streams are read from the
//! engine's own store (latest state, the log up to a commit, or up to the last anchor before a
//! time), and legacy 3box documents from its blocks. A 3ID stream (or the commit a `version-id`
//! names) that is not stored is asked of the engine's [`StreamFetcher`] (the node's network),
//! which stores what it finds through the engine within its own time bound; then the store is
//! read again. Without a fetcher, or when it finds nothing, the 3ID resolves to
//! [`ceramic_did::ThreeIdError::NotFound`] / `CommitNotFound`.

use std::fmt;

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

/// Finds streams this node does not store (the node's network, for the 3ID resolver) and
/// stores them through the engine.
///
/// Called from the engine's synchronous work (signature checks), so it blocks its thread: an
/// implementation must return within its own bound, and must not need the calling thread to
/// make progress (the node's answers it from another task and waits on a channel).
pub trait StreamFetcher: Send + Sync + fmt::Debug {
    /// Looks for `stream`'s log on the network and stores what it finds through the engine;
    /// whether the search finished with the stream found.
    fn fetch(&self, stream: &StreamId) -> bool;
}

impl Engine {
    /// The state of a 3ID stream at `at` from this engine's store; `Ok(None)` when the stream or
    /// the commit is not stored.
    fn local_three_id(
        &self,
        stream: &StreamId,
        at: At,
    ) -> Result<Option<ThreeIdState>, SourceError> {
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
}

impl ThreeIdSource for Engine {
    fn load(&self, stream: &StreamId, at: At) -> Result<Option<ThreeIdState>, SourceError> {
        if let Some(state) = self.local_three_id(stream, at)? {
            return Ok(Some(state));
        }
        match &self.three_id_fetcher {
            Some(fetcher) if fetcher.fetch(stream) => self.local_three_id(stream, at),
            _ => Ok(None),
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
