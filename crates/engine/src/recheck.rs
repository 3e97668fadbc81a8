//! Checking stored logs again when what their signatures depend on changes.
//!
//! A commit signed with a 3ID key is valid only while that key's version of the 3ID was not
//! replaced before the commit's anchor time (plus the phase-out; `specs/identity.md`, "Signatures
//! and key rotation"). A node that applied the commit before it learned of the rotation would
//! keep it, while a node that learned the rotation first refuses it. So when a 3ID stream's
//! state changes, the engine checks again, as a log arriving whole is checked, every stored
//! stream that 3ID controls: a stream keeps the longest start of its log that is still valid,
//! and a stream whose genesis is no longer valid is removed. Either order of arrival then gives
//! the same streams.
//!
//! Only a commit's refusal that the node's own data decides (a signature that no longer
//! verifies or whose key was revoked, a doctype rule) shortens a log; a 3ID, block or anchor
//! that cannot be read now, or a storage error, changes nothing.

use std::collections::HashMap;

use ceramic_codecs::Cid;
use ceramic_did::ThreeIdError;
use ceramic_doctype::StreamState;
use ceramic_streamid::StreamId;

use crate::engine::Blocks;
use crate::{ApplyError, Engine};

/// The family of 3ID streams (`@ceramicnetwork/3id-did-resolver`; CIP-79).
const THREE_ID_FAMILY: &str = "3id";

/// Streams re-checked per page of the controller index.
const PAGE: usize = 256;

/// What [`Engine::recheck`] did to a stored stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recheck {
    /// Every commit of its log is still valid.
    Valid,
    /// Its log is valid up to `tip`; the commits after it were dropped.
    Truncated {
        /// The new tip.
        tip: Cid,
    },
    /// Its genesis is no longer valid: its state was removed.
    Removed,
    /// The stream is not stored.
    NotStored,
}

/// The commit that `error` refuses for a reason the node's own data decides, if it is one.
fn refused_commit(error: &ApplyError) -> Option<Cid> {
    match error {
        ApplyError::Signature { cid, source } if !unavailable(source) => Some(**cid),
        ApplyError::Rejected { cid, .. } => Some(**cid),
        _ => None,
    }
}

/// Whether a signature could not be checked for want of data (a 3ID or its version not found,
/// its source failing), which says nothing about the commit.
fn unavailable(error: &ceramic_did::Error) -> bool {
    matches!(
        error,
        ceramic_did::Error::ThreeId(
            ThreeIdError::NotFound { .. }
                | ThreeIdError::CommitNotFound { .. }
                | ThreeIdError::LegacyNotFound(_)
                | ThreeIdError::Source(_)
        )
    )
}

impl Engine {
    /// Checks a stored stream's log again as a log arriving whole is checked, with what the
    /// node knows now (a 3ID rotation learned since its commits were applied): it keeps the
    /// longest valid start of its log (stored and announced), or is removed when its genesis is
    /// no longer valid.
    ///
    /// # Errors
    /// Errors that say nothing about the log (a block, a 3ID or an anchor's chain that cannot
    /// be read now; storage): nothing is changed then.
    pub fn recheck(&self, stream: &StreamId) -> Result<Recheck, ApplyError> {
        let _gate = self.hold_gc();
        let _guard = self.write_lock(stream);
        let Some(local) = self.store.state(stream)? else { return Ok(Recheck::NotStored) };
        let none = HashMap::new();
        let mut tip = local.tip();
        loop {
            let error = match self.state_at_depth(&Blocks(&none), stream, tip, 0) {
                Ok(_) if tip == local.tip() => return Ok(Recheck::Valid),
                Ok(state) => return self.keep(stream, &state),
                Err(error) => error,
            };
            let Some(refused) = refused_commit(&error) else { return Err(error) };
            let log = local.log();
            let Some(at) = log.iter().position(|entry| entry.cid == refused) else {
                return Err(error);
            };
            if at == 0 {
                self.store.remove_state(stream)?;
                return Ok(Recheck::Removed);
            }
            // Rebuild the log up to the commit before the refused one (which may refuse an
            // earlier commit in turn: one that was timed by an anchor now dropped).
            tip = log[at - 1].cid;
        }
    }

    /// Stores `state`, a valid start of the stream's log, and announces its tip.
    fn keep(&self, stream: &StreamId, state: &StreamState) -> Result<Recheck, ApplyError> {
        self.store.write_commit(&[], state)?;
        self.publisher.publish_update(stream, &state.tip());
        Ok(Recheck::Truncated { tip: state.tip() })
    }

    /// [`Engine::recheck`]s every stored stream `did` controls; the streams it changed.
    ///
    /// # Errors
    /// Storage errors of the controller index. A stream whose recheck fails is left as it is
    /// and the others are checked.
    pub fn recheck_controlled_by(&self, did: &str) -> Result<Vec<(StreamId, Recheck)>, ApplyError> {
        let mut changed = Vec::new();
        let mut after = None;
        loop {
            let page = self.store.list_by_controller(did, after.as_ref(), PAGE)?;
            for stream in &page.streams {
                match self.recheck(stream) {
                    Ok(Recheck::Valid | Recheck::NotStored) => {}
                    Ok(done) => changed.push((*stream, done)),
                    Err(error) => {
                        tracing::warn!(%stream, %error, "a stream could not be checked again");
                    }
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(changed),
            }
        }
    }

    /// After `state` was stored: when it is a 3ID's, the streams that 3ID controls are checked
    /// again (a rotation may have revoked the keys their commits were signed with). Called with
    /// no lock held.
    pub(crate) fn after_stored(&self, state: &StreamState) {
        if state.metadata().get("family").and_then(serde_json::Value::as_str)
            != Some(THREE_ID_FAMILY)
        {
            return;
        }
        let did = format!("did:3:{}", state.stream_id());
        match self.recheck_controlled_by(&did) {
            Ok(changed) => {
                for (stream, done) in changed {
                    tracing::info!(%stream, ?done, %did, "a stream's log was checked again after its 3ID changed");
                }
            }
            Err(error) => {
                tracing::warn!(%did, %error, "the streams of a 3ID could not be checked again")
            }
        }
    }
}
