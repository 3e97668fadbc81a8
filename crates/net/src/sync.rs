//! Syncing one tip: fetch the blocks the engine will need, then let the engine decide
//! ([`Engine::handle_tip`](ceramic_engine::Engine::handle_tip): unknown stream, extension, or a
//! fork resolved by js-ceramic's rule).
//!
//! The walk follows `prev` back from the tip (a signed commit's envelope to its payload, a data
//! commit to its `prev`, an anchor commit to its `prev` and proof) until a block the store has
//! or a genesis, in one round trip per commit. Blocks the walk does not foresee (Merkle path
//! nodes, streams a doctype loads) are fetched when the engine reports them missing. At most
//! [`crate::Config::max_fetch_blocks`] blocks are fetched for one tip.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ceramic_codecs::{Block, Cid, Envelope, Payload};
use ceramic_engine::{ApplyError, TipOutcome};
use ceramic_storage::{MapSource, Storage};
use ceramic_streamid::StreamId;
use libp2p::PeerId;

use crate::config::Follow;
use crate::error::Error;
use crate::network::Shared;
use crate::stats::Counters;

/// The dag-jose multicodec.
const DAG_JOSE: u64 = 0x85;
/// The dag-cbor multicodec.
const DAG_CBOR: u64 = 0x71;

/// The links of a commit block the engine will follow next.
fn links(block: &Block) -> Vec<Cid> {
    match block.cid().codec() {
        DAG_JOSE => Envelope::decode(block.data()).map(|e| vec![*e.link()]).unwrap_or_default(),
        DAG_CBOR => match Payload::decode(block.data()) {
            Ok(Payload::Data(d)) => vec![d.prev],
            Ok(Payload::Anchor(a)) => vec![a.prev, a.proof],
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// Fetches `start` and what it links to, back to blocks the store has.
async fn walk(
    shared: &Shared,
    hint: Option<PeerId>,
    start: Cid,
    fetched: &mut HashMap<Cid, Vec<u8>>,
    tried: &mut HashSet<Cid>,
) -> Result<(), Error> {
    let storage: &dyn Storage = shared.storage.as_ref();
    let mut frontier = vec![start];
    while !frontier.is_empty() {
        let mut wanted = Vec::new();
        for cid in frontier.drain(..) {
            if fetched.contains_key(&cid) || !tried.insert(cid) {
                continue;
            }
            let stored = storage.get_block(&cid).map_err(|e| Error::Apply(e.into()))?;
            if stored.is_none() {
                wanted.push(cid);
            }
        }
        if wanted.is_empty() {
            break;
        }
        if fetched.len() + wanted.len() > shared.config.max_fetch_blocks {
            return Err(Error::Apply(ApplyError::LogTooLong {
                max: shared.config.max_fetch_blocks,
            }));
        }
        let blocks = shared.fetcher.fetch(hint, wanted).await.map_err(|_| Error::Stopped)?;
        for block in blocks {
            frontier.extend(links(&block));
            let (cid, data) = block.into_parts();
            fetched.insert(cid, data);
        }
    }
    Ok(())
}

/// Fetches what `tip` needs and hands it to the engine; counts the outcome.
pub(crate) async fn sync_tip(
    shared: &Shared,
    stream: StreamId,
    tip: Cid,
    hint: Option<PeerId>,
) -> Result<TipOutcome, Error> {
    let lock = {
        let mut locks = shared.stream_locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.entry(stream).or_default().clone()
    };
    let guard = lock.lock().await;
    // The concurrency limit applies to running syncs, not to those queued behind their stream.
    let Ok(permit) = shared.syncs.acquire().await else { return Err(Error::Stopped) };
    let result = sync(shared, stream, tip, hint).await;
    drop(permit);
    drop(guard);
    {
        let mut locks = shared.stream_locks.lock().unwrap_or_else(|e| e.into_inner());
        // Ours and the map's: nobody else waits on it.
        if Arc::strong_count(&lock) == 2 {
            locks.remove(&stream);
        }
    }
    let counters = &shared.counters;
    match &result {
        Ok(TipOutcome::Unchanged) => Counters::inc(&counters.tips_unchanged),
        Ok(_) => Counters::inc(&counters.tips_applied),
        Err(Error::Stopped) => {}
        Err(_) => Counters::inc(&counters.tips_rejected),
    }
    result
}

async fn sync(
    shared: &Shared,
    stream: StreamId,
    tip: Cid,
    hint: Option<PeerId>,
) -> Result<TipOutcome, Error> {
    let mut fetched: HashMap<Cid, Vec<u8>> = HashMap::new();
    let mut tried: HashSet<Cid> = HashSet::new();
    walk(shared, hint, tip, &mut fetched, &mut tried).await?;
    loop {
        let engine = shared.engine.clone();
        let source = MapSource(std::mem::take(&mut fetched));
        let (result, source) = tokio::task::spawn_blocking(move || {
            let result = engine.handle_tip(&stream, tip, &source);
            (result, source)
        })
        .await
        .map_err(|_| Error::Stopped)?;
        fetched = source.0;
        match result {
            // A block the walk did not foresee: fetch it (once) and try again.
            Err(ApplyError::MissingBlock(cid)) if !tried.contains(&*cid) => {
                walk(shared, hint, *cid, &mut fetched, &mut tried).await?;
            }
            Ok(outcome) => return Ok(outcome),
            Err(e) => return Err(Error::Apply(e)),
        }
    }
}

/// An UPDATE's tip: synced in its own task if the stream is followed ([`crate::Follow`]; the
/// check reads the store off the caller's task), else counted as skipped.
pub(crate) fn spawn_update(shared: &Arc<Shared>, stream: StreamId, tip: Cid, from: PeerId) {
    let shared = shared.clone();
    tokio::spawn(async move {
        let storage = shared.storage.clone();
        let follow = shared.config.follow;
        let followed = tokio::task::spawn_blocking(move || match follow {
            Follow::Stored => {
                storage.state(&stream).map(|s| s.is_some()).map_err(|e| e.to_string())
            }
            Follow::Pinned => storage.is_pinned(&stream).map_err(|e| e.to_string()),
        })
        .await;
        match followed {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => {
                Counters::inc(&shared.counters.updates_skipped);
                return;
            }
            Ok(Err(e)) => {
                tracing::warn!(%stream, error = %e, "cannot tell whether the stream is followed");
                return;
            }
            Err(_) => return,
        }
        if let Err(e) = sync_tip(&shared, stream, tip, Some(from)).await {
            tracing::info!(%stream, %tip, error = %e, "UPDATE not applied");
        }
    });
}
