//! Verified restore: every commit of a backup re-validated by the engine before anything is
//! stored.

use ceramic_codecs::{Cid, read_car};
use ceramic_engine::Engine;
use ceramic_storage::{MapSource, Storage};
use ceramic_streamid::StreamId;

use crate::error::{Error, Result};
use crate::manifest::Manifest;
use crate::target::Target;

/// What a restore did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestoreReport {
    /// Streams restored (validated and stored).
    pub streams: usize,
    /// Commits in their logs.
    pub commits: usize,
    /// Bytes of objects read.
    pub bytes: usize,
}

/// One stream read back and validated.
struct Checked {
    stream: StreamId,
    tip: Cid,
    blocks: MapSource,
}

/// Reads one stream's objects: each a CAR whose blocks match their CIDs, with one root; the
/// last one's root is the manifest's tip.
fn read_stream(
    target: &dyn Target,
    stream: StreamId,
    tip: Cid,
    objects: &[String],
    bytes: &mut usize,
) -> Result<MapSource> {
    let inconsistent = |reason| Error::Inconsistent { stream, reason };
    let prefix = format!("streams/{stream}/");
    let mut blocks = MapSource::default();
    let mut last_root = None;
    for name in objects {
        if !name.starts_with(&prefix) {
            return Err(inconsistent("the manifest lists an object of another stream"));
        }
        let data =
            target.get(name)?.ok_or_else(|| Error::MissingObject { stream, name: name.clone() })?;
        *bytes += data.len();
        let car =
            read_car(&data).map_err(|source| Error::Tampered { name: name.clone(), source })?;
        let [root] = car.roots[..] else {
            return Err(inconsistent("an object does not have exactly one root"));
        };
        last_root = Some(root);
        blocks.extend(&car.blocks);
    }
    if last_root != Some(tip) {
        return Err(inconsistent("the manifest's tip is not the root of the last object"));
    }
    Ok(blocks)
}

/// Restores the backup in `target` into `engine`'s store: reads every object (a CAR block that
/// does not match its CID is [`Error::Tampered`]), rebuilds each stream's state from its
/// genesis through the engine — signatures, doctype rules and anchor proofs, strictly
/// ([`Engine::verify_from`]) — and only when every stream validates, stores them (as tips heard
/// from the network: a local branch that wins by the conflict rule is kept) and pins them.
///
/// # Errors
/// [`Error::Manifest`], [`Error::MissingObject`], [`Error::Tampered`], [`Error::Inconsistent`],
/// [`Error::Invalid`], target errors: nothing is stored then. [`Error::Apply`] and store errors
/// while storing (streams stored before stay, each whole).
pub fn restore(engine: &Engine, store: &dyn Storage, target: &dyn Target) -> Result<RestoreReport> {
    let manifest = Manifest::load(target)?;
    let mut report = RestoreReport::default();
    let mut checked = Vec::new();
    for (key, entry) in &manifest.streams {
        let bad = |what: &str| {
            Error::Manifest(serde::de::Error::custom(format!("{what} in the entry {key:?}")))
        };
        let stream: StreamId = key.parse().map_err(|_| bad("a key that is no StreamID"))?;
        let tip: Cid = entry.tip.parse().map_err(|_| bad("a tip that is no CID"))?;
        let blocks = read_stream(target, stream, tip, &entry.objects, &mut report.bytes)?;
        let state = engine.verify_from(&blocks, &stream, tip).map_err(|source| Error::Invalid {
            stream,
            tip: Box::new(tip),
            source: Box::new(source),
        })?;
        report.commits += state.log().len();
        checked.push(Checked { stream, tip, blocks });
    }
    for Checked { stream, tip, blocks } in checked {
        engine
            .handle_tip(&stream, tip, &blocks)
            .map_err(|source| Error::Apply { stream, source: Box::new(source) })?;
        store.pin(&stream)?;
        report.streams += 1;
    }
    Ok(report)
}
