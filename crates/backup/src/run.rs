//! One incremental backup run: the new commits of each selected stream, as one CAR per stream.

use ceramic_codecs::{Block, Cid, write_car};
use ceramic_doctype::StreamState;
use ceramic_storage::{MAX_PAGE, Page, Storage};
use ceramic_streamid::StreamId;

use crate::error::{Error, Result};
use crate::manifest::{Manifest, StreamEntry};
use crate::target::Target;

/// Which streams a backup holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selection {
    /// The pinned streams (the default).
    #[default]
    Pinned,
    /// The stored streams whose current metadata matches every given field.
    Filter(Filter),
}

/// A filter on a stream's current metadata; `None` fields match anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The metadata's `family`.
    pub family: Option<String>,
    /// The first controller.
    pub controller: Option<String>,
    /// The metadata's `model` (a StreamID string).
    pub model: Option<String>,
}

impl Filter {
    /// Whether `state` matches.
    pub fn matches(&self, state: &StreamState) -> bool {
        let meta = state.current_metadata();
        let field = |key: &str| meta.get(key).and_then(|v| v.as_str());
        self.family.as_deref().is_none_or(|f| field("family") == Some(f))
            && self.controller.as_deref().is_none_or(|c| state.controller() == Some(c))
            && self.model.as_deref().is_none_or(|m| field("model") == Some(m))
    }
}

/// What one run did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct RunReport {
    /// Streams selected.
    pub selected: usize,
    /// Of those, streams whose tip was not yet backed up when the run began.
    pub needed: usize,
    /// Streams with new commits, backed up.
    pub streams: usize,
    /// New commits sent.
    pub commits: usize,
    /// Bytes of objects written.
    pub bytes: usize,
    /// The tips written.
    pub roots: Vec<Cid>,
    /// Streams the store could not give (their log is broken or missing): the others are
    /// still backed up, and these are tried again next run.
    pub failures: Vec<(StreamId, Error)>,
}

/// The object name of a segment: the stream, then the CID of its first commit.
pub fn segment_name(stream: &StreamId, first: &Cid) -> String {
    format!("streams/{stream}/{first}.car")
}

/// The selected streams, paged through the store.
fn selected(store: &dyn Storage, selection: &Selection) -> Result<Vec<StreamId>> {
    let mut out = Vec::new();
    let mut after: Option<StreamId> = None;
    loop {
        let Page { streams, next } = match selection {
            Selection::Pinned => store.pins(after.as_ref(), MAX_PAGE)?,
            Selection::Filter(_) => store.streams(after.as_ref(), MAX_PAGE)?,
        };
        match selection {
            Selection::Pinned => out.extend(streams),
            Selection::Filter(filter) => {
                for stream in streams {
                    if store.state(&stream)?.is_some_and(|s| filter.matches(&s)) {
                        out.push(stream);
                    }
                }
            }
        }
        match next {
            Some(next) => after = Some(next),
            None => return Ok(out),
        }
    }
}

/// The segment of `state`'s log after the commit `last` (the whole log when `last` is not in
/// it): its first commit, how many commits, and its blocks in log order.
fn segment(
    store: &dyn Storage,
    state: &StreamState,
    last: Option<&str>,
) -> Result<Option<(Cid, usize, Vec<Block>)>> {
    let log = state.log();
    let start = last
        .and_then(|tip| log.iter().position(|e| e.cid.to_string() == tip))
        .map_or(0, |at| at + 1);
    let Some(first) = log.get(start).map(|e| e.cid) else { return Ok(None) };
    let mut blocks = store.log_blocks(state)?;
    // Each commit's own block comes first in its group (storage's log order).
    let at = blocks.iter().position(|b| *b.cid() == first).unwrap_or(0);
    let blocks = blocks.split_off(at);
    Ok(Some((first, log.len() - start, blocks)))
}

/// Backs up the new commits of the selected streams into `target` (see `specs/backup.md`):
/// per stream, one CAR object of the commits after the manifest's tip, named after its first
/// commit; the manifest is written last. A retry after a failure rewrites the same names, so
/// nothing is duplicated.
///
/// # Errors
/// [`Error::Target`] when the target fails (the manifest is still written with what was done,
/// if the target takes it); [`Error::Manifest`]; store errors listing the streams. A stream the
/// store cannot give is reported in [`RunReport::failures`] instead.
pub fn run_once(
    store: &dyn Storage,
    target: &dyn Target,
    selection: &Selection,
) -> Result<RunReport> {
    let (report, outcome) = run_reporting(store, target, selection);
    outcome.map(|()| report)
}

/// [`run_once`], returning what was done also when it fails.
pub(crate) fn run_reporting(
    store: &dyn Storage,
    target: &dyn Target,
    selection: &Selection,
) -> (RunReport, Result<()>) {
    let mut report = RunReport::default();
    let outcome = run_into(store, target, selection, &mut report);
    (report, outcome)
}

fn run_into(
    store: &dyn Storage,
    target: &dyn Target,
    selection: &Selection,
    report: &mut RunReport,
) -> Result<()> {
    let mut manifest = Manifest::load(target)?;
    let streams = selected(store, selection)?;
    report.selected = streams.len();
    for stream in &streams {
        let tip = store.state(stream)?.map(|s| s.tip().to_string());
        let done = manifest.streams.get(&stream.to_string()).map(|e| &e.tip);
        if tip.is_some() && tip.as_ref() != done {
            report.needed += 1;
        }
    }
    let mut superseded = Vec::new();
    let mut outcome = Ok(());
    for stream in streams {
        match backup_stream(store, target, &mut manifest, &stream, &mut superseded) {
            Ok(Some((commits, bytes, tip))) => {
                report.streams += 1;
                report.commits += commits;
                report.bytes += bytes;
                report.roots.push(tip);
            }
            Ok(None) => {}
            Err(e @ Error::Target(_)) => {
                outcome = Err(e);
                break;
            }
            Err(e) => report.failures.push((stream, e)),
        }
    }
    if report.streams > 0 || outcome.is_ok() {
        let stored = manifest.store(target);
        outcome = outcome.and(stored);
    }
    outcome?;
    for name in superseded {
        target.delete(&name)?;
    }
    Ok(())
}

/// Backs up one stream's new commits; `(commits, bytes, tip)` when there were any.
fn backup_stream(
    store: &dyn Storage,
    target: &dyn Target,
    manifest: &mut Manifest,
    stream: &StreamId,
    superseded: &mut Vec<String>,
) -> Result<Option<(usize, usize, Cid)>> {
    let Some(state) = store.state(stream)? else { return Ok(None) };
    let key = stream.to_string();
    let entry = manifest.streams.get(&key);
    if entry.is_some_and(|e| e.tip == state.tip().to_string()) {
        return Ok(None);
    }
    let last = entry.map(|e| e.tip.as_str());
    let Some((first, commits, blocks)) = segment(store, &state, last)? else { return Ok(None) };
    let car = write_car(&[state.tip()], &blocks)
        .map_err(|source| Error::Encode { stream: *stream, source })?;
    let name = segment_name(stream, &first);
    target.put(&name, &car)?;
    let mut objects = match manifest.streams.remove(&key) {
        // The old tip is no longer in the log (the stream moved to another branch): the new
        // segment holds the whole log, and the old objects go once the manifest is written.
        Some(old) if first == stream.cid() => {
            superseded.extend(old.objects.into_iter().filter(|o| *o != name));
            Vec::new()
        }
        Some(old) => old.objects,
        None => Vec::new(),
    };
    if objects.last() != Some(&name) {
        objects.push(name);
    }
    manifest.streams.insert(
        key,
        StreamEntry { tip: state.tip().to_string(), commits: state.log().len(), objects },
    );
    Ok(Some((commits, car.len(), state.tip())))
}
