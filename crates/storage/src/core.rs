//! The logic every store shares: encodings, index upkeep, pins, queries and GC, over a
//! [`Backend`]: [`Core`] and its one implementation of [`Storage`].

use std::collections::{BTreeSet, HashSet};
use std::ops::ControlFlow;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock};

use ceramic_codecs::{Block, Cid};
use ceramic_doctype::{LogEntry, StreamState};
use ceramic_streamid::StreamId;
use hashlink::LruCache;

use crate::error::{Error, Key, Result, StateDecodeError};
use crate::kv::{Backend, Batch, Column};
use crate::log::walk_log;
use crate::{
    BlockSource, FeedEntry, FeedPage, GcReport, IndexKind, MAX_PAGE, Page, Stats, Storage,
    model_controller_term,
};

/// The first byte of a stored state written by earlier versions: js-ceramic state JSON (read).
const STATE_FORMAT_JSON: u8 = 1;
/// The first byte of a stored state written by earlier versions: [`StreamState::to_bytes`],
/// log included (read).
const STATE_FORMAT_BYTES: u8 = 2;
/// The first byte of a stored state this version writes: [`StreamState::head_to_bytes`]; the
/// log's entries are records of their own in the `index` column (see [`LOG`]).
const STATE_FORMAT_HEAD: u8 = 3;
/// How many locks writes to different streams are spread over.
const STRIPES: usize = 64;
/// How many decoded states each stripe keeps (see [`Core`]'s state cache): 1,024 in all.
const CACHED_PER_STRIPE: usize = 16;
/// A cached stream: its state and, once known, whether it is pinned.
#[derive(Debug)]
struct Cached {
    state: StreamState,
    pinned: Option<bool>,
}

/// How many deletions GC puts in one batch.
const GC_BATCH: usize = 10_000;
/// The first byte of a reverse index record (forward entries start with an [`IndexKind`]).
const REVERSE: u8 = 0;
/// The first byte of a feed entry's key in the `index` column: `0xF0, position u64 BE` →
/// `u16 BE length, StreamID bytes, event CID bytes`.
const FEED: u8 = 0xF0;
/// The key of the feed head record: `0xF1` → the highest position some batch wrote (u64 BE).
/// Concurrent batches may land out of order, so on open the feed is scanned forward from it.
const FEED_HEAD: u8 = 0xF1;

/// The first byte of a log entry's key in the `index` column: `0xE0, StreamID bytes, position
/// u64 BE` → [`LogEntry::to_bytes`]. A state of [`STATE_FORMAT_HEAD`] has exactly the entries
/// `0..` its head names; so a commit writes its own entry and the state's head, not the log.
const LOG: u8 = 0xE0;

/// An index term: its kind's byte and its text.
type Term = (u8, String);

/// Encodes a state's head for the `states` column (its log's entries are written apart).
fn encode_head(state: &StreamState) -> Vec<u8> {
    let bytes = state.head_to_bytes();
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(STATE_FORMAT_HEAD);
    out.extend_from_slice(&bytes);
    out
}

/// Encodes a state as earlier versions stored it, log included (read by [`decode_state`]).
#[cfg(test)]
fn encode_state(state: &StreamState) -> Vec<u8> {
    [&[STATE_FORMAT_BYTES][..], &state.to_bytes()].concat()
}

/// Decodes a value of the `states` column stored under `id`; `log` reads the stream's log
/// entries when the value is a head.
fn decode_state(
    id: &StreamId,
    bytes: &[u8],
    log: impl FnOnce() -> Result<Vec<LogEntry>>,
) -> Result<StreamState> {
    let corrupt = |source| Error::CorruptState { stream: *id, source };
    match bytes.split_first() {
        Some((&STATE_FORMAT_HEAD, head)) => {
            let state =
                StreamState::from_head_and_log(head, log()?).map_err(|e| corrupt(e.into()))?;
            check_stream(id, state).map_err(corrupt)
        }
        Some((&STATE_FORMAT_BYTES, bytes)) => {
            let state = StreamState::from_bytes(bytes).map_err(|e| corrupt(e.into()))?;
            check_stream(id, state).map_err(corrupt)
        }
        Some((&STATE_FORMAT_JSON, json)) => decode_state_json(id, json).map_err(corrupt),
        other => Err(corrupt(StateDecodeError::Format(other.map(|(b, _)| *b)))),
    }
}

/// Decodes a state's JSON (as [`StreamState::to_js_json`] writes it) and checks it is `id`'s.
pub(crate) fn decode_state_json(
    id: &StreamId,
    json: &[u8],
) -> std::result::Result<StreamState, StateDecodeError> {
    let value: serde_json::Value = serde_json::from_slice(json).map_err(StateDecodeError::Json)?;
    check_stream(id, StreamState::from_js_json(&value)?)
}

/// `state` if it is `id`'s.
fn check_stream(
    id: &StreamId,
    state: StreamState,
) -> std::result::Result<StreamState, StateDecodeError> {
    let got = state.stream_id();
    if got != *id {
        return Err(StateDecodeError::OtherStream(got));
    }
    Ok(state)
}

/// The StreamID of a state given to be written, without panicking on a malformed one.
pub(crate) fn stream_of(state: &StreamState) -> Result<StreamId> {
    // A state's log is never empty and its genesis CID is a CIDv1 (the SDK's invariant).
    Ok(state.stream_id())
}

/// The index terms of a state: its controller, family and tags (of the current metadata).
fn terms(state: &StreamState) -> BTreeSet<Term> {
    let mut out = BTreeSet::new();
    if let Some(controller) = state.controller() {
        out.insert((IndexKind::Controller as u8, controller.to_string()));
    }
    let metadata = state.current_metadata();
    if let Some(family) = metadata.get("family").and_then(serde_json::Value::as_str) {
        out.insert((IndexKind::Family as u8, family.to_string()));
    }
    let tags = metadata.get("tags").and_then(serde_json::Value::as_array);
    for tag in tags.into_iter().flatten().filter_map(serde_json::Value::as_str) {
        out.insert((IndexKind::Tag as u8, tag.to_string()));
    }
    if let Some(model) = metadata.get("model").and_then(serde_json::Value::as_str) {
        out.insert((IndexKind::Model as u8, model.to_string()));
        // A MID's metadata names its one controller as `controller`; other streams' as
        // `controllers[0]`.
        let controller = metadata
            .get("controller")
            .and_then(serde_json::Value::as_str)
            .or_else(|| state.controller());
        if let Some(controller) = controller {
            out.insert((
                IndexKind::ModelController as u8,
                model_controller_term(model, controller),
            ));
        }
    }
    out
}

fn feed_key(position: u64) -> [u8; 9] {
    let mut key = [FEED; 9];
    key[1..].copy_from_slice(&position.to_be_bytes());
    key
}

fn encode_feed_value(stream: &[u8], event: &Cid) -> Vec<u8> {
    // A StreamID is a few dozen bytes: its length fits in a u16.
    let len = u16::try_from(stream.len()).unwrap_or(u16::MAX);
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(stream);
    out.extend_from_slice(&event.to_bytes());
    out
}

/// Parses a feed entry (key and value of the `index` column).
fn decode_feed(key: &[u8], value: &[u8]) -> Option<FeedEntry> {
    let position = u64::from_be_bytes(key.get(1..9)?.try_into().ok()?);
    let len = usize::from(u16::from_be_bytes(value.get(..2)?.try_into().ok()?));
    let stream = StreamId::from_bytes(value.get(2..2 + len)?).ok()?;
    let event = Cid::try_from(value.get(2 + len..)?).ok()?;
    Some(FeedEntry { position, stream, event })
}

/// Feed positions handed out and not yet settled: entries become visible in position order
/// only, so a reader never passes a position whose batch is still being written.
#[derive(Debug, Default)]
struct Feed {
    /// The next position to hand out; `None` until read from the backend.
    next: Option<u64>,
    /// Positions handed out to batches that are still being written.
    pending: BTreeSet<u64>,
    /// Every position below this one is settled (written or failed).
    visible: u64,
}

/// `kind, u32 BE length, term`: the prefix of a term's forward entries.
fn term_prefix(kind: u8, term: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(term.len() + 5);
    out.push(kind);
    // A term comes from a block of at most 256 kB, so its length fits in a u32.
    out.extend_from_slice(&u32::try_from(term.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(term.as_bytes());
    out
}

fn index_key((kind, term): &Term, stream: &[u8]) -> Vec<u8> {
    let mut out = term_prefix(*kind, term);
    out.extend_from_slice(stream);
    out
}

/// The key of log entry `position` of `stream` in the `index` column.
fn log_key(stream: &[u8], position: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(stream.len() + 9);
    out.push(LOG);
    out.extend_from_slice(stream);
    out.extend_from_slice(&position.to_be_bytes());
    out
}

/// What a write changes in a stream's stored log entries to go from `stored` to `new`: the
/// entries to put (new or changed, e.g. a timestamp an anchor gave) and the positions past the
/// new end to delete (a branch that lost to a shorter one).
fn log_changes<'a>(stored: &[LogEntry], new: &'a [LogEntry]) -> Vec<(u64, Option<&'a LogEntry>)> {
    let mut out: Vec<(u64, Option<&LogEntry>)> = (0_u64..)
        .zip(new)
        .zip((0..new.len()).map(|i| stored.get(i)))
        .filter(|((_, entry), old)| *old != Some(*entry))
        .map(|((position, entry), _)| (position, Some(entry)))
        .collect();
    out.extend((new.len()..stored.len()).map(|position| (position as u64, None)));
    out
}

fn reverse_key(stream: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(stream.len() + 1);
    out.push(REVERSE);
    out.extend_from_slice(stream);
    out
}

fn encode_terms(terms: &BTreeSet<Term>) -> Vec<u8> {
    terms.iter().flat_map(|(kind, term)| term_prefix(*kind, term)).collect()
}

fn decode_terms(mut bytes: &[u8]) -> Option<BTreeSet<Term>> {
    let mut out = BTreeSet::new();
    while let Some((&kind, rest)) = bytes.split_first() {
        IndexKind::from_byte(kind)?;
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
        let len = usize::try_from(len).ok()?;
        let end = len.checked_add(4)?;
        let term = rest.get(4..end)?;
        out.insert((kind, String::from_utf8(term.to_vec()).ok()?));
        bytes = rest.get(end..)?;
    }
    Some(out)
}

fn read_lock(lock: &RwLock<()>) -> std::sync::RwLockReadGuard<'_, ()> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn lock(mutex: &Mutex<()>) -> MutexGuard<'_, ()> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// FNV-1a, to spread streams over the write locks.
fn stripe(key: &[u8]) -> usize {
    let hash = key.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    (hash % STRIPES as u64) as usize
}

/// A store over a key-value [`Backend`]: implements [`Storage`] (and [`BlockSource`]) for any
/// backend, so every store behaves the same. [`MemoryStorage`](crate::MemoryStorage) is
/// `Core<MemoryBackend>`; `ceramic-storage-rocks` makes `Core` over RocksDB.
///
/// Locking: every write (commit, pin, unpin) holds `writers` for reading, and a commit also
/// holds its stream's stripe lock (so reading a stream's old index terms and writing the new ones
/// cannot interleave with another write of that stream); GC holds `writers` for writing, so no
/// write lands between its mark and its sweep. Locks poisoned by a panicking thread are
/// recovered: they guard no data.
///
/// State cache: the states of the streams used last (at most 1,024, the least recently used
/// dropped first) are kept decoded, so a stream written again is not re-read and re-parsed from
/// the backend (the stored state is O(log) to parse: ~12 % of a node's CPU per update before
/// this cache, `benches/README.md`). It is written through, under the stream's stripe lock, only
/// by [`Storage::write_commit`] (after the backend accepted the batch), so it never holds a
/// state the backend does not; reads never fill it (a read racing a write could otherwise cache
/// the older state); GC empties it. A cached state's index terms are the stored ones, so a write
/// of a cached stream skips reading its index record. A cached stream's pin status, once read,
/// is kept beside it (see `Core::pinned`), so `pin_on_write` reads nothing for a stream it
/// pinned before.
#[derive(Debug)]
pub struct Core<B> {
    backend: B,
    writers: RwLock<()>,
    stripes: Vec<Mutex<()>>,
    cache: Vec<Mutex<LruCache<StreamId, Cached>>>,
    feed: Mutex<Feed>,
}

impl<B: Backend> Core<B> {
    /// A store over `backend` (which may already hold a store's data).
    pub fn with_backend(backend: B) -> Self {
        Core {
            backend,
            writers: RwLock::new(()),
            stripes: (0..STRIPES).map(|_| Mutex::default()).collect(),
            cache: (0..STRIPES).map(|_| Mutex::new(LruCache::new(CACHED_PER_STRIPE))).collect(),
            feed: Mutex::default(),
        }
    }

    /// The feed's bookkeeping, read from the backend on first use: the next position is one
    /// past the highest stored entry (found by scanning forward from the head record).
    fn feed_state(&self) -> Result<MutexGuard<'_, Feed>> {
        let mut feed = self.feed.lock().unwrap_or_else(PoisonError::into_inner);
        if feed.next.is_none() {
            let head = match self.get(Column::Index, &[FEED_HEAD], || Key::Column("index"))? {
                Some(bytes) => u64::from_be_bytes(bytes.as_slice().try_into().map_err(|_| {
                    Error::CorruptEntry {
                        key: Key::Raw { column: "index", bytes: vec![FEED_HEAD] },
                        reason: "the feed head record is not 8 bytes",
                    }
                })?),
                None => 0,
            };
            let mut last = head;
            self.backend
                .scan(Column::Index, &feed_key(head), &[FEED], &mut |key, _| {
                    if let Some(bytes) = key.get(1..9).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                        last = last.max(u64::from_be_bytes(bytes));
                    }
                    ControlFlow::Continue(())
                })
                .map_err(|source| Error::read(Key::Column("index"), source))?;
            feed.next = Some(last + 1);
            feed.visible = last + 1;
        }
        Ok(feed)
    }

    /// Hands out `count` consecutive feed positions (the first returned).
    fn reserve_feed(&self, count: u64) -> Result<u64> {
        let mut feed = self.feed_state()?;
        let first = feed.next.unwrap_or(1);
        feed.next = Some(first + count);
        feed.pending.extend(first..first + count);
        Ok(first)
    }

    /// Settles positions `first..first + count` (their batch was written or failed).
    fn settle_feed(&self, first: u64, count: u64) {
        let mut feed = self.feed.lock().unwrap_or_else(PoisonError::into_inner);
        for position in first..first + count {
            feed.pending.remove(&position);
        }
        let next = feed.next.unwrap_or(1);
        feed.visible = feed.pending.first().copied().unwrap_or(next);
    }

    /// The cached state of `id`, if it is cached (and now the stripe's most recently used).
    fn cached(&self, id: &StreamId, stream: &[u8]) -> Option<StreamState> {
        self.stripe_cache(stream).get(id).map(|cached| cached.state.clone())
    }

    /// The state cache of `stream`'s stripe.
    fn stripe_cache(&self, stream: &[u8]) -> MutexGuard<'_, LruCache<StreamId, Cached>> {
        self.cache[stripe(stream)].lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Caches `state` (just written); a full stripe drops its least recently used state.
    /// Its pin status is kept: a commit does not change it.
    fn cache(&self, id: StreamId, stream: &[u8], state: &StreamState) {
        let mut cache = self.stripe_cache(stream);
        let pinned = cache.get(&id).and_then(|cached| cached.pinned);
        cache.insert(id, Cached { state: state.clone(), pinned });
    }

    /// Whether `id` is pinned, from the cache when it knows, else from the backend (noted in
    /// the cache if the stream is cached). The read and the note happen under the stream's
    /// stripe lock; `pin` and `unpin` forget the note under that lock after they write, so a
    /// note taken before their write is gone and one taken after saw it. A note read while a
    /// `pin` or `unpin` is under way answers as a read just before its write would.
    fn pinned(&self, id: &StreamId, stream: &[u8]) -> Result<bool> {
        if let Some(pinned) = self.noted_pinned(id, stream) {
            return Ok(pinned);
        }
        let _stream = lock(&self.stripes[stripe(stream)]);
        self.pinned_locked(id, stream)
    }

    /// The noted pin status of `id`, if it is cached and its status known.
    fn noted_pinned(&self, id: &StreamId, stream: &[u8]) -> Option<bool> {
        self.stripe_cache(stream).get(id).and_then(|cached| cached.pinned)
    }

    /// [`Core::pinned`] for a caller holding the stream's stripe lock.
    fn pinned_locked(&self, id: &StreamId, stream: &[u8]) -> Result<bool> {
        if let Some(pinned) = self.noted_pinned(id, stream) {
            return Ok(pinned);
        }
        let pinned = self.get(Column::Pins, stream, || Key::Pin(*id))?.is_some();
        self.note_pinned(id, stream, pinned);
        Ok(pinned)
    }

    /// Notes the pin status of a cached stream; the caller holds its stripe lock and read or
    /// wrote the status after any write that changed it.
    fn note_pinned(&self, id: &StreamId, stream: &[u8], pinned: bool) {
        if let Some(cached) = self.stripe_cache(stream).get_mut(id) {
            cached.pinned = Some(pinned);
        }
    }

    /// Forgets the noted pin status of `id`, after a write that changed it. The stripe lock is
    /// not held during that write (a synced write would hold up the stripe's other writes).
    fn forget_pinned(&self, id: &StreamId, stream: &[u8]) {
        let _stream = lock(&self.stripes[stripe(stream)]);
        if let Some(cached) = self.stripe_cache(stream).get_mut(id) {
            cached.pinned = None;
        }
    }

    /// The backend, e.g. to flush or inspect it. Writing to it directly bypasses the store's
    /// invariants (complete logs, index upkeep).
    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// The backend, the store given up.
    pub fn into_backend(self) -> B {
        self.backend
    }

    fn get(
        &self,
        column: Column,
        key: &[u8],
        name: impl FnOnce() -> Key,
    ) -> Result<Option<Vec<u8>>> {
        self.backend.get(column, key).map_err(|source| Error::read(name(), source))
    }

    fn write(&self, batch: Batch, key: Key) -> Result<()> {
        self.backend.write(batch).map_err(|source| Error::Write { key, source })
    }

    /// Every key of a column with `prefix`.
    fn keys(&self, column: Column, prefix: &[u8]) -> Result<Vec<Vec<u8>>> {
        let mut keys = Vec::new();
        self.backend
            .scan(column, prefix, prefix, &mut |key, _| {
                keys.push(key.to_vec());
                ControlFlow::Continue(())
            })
            .map_err(|source| Error::read(Key::Column(column.name()), source))?;
        Ok(keys)
    }

    /// The keys of `stream`'s stored log entries.
    fn log_keys(&self, stream: &[u8]) -> Result<Vec<Vec<u8>>> {
        self.keys(Column::Index, &[&[LOG][..], stream].concat())
    }

    /// `id`'s stored log entries, in order; an entry that does not parse, or a position
    /// missing, is a corrupt state.
    fn stored_log(&self, id: &StreamId, stream: &[u8]) -> Result<Vec<LogEntry>> {
        let prefix = [&[LOG][..], stream].concat();
        let mut log = Vec::new();
        let mut bad = None;
        self.backend
            .scan(Column::Index, &prefix, &prefix, &mut |key, value| {
                let position = key.get(prefix.len()..).and_then(|b| <[u8; 8]>::try_from(b).ok());
                match (position.map(u64::from_be_bytes), LogEntry::from_bytes(value)) {
                    (Some(at), Ok(entry)) if at == log.len() as u64 => {
                        log.push(entry);
                        ControlFlow::Continue(())
                    }
                    (_, Err(e)) => {
                        bad = Some(StateDecodeError::from(e));
                        ControlFlow::Break(())
                    }
                    _ => {
                        bad = Some(StateDecodeError::LogGap(log.len() as u64));
                        ControlFlow::Break(())
                    }
                }
            })
            .map_err(|source| Error::read(Key::State(*id), source))?;
        match bad {
            Some(source) => Err(Error::CorruptState { stream: *id, source }),
            None => Ok(log),
        }
    }

    fn parse_stream(column: Column, key: &[u8], prefix_len: usize) -> Result<StreamId> {
        key.get(prefix_len..).and_then(|bytes| StreamId::from_bytes(bytes).ok()).ok_or_else(|| {
            Error::CorruptEntry {
                key: Key::Raw { column: column.name(), bytes: key.to_vec() },
                reason: "the key does not end with a StreamID",
            }
        })
    }

    fn index_terms(&self, id: &StreamId, stream: &[u8]) -> Result<Option<BTreeSet<Term>>> {
        let Some(bytes) = self.get(Column::Index, &reverse_key(stream), || Key::Index(*id))? else {
            return Ok(None);
        };
        decode_terms(&bytes).map(Some).ok_or(Error::CorruptEntry {
            key: Key::Index(*id),
            reason: "the stream's index record does not parse",
        })
    }

    /// A page of the StreamIDs that end the keys with `prefix`, after `after`.
    fn page(
        &self,
        column: Column,
        prefix: &[u8],
        after: Option<&StreamId>,
        limit: usize,
    ) -> Result<Page> {
        let limit = limit.clamp(1, MAX_PAGE);
        let after = after.map(|a| [prefix, &a.to_bytes()].concat());
        let from = after.as_deref().unwrap_or(prefix);
        let mut keys = Vec::new();
        self.backend
            .scan(column, from, prefix, &mut |key, _| {
                if Some(key) != after.as_deref() {
                    keys.push(key.to_vec());
                }
                if keys.len() > limit { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            })
            .map_err(|source| Error::read(Key::Column(column.name()), source))?;
        let mut streams = keys
            .iter()
            .map(|key| Self::parse_stream(column, key, prefix.len()))
            .collect::<Result<Vec<_>>>()?;
        let next = if streams.len() > limit {
            streams.truncate(limit);
            streams.last().copied()
        } else {
            None
        };
        Ok(Page { streams, next })
    }
}

impl<B: Backend> BlockSource for Core<B> {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>> {
        Ok(self.block(cid)?.map(|block| block.into_parts().1))
    }
}

impl<B: Backend> Core<B> {
    /// [`Storage::write_commit`], also pinning the stream in the same batch when `pin`.
    fn write_commit_with(&self, blocks: &[Block], state: &StreamState, pin: bool) -> Result<()> {
        let id = stream_of(state)?;
        let stream = id.to_bytes();
        let _writers = read_lock(&self.writers);
        let _stream = lock(&self.stripes[stripe(&stream)]);
        // A stream has an index record exactly when it has a state; a cached state's terms are
        // its index record's, and its log is the stored entries (only writes fill the cache).
        // Otherwise every entry is written again and stored ones past the new end are deleted
        // (a stream without a state has none: they are removed in the state's batch).
        let cached = self
            .stripe_cache(&stream)
            .get(&id)
            .map(|cached| (terms(&cached.state), log_changes(cached.state.log(), state.log())));
        let (old, log) = match cached {
            Some((terms, log)) => (Some(terms), log),
            None => {
                let old = self.index_terms(&id, &stream)?;
                let stored = if old.is_some() { self.log_keys(&stream)?.len() } else { 0 };
                let mut log: Vec<_> = (0_u64..).zip(state.log().iter().map(Some)).collect();
                log.extend((state.log().len()..stored).map(|position| (position as u64, None)));
                (old, log)
            }
        };
        if old.is_none() {
            // A new stream: every commit of its log must be given or stored, so that a stored
            // state's log is always complete (also when GC just removed the stream).
            let given: HashSet<&Cid> = blocks.iter().map(Block::cid).collect();
            for entry in state.log() {
                if !given.contains(&entry.cid)
                    && self
                        .get(Column::Blocks, &entry.cid.to_bytes(), || Key::Block(entry.cid))?
                        .is_none()
                {
                    return Err(Error::MissingBlock { stream: id, cid: entry.cid });
                }
            }
        }
        // Pinning in the batch needs no check of the log: a new stream's log was checked
        // above, and a stored state's log is always complete.
        let pin_now = pin && !self.pinned_locked(&id, &stream)?;
        let mut batch = Batch::default();
        for block in blocks {
            batch.put(Column::Blocks, block.cid().to_bytes(), block.data().to_vec());
        }
        batch.put(Column::States, stream.clone(), encode_head(state));
        for (position, entry) in log {
            match entry {
                Some(entry) => {
                    batch.put(Column::Index, log_key(&stream, position), entry.to_bytes())
                }
                None => batch.delete(Column::Index, log_key(&stream, position)),
            }
        }
        let new = terms(state);
        let none = BTreeSet::new();
        let before = old.as_ref().unwrap_or(&none);
        for term in before.difference(&new) {
            batch.delete(Column::Index, index_key(term, &stream));
        }
        for term in new.difference(before) {
            batch.put(Column::Index, index_key(term, &stream), Vec::new());
        }
        if old.as_ref() != Some(&new) {
            batch.put(Column::Index, reverse_key(&stream), encode_terms(&new));
        }
        // The feed: the log's commits given in this batch (its new tail), oldest first.
        let given: HashSet<&Cid> = blocks.iter().map(Block::cid).collect();
        let fresh: Vec<Cid> = {
            let mut tail: Vec<Cid> = state
                .log()
                .iter()
                .rev()
                .take_while(|entry| given.contains(&entry.cid))
                .map(|entry| entry.cid)
                .collect();
            tail.reverse();
            tail
        };
        let count = fresh.len() as u64;
        let first = if count > 0 { self.reserve_feed(count)? } else { 0 };
        for (position, event) in (first..).zip(&fresh) {
            batch.put(
                Column::Index,
                feed_key(position).to_vec(),
                encode_feed_value(&stream, event),
            );
        }
        if count > 0 {
            batch.put(Column::Index, vec![FEED_HEAD], (first + count - 1).to_be_bytes().to_vec());
        }
        if pin_now {
            batch.put(Column::Pins, stream.clone(), Vec::new());
        }
        let written = self.write(batch, Key::State(id));
        if count > 0 {
            self.settle_feed(first, count);
        }
        written?;
        self.cache(id, &stream, state);
        if pin {
            self.note_pinned(&id, &stream, true);
        }
        Ok(())
    }
}

impl<B: Backend> Storage for Core<B> {
    fn block(&self, cid: &Cid) -> Result<Option<Block>> {
        let Some(data) = self.get(Column::Blocks, &cid.to_bytes(), || Key::Block(*cid))? else {
            return Ok(None);
        };
        Block::new(*cid, data).map(Some).map_err(|source| Error::CorruptBlock { cid: *cid, source })
    }

    fn state(&self, id: &StreamId) -> Result<Option<StreamState>> {
        let stream = id.to_bytes();
        if let Some(state) = self.cached(id, &stream) {
            return Ok(Some(state));
        }
        self.get(Column::States, &stream, || Key::State(*id))?
            .map(|bytes| decode_state(id, &bytes, || self.stored_log(id, &stream)))
            .transpose()
    }

    fn write_commit(&self, blocks: &[Block], state: &StreamState) -> Result<()> {
        self.write_commit_with(blocks, state, false)
    }

    fn write_commit_pinned(&self, blocks: &[Block], state: &StreamState) -> Result<()> {
        self.write_commit_with(blocks, state, true)
    }

    fn feed(&self, after: u64, limit: usize) -> Result<FeedPage> {
        let limit = limit.clamp(1, MAX_PAGE);
        let visible = self.feed_state()?.visible;
        let mut entries = Vec::new();
        let mut corrupt = None;
        let from = feed_key(after.saturating_add(1));
        self.backend
            .scan(Column::Index, &from, &[FEED], &mut |key, value| {
                match decode_feed(key, value) {
                    Some(entry) if entry.position >= visible => return ControlFlow::Break(()),
                    Some(entry) => entries.push(entry),
                    None => {
                        corrupt = Some(key.to_vec());
                        return ControlFlow::Break(());
                    }
                }
                if entries.len() >= limit {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .map_err(|source| Error::read(Key::Column("index"), source))?;
        if let Some(bytes) = corrupt {
            return Err(Error::CorruptEntry {
                key: Key::Raw { column: "index", bytes },
                reason: "a feed entry does not parse",
            });
        }
        let resume = entries.last().map_or(after, |entry| entry.position);
        Ok(FeedPage { entries, resume })
    }

    fn feed_head(&self) -> Result<u64> {
        Ok(self.feed_state()?.visible.saturating_sub(1))
    }

    fn log_blocks(&self, state: &StreamState) -> Result<Vec<Block>> {
        let id = stream_of(state)?;
        walk_log(state, id, &mut |cid| self.block(cid))
    }

    fn pin(&self, id: &StreamId) -> Result<()> {
        let stream = id.to_bytes();
        let _writers = read_lock(&self.writers);
        // Pinned already: its log was complete when pinned, and every commit since was stored
        // with its blocks, so there is nothing to check or write. (Writes pin their stream
        // under `pin_on_write`; walking the whole log on each one made an update's cost grow
        // with the log's length.)
        if self.pinned(id, &stream)? {
            return Ok(());
        }
        let state = self.state(id)?.ok_or(Error::NotFound(*id))?;
        self.log_blocks(&state)?;
        let mut batch = Batch::default();
        batch.put(Column::Pins, stream.clone(), Vec::new());
        let written = self.write(batch, Key::Pin(*id));
        self.forget_pinned(id, &stream);
        written
    }

    fn remove_state(&self, id: &StreamId) -> Result<bool> {
        let stream = id.to_bytes();
        let _writers = read_lock(&self.writers);
        let _stream = lock(&self.stripes[stripe(&stream)]);
        let Some(terms) = self.index_terms(id, &stream)? else {
            return Ok(false);
        };
        let mut batch = Batch::default();
        for term in terms {
            batch.delete(Column::Index, index_key(&term, &stream));
        }
        batch.delete(Column::Index, reverse_key(&stream));
        for key in self.log_keys(&stream)? {
            batch.delete(Column::Index, key);
        }
        batch.delete(Column::States, stream.clone());
        batch.delete(Column::Pins, stream.clone());
        self.write(batch, Key::State(*id))?;
        self.stripe_cache(&stream).remove(id);
        Ok(true)
    }

    fn unpin(&self, id: &StreamId) -> Result<bool> {
        let stream = id.to_bytes();
        let _writers = read_lock(&self.writers);
        if !self.pinned(id, &stream)? {
            return Ok(false);
        }
        let mut batch = Batch::default();
        batch.delete(Column::Pins, stream.clone());
        let written = self.write(batch, Key::Pin(*id));
        self.forget_pinned(id, &stream);
        written.map(|()| true)
    }

    fn is_pinned(&self, id: &StreamId) -> Result<bool> {
        self.pinned(id, &id.to_bytes())
    }

    fn pins(&self, after: Option<&StreamId>, limit: usize) -> Result<Page> {
        self.page(Column::Pins, &[], after, limit)
    }

    fn streams(&self, after: Option<&StreamId>, limit: usize) -> Result<Page> {
        self.page(Column::States, &[], after, limit)
    }

    fn list(
        &self,
        kind: IndexKind,
        term: &str,
        after: Option<&StreamId>,
        limit: usize,
    ) -> Result<Page> {
        self.page(Column::Index, &term_prefix(kind as u8, term), after, limit)
    }

    fn stats(&self) -> Result<Stats> {
        let count = |column: Column| -> Result<usize> {
            let mut n = 0;
            self.backend
                .scan(column, &[], &[], &mut |_, _| {
                    n += 1;
                    ControlFlow::Continue(())
                })
                .map_err(|source| Error::read(Key::Column(column.name()), source))?;
            Ok(n)
        };
        Ok(Stats {
            blocks: count(Column::Blocks)?,
            streams: count(Column::States)?,
            pins: count(Column::Pins)?,
        })
    }

    fn gc(&self) -> Result<GcReport> {
        let _writers = self.writers.write().unwrap_or_else(PoisonError::into_inner);
        for cache in &self.cache {
            cache.lock().unwrap_or_else(PoisonError::into_inner).clear();
        }
        // Mark: every block of every pinned stream's log. Any doubt (a missing or undecodable
        // block, a pin without state) stops GC before it deletes anything.
        let pinned: HashSet<Vec<u8>> = self.keys(Column::Pins, &[])?.into_iter().collect();
        let mut reachable = HashSet::new();
        for key in &pinned {
            let id = Self::parse_stream(Column::Pins, key, 0)?;
            let state = self.state(&id)?.ok_or(Error::CorruptEntry {
                key: Key::Pin(id),
                reason: "a pinned stream has no state",
            })?;
            reachable.extend(self.log_blocks(&state)?.iter().map(|b| b.cid().to_bytes()));
        }
        // Sweep the states (and index entries) of unpinned streams first, so that a crash
        // between the two sweeps leaves unreferenced blocks, never a state without its log.
        let doomed: Vec<Vec<u8>> =
            self.keys(Column::States, &[])?.into_iter().filter(|k| !pinned.contains(k)).collect();
        let mut bytes_freed = 0_u64;
        for chunk in doomed.chunks(GC_BATCH / 8) {
            let mut batch = Batch::default();
            for stream in chunk {
                let id = Self::parse_stream(Column::States, stream, 0)?;
                let value = self.get(Column::States, stream, || Key::State(id))?;
                bytes_freed += (stream.len() + value.map_or(0, |v| v.len())) as u64;
                for term in self.index_terms(&id, stream)?.unwrap_or_default() {
                    batch.delete(Column::Index, index_key(&term, stream));
                }
                batch.delete(Column::Index, reverse_key(stream));
                let prefix = [&[LOG][..], stream.as_slice()].concat();
                self.backend
                    .scan(Column::Index, &prefix, &prefix, &mut |key, value| {
                        bytes_freed += (key.len() + value.len()) as u64;
                        batch.delete(Column::Index, key.to_vec());
                        ControlFlow::Continue(())
                    })
                    .map_err(|source| Error::read(Key::State(id), source))?;
                batch.delete(Column::States, stream.clone());
            }
            self.write(batch, Key::Column(Column::States.name()))?;
        }
        let mut blocks_kept = 0;
        let mut unreachable = Vec::new();
        self.backend
            .scan(Column::Blocks, &[], &[], &mut |key, value| {
                if reachable.contains(key) {
                    blocks_kept += 1;
                } else {
                    bytes_freed += (key.len() + value.len()) as u64;
                    unreachable.push(key.to_vec());
                }
                ControlFlow::Continue(())
            })
            .map_err(|source| Error::read(Key::Column(Column::Blocks.name()), source))?;
        for chunk in unreachable.chunks(GC_BATCH) {
            let mut batch = Batch::default();
            for key in chunk {
                batch.delete(Column::Blocks, key.clone());
            }
            debug_assert!(batch.len() <= GC_BATCH);
            self.write(batch, Key::Column(Column::Blocks.name()))?;
        }
        Ok(GcReport {
            pinned_streams: pinned.len(),
            streams_removed: doomed.len(),
            blocks_removed: unreachable.len(),
            blocks_kept,
            bytes_freed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_codecs::Codec;
    use ceramic_doctype::SignatureStatus;
    use ceramic_streamid::StreamType;

    fn raw_put<B: Backend>(core: &Core<B>, column: Column, key: Vec<u8>, value: &[u8]) {
        let mut batch = Batch::default();
        batch.put(column, key, value.to_vec());
        core.backend().write(batch).unwrap();
    }

    /// Corrupted values give typed errors naming their key, on both backends.
    fn reads_corrupt_values_as_typed_errors<B: Backend>(core: &Core<B>) {
        let block = Block::from_data(Codec::DagCbor, vec![0xa0]).unwrap();
        let cid = *block.cid();
        let id = StreamId::new(StreamType::TILE, cid).unwrap();
        raw_put(core, Column::Blocks, cid.to_bytes(), &[0x80]);
        assert!(matches!(core.block(&cid), Err(Error::CorruptBlock { cid: c, .. }) if c == cid));
        let state = StreamState::genesis(
            StreamType::TILE,
            cid,
            serde_json::json!({}),
            Default::default(),
            SignatureStatus::Genesis,
        )
        .unwrap();
        let other = StreamState::genesis(
            StreamType::new(77),
            cid,
            serde_json::json!({}),
            Default::default(),
            SignatureStatus::Genesis,
        )
        .unwrap();
        for (value, expected) in [
            (vec![], "unknown state format None"),
            (vec![7, b'{', b'}'], "unknown state format Some(7)"),
            (b"\x01not json".to_vec(), "not JSON"),
            (b"\x01{}".to_vec(), "state field"),
            (b"\x02\x00".to_vec(), "state bytes end inside `flags`"),
            (
                [&[1u8][..], other.to_js_json().to_string().as_bytes()].concat(),
                "it is the state of",
            ),
            (encode_state(&other), "it is the state of"),
        ] {
            raw_put(core, Column::States, id.to_bytes(), &value);
            match core.state(&id) {
                Err(e @ Error::CorruptState { stream, .. }) => {
                    assert_eq!(stream, id);
                    let message = format!("{e}: {}", std::error::Error::source(&e).unwrap());
                    assert!(message.contains(expected), "{message}");
                    assert!(message.contains(&id.to_string()), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
        // Format 1 (js state JSON, written by earlier versions) is still read.
        let json = [&[1u8][..], state.to_js_json().to_string().as_bytes()].concat();
        raw_put(core, Column::States, id.to_bytes(), &json);
        assert_eq!(core.state(&id).unwrap(), Some(state.clone()));
        raw_put(core, Column::States, id.to_bytes(), &encode_state(&state));
        assert_eq!(core.state(&id).unwrap(), Some(state.clone()));
        // Format 3: a head whose log entries are missing, or do not parse, is corrupt.
        raw_put(core, Column::States, id.to_bytes(), &encode_head(&state));
        for (entry, expected) in [
            (None, "names 1 log entries, 0 were given"),
            (Some(vec![9]), "state field `log.type` holds an unknown value"),
        ] {
            if let Some(entry) = entry {
                raw_put(core, Column::Index, log_key(&id.to_bytes(), 0), &entry);
            }
            match core.state(&id) {
                Err(e @ Error::CorruptState { .. }) => {
                    let message = format!("{e}: {}", std::error::Error::source(&e).unwrap());
                    assert!(message.contains(expected), "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
        let mut batch = Batch::default();
        batch.delete(Column::Index, log_key(&id.to_bytes(), 0));
        batch.put(Column::Index, log_key(&id.to_bytes(), 1), state.log()[0].to_bytes());
        core.backend().write(batch).unwrap();
        assert!(
            matches!(
                core.state(&id),
                Err(Error::CorruptState { source: StateDecodeError::LogGap(0), .. })
            ),
            "an entry out of place"
        );
        raw_put(core, Column::Index, log_key(&id.to_bytes(), 0), &state.log()[0].to_bytes());
        raw_put(core, Column::States, id.to_bytes(), &encode_state(&state));
        // A corrupt index record stops a write of that stream, which writes nothing.
        raw_put(core, Column::Index, reverse_key(&id.to_bytes()), &[9]);
        let err = core.write_commit(std::slice::from_ref(&block), &state).unwrap_err();
        assert!(matches!(err, Error::CorruptEntry { key: Key::Index(s), .. } if s == id), "{err}");
        assert!(matches!(core.block(&cid), Err(Error::CorruptBlock { .. })));
        // A key that is not a StreamID.
        raw_put(core, Column::States, b"junk".to_vec(), b"");
        match core.streams(None, 10) {
            Err(Error::CorruptEntry { key: Key::Raw { column: "states", bytes }, .. }) => {
                assert_eq!(bytes, b"junk");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_corrupt_values_as_typed_errors_in_memory() {
        reads_corrupt_values_as_typed_errors(&crate::MemoryStorage::new());
    }

    #[test]
    fn a_log_is_stored_entry_by_entry_and_states_stored_whole_are_still_read() {
        let core = crate::MemoryStorage::new();
        let (block, genesis) = cache_genesis("entries");
        let id = genesis.stream_id();
        let stream = id.to_bytes();
        let change = |n: u8| ceramic_doctype::Change::content(Some(serde_json::json!(n)));
        let two = genesis.with_change(ceramic_codecs::cid_of(0x71, &[1]), None, change(1));
        let three = two.with_change(ceramic_codecs::cid_of(0x71, &[2]), None, change(2));
        // As an earlier version stored it: the whole state, its index record, no entries.
        raw_put(&core, Column::Blocks, block.cid().to_bytes(), block.data());
        raw_put(&core, Column::States, stream.clone(), &encode_state(&two));
        raw_put(&core, Column::Index, reverse_key(&stream), &encode_terms(&terms(&two)));
        assert_eq!(core.state(&id).unwrap().as_ref(), Some(&two));
        let forget = || core.cache.iter().for_each(|c| c.lock().unwrap().clear());
        let stored = |core: &crate::MemoryStorage| {
            let head = core.get(Column::States, &stream, || Key::State(id)).unwrap().unwrap();
            (head[0], core.log_keys(&stream).unwrap().len())
        };
        // Its next write stores a head and every entry; a read puts them together.
        core.write_commit(&[], &three).unwrap();
        assert_eq!(stored(&core), (STATE_FORMAT_HEAD, 3));
        forget();
        assert_eq!(core.state(&id).unwrap().as_ref(), Some(&three));
        // Back to a shorter log (not cached, then cached): the entries past its end go.
        core.write_commit(&[], &two).unwrap();
        assert_eq!(stored(&core), (STATE_FORMAT_HEAD, 2));
        core.write_commit(&[], &three).unwrap();
        core.write_commit(&[], &two).unwrap();
        assert_eq!(stored(&core), (STATE_FORMAT_HEAD, 2));
        forget();
        assert_eq!(core.state(&id).unwrap().as_ref(), Some(&two));
        // A changed entry (an anchor's timestamp reaching the commits before it) is rewritten.
        let proof = ceramic_doctype::AnchorProof {
            chain_id: "eip155:1337".into(),
            root: ceramic_codecs::cid_of(0x71, &[4]),
            tx_hash: ceramic_codecs::cid_of(0x93, &[5]),
            tx_type: None,
        };
        let anchored =
            ceramic_doctype::apply_anchor(&two, ceramic_codecs::cid_of(0x71, &[3]), proof, 9);
        assert_eq!(
            anchored.log()[1].timestamp,
            Some(9),
            "the anchor reaches the entries before it"
        );
        core.write_commit(&[], &anchored).unwrap();
        forget();
        assert_eq!(core.state(&id).unwrap().as_ref(), Some(&anchored));
        // Removing the state removes its entries.
        assert!(core.remove_state(&id).unwrap());
        assert_eq!(core.log_keys(&stream).unwrap().len(), 0);
    }

    #[test]
    fn log_changes_put_what_differs_and_delete_past_the_end() {
        let entry = |n: u8, timestamp| LogEntry {
            cid: ceramic_codecs::cid_of(0x71, &[n]),
            kind: ceramic_doctype::CommitKind::Data,
            timestamp,
        };
        let stored = [entry(0, None), entry(1, None), entry(2, None)];
        let new = [entry(0, None), entry(1, Some(5)), entry(7, None), entry(8, None)];
        let changes: Vec<_> =
            log_changes(&stored, &new).into_iter().map(|(p, e)| (p, e.cloned())).collect();
        assert_eq!(
            changes,
            [(1, Some(new[1].clone())), (2, Some(new[2].clone())), (3, Some(new[3].clone()))]
        );
        let changes: Vec<_> =
            log_changes(&new, &stored[..1]).into_iter().map(|(p, e)| (p, e.cloned())).collect();
        assert_eq!(changes, [(1, None), (2, None), (3, None)]);
        assert!(log_changes(&stored, &stored).is_empty());
    }

    /// A Tile genesis of family `unique` and its state.
    fn cache_genesis(unique: &str) -> (Block, StreamState) {
        use ceramic_codecs::{Codec, GenesisCommit, Header, Payload};
        let header = Header {
            controllers: Some(vec!["did:key:z6Mkcache".into()]),
            family: Some(unique.into()),
            ..Header::default()
        };
        let payload = Payload::Genesis(GenesisCommit { header, data: None });
        let block = Block::encode(Codec::DagCbor, &payload).unwrap();
        let metadata = serde_json::json!({"controllers": ["did:key:z6Mkcache"], "family": unique});
        let state = StreamState::genesis(
            StreamType::TILE,
            *block.cid(),
            serde_json::json!({}),
            metadata.as_object().cloned().unwrap_or_default(),
            SignatureStatus::Genesis,
        )
        .unwrap();
        (block, state)
    }

    #[test]
    fn a_full_stripe_drops_its_least_recently_used_state() {
        let core = crate::MemoryStorage::new();
        // Streams that share one stripe: one more than it holds.
        let (first_block, first) = cache_genesis("lru0");
        let home = stripe(&first.stream_id().to_bytes());
        let mut same: Vec<(Block, StreamState)> = (1..)
            .map(|i| cache_genesis(&format!("lru{i}")))
            .filter(|(_, state)| stripe(&state.stream_id().to_bytes()) == home)
            .take(CACHED_PER_STRIPE)
            .collect();
        same.insert(0, (first_block, first));
        let (last, rest) = same.split_last().unwrap();
        for (block, state) in rest {
            core.write_commit(std::slice::from_ref(block), state).unwrap();
        }
        // The oldest write is read again, so the second oldest is now the least recently used.
        let oldest = rest[0].1.stream_id();
        assert!(core.state(&oldest).unwrap().is_some());
        core.write_commit(std::slice::from_ref(&last.0), &last.1).unwrap();
        let cache = core.cache[home].lock().unwrap();
        assert_eq!(cache.len(), CACHED_PER_STRIPE);
        assert!(cache.contains_key(&oldest), "the stream read last stays");
        assert!(cache.contains_key(&last.1.stream_id()), "the stream written last is cached");
        assert!(!cache.contains_key(&rest[1].1.stream_id()), "the least recently used is gone");
    }

    #[test]
    fn the_state_cache_follows_writes_and_gc() {
        let core = crate::MemoryStorage::new();
        let genesis = cache_genesis;
        // More streams than the cache holds: every one reads back, cached or not.
        let written: Vec<_> = (0..STRIPES * CACHED_PER_STRIPE + 100)
            .map(|i| {
                let (block, state) = genesis(&format!("f{i}"));
                core.write_commit(std::slice::from_ref(&block), &state).unwrap();
                state
            })
            .collect();
        for state in &written {
            assert_eq!(core.state(&state.stream_id()).unwrap().as_ref(), Some(state));
        }
        let cached: usize = core.cache.iter().map(|c| c.lock().unwrap().len()).sum();
        assert!(cached <= STRIPES * CACHED_PER_STRIPE, "{cached}");
        // The index moved with a cached stream's writes (its old terms came from the cache).
        let (block, state) = genesis("f0");
        core.write_commit(std::slice::from_ref(&block), &state).unwrap();
        assert_eq!(core.list_by_family("f0", None, 10).unwrap().streams, [state.stream_id()]);
        // GC removes unpinned streams, and the cache with them.
        core.pin(&written[1].stream_id()).unwrap();
        core.gc().unwrap();
        assert_eq!(core.state(&state.stream_id()).unwrap(), None);
        assert_eq!(core.state(&written[1].stream_id()).unwrap().as_ref(), Some(&written[1]));
    }

    fn arb_state() -> impl proptest::strategy::Strategy<Value = StreamState> {
        use proptest::prelude::*;
        (any::<u8>(), ".{0,20}", proptest::collection::vec(".{0,8}", 0..4), any::<i64>()).prop_map(
            |(seed, text, tags, n)| {
                let genesis = ceramic_codecs::cid_of(0x71, &[seed]);
                let metadata = serde_json::json!({"controllers": [text.clone()], "tags": tags});
                let state = StreamState::genesis(
                    StreamType::TILE,
                    genesis,
                    serde_json::json!({"text": text, "n": n}),
                    metadata.as_object().cloned().unwrap_or_default(),
                    SignatureStatus::Signed,
                )
                .unwrap();
                let data = ceramic_codecs::cid_of(0x85, &n.to_be_bytes());
                state.with_change(data, None, ceramic_doctype::Change::content(None))
            },
        )
    }

    proptest::proptest! {
        #[test]
        fn stored_states_round_trip(state in arb_state()) {
            let id = state.stream_id();
            let none = || Ok(Vec::new());
            proptest::prop_assert_eq!(decode_state(&id, &encode_state(&state), none).unwrap(), state.clone());
            let log = || Ok(state.log().to_vec());
            proptest::prop_assert_eq!(decode_state(&id, &encode_head(&state), log).unwrap(), state.clone());
        }

        #[test]
        fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64), state in arb_state(), flip in proptest::prelude::any::<proptest::sample::Index>()) {
            let id = state.stream_id();
            let log = || Ok(state.log().to_vec());
            let _ = decode_state(&id, &bytes, log);
            let _ = decode_terms(&bytes);
            for mut encoded in [encode_state(&state), encode_head(&state)] {
                let at = flip.index(encoded.len());
                encoded[at] ^= 0x20;
                let _ = decode_state(&id, &encoded, log);
                let _ = decode_state(&id, &encoded[..at], log);
            }
        }

        #[test]
        fn index_terms_round_trip(state in arb_state()) {
            let terms = terms(&state);
            proptest::prop_assert_eq!(decode_terms(&encode_terms(&terms)), Some(terms));
        }
    }

    #[test]
    fn terms_round_trip_and_reject_garbage() {
        let terms: BTreeSet<Term> = [
            (1, "did:key:z6Mk".to_string()),
            (2, "family".to_string()),
            (3, String::new()),
            (3, "ünïcode".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(decode_terms(&encode_terms(&terms)), Some(terms.clone()));
        assert_eq!(decode_terms(&[]), Some(BTreeSet::new()));
        let bytes = encode_terms(&terms);
        for cut in 1..bytes.len() {
            // Every proper cut ends inside a term, except at term boundaries.
            let _ = decode_terms(&bytes[..cut]);
        }
        assert_eq!(decode_terms(&[9, 0, 0, 0, 0]), None);
        assert_eq!(decode_terms(&[1, 0, 0, 0, 5, b'a']), None);
        assert_eq!(decode_terms(&[1, 0, 0, 0, 1, 0xff]), None);
    }
}
