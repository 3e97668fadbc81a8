//! The [`Storage`] trait: blocks and stream states written together, pins, GC and queries.

use ceramic_codecs::{Block, Cid};
use ceramic_doctype::StreamState;
use ceramic_streamid::StreamId;

use crate::BlockSource;
use crate::error::Result;

/// The largest page a query returns; larger limits are lowered to it.
pub const MAX_PAGE: usize = 10_000;

/// What a stream is indexed by (from its current metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum IndexKind {
    /// The first controller (`metadata.controllers[0]`).
    Controller = 1,
    /// `metadata.family`.
    Family = 2,
    /// Each of `metadata.tags`.
    Tag = 3,
    /// `metadata.model`: the Model a ModelInstanceDocument (or Model) is an instance of.
    Model = 4,
    /// `metadata.model` and the controller together (see [`model_controller_term`]).
    ModelController = 5,
}

/// The term of [`IndexKind::ModelController`]: the model's StreamID, a space, the controller.
pub fn model_controller_term(model: &str, controller: &str) -> String {
    format!("{model} {controller}")
}

/// One entry of the event feed: an event (commit) this store stored, at its feed position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedEntry {
    /// The entry's position: 1 for the first event stored, then increasing.
    pub position: u64,
    /// The stream the event belongs to.
    pub stream: StreamId,
    /// The event's CID (the commit's, as in the stream's log).
    pub event: Cid,
}

/// One page of the event feed ([`Storage::feed`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedPage {
    /// The entries after the token asked for, in position order.
    pub entries: Vec<FeedEntry>,
    /// The token to resume after this page: the last entry's position, or the token asked
    /// for when the page is empty.
    pub resume: u64,
}

impl IndexKind {
    pub(crate) fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(IndexKind::Controller),
            2 => Some(IndexKind::Family),
            3 => Some(IndexKind::Tag),
            4 => Some(IndexKind::Model),
            5 => Some(IndexKind::ModelController),
            _ => None,
        }
    }
}

/// One page of StreamIDs, in the order of their bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    /// The streams of this page.
    pub streams: Vec<StreamId>,
    /// Pass this as `after` to get the next page; `None` on the last page.
    pub next: Option<StreamId>,
}

/// What a GC pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GcReport {
    /// Pinned streams, all kept with every block of their logs.
    pub pinned_streams: usize,
    /// Unpinned streams whose state and index entries were removed.
    pub streams_removed: usize,
    /// Blocks removed (reachable from no pinned stream).
    pub blocks_removed: usize,
    /// Blocks kept.
    pub blocks_kept: usize,
    /// Bytes of keys and values removed (states and blocks; index entries not counted).
    pub bytes_freed: u64,
}

/// How much is stored (counted by a full scan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Blocks.
    pub blocks: usize,
    /// Stream states.
    pub streams: usize,
    /// Pins.
    pub pins: usize,
}

/// Blocks and stream states (written together, one atomic batch per commit), pins, GC and
/// queries: what the engine stores through and the node serves from. It is implemented once,
/// for [`Core`](crate::kv::Core) over any [`Backend`](crate::kv::Backend):
/// [`MemoryStorage`](crate::MemoryStorage) here, the RocksDB store in `ceramic-storage-rocks`,
/// with the same behaviour.
///
/// Invariant: every stored state's log is complete, i.e. [`Storage::log_blocks`] succeeds for
/// it. A new stream's state is refused unless each of its log's commits is given or stored, and
/// GC removes an unpinned stream's state before its blocks.
///
/// As a [`BlockSource`] it serves its blocks' bytes, hash-checked.
pub trait Storage: BlockSource {
    /// A block, its hash checked.
    ///
    /// # Errors
    /// [`CorruptBlock`](crate::Error::CorruptBlock) when the stored bytes do not hash to `cid`;
    /// [`Read`](crate::Error::Read) or [`CorruptFile`](crate::Error::CorruptFile).
    fn block(&self, cid: &Cid) -> Result<Option<Block>>;

    /// A stream's stored state.
    ///
    /// # Errors
    /// [`CorruptState`](crate::Error::CorruptState) naming the stream when the value does not
    /// decode; [`Read`](crate::Error::Read) or [`CorruptFile`](crate::Error::CorruptFile).
    fn state(&self, id: &StreamId) -> Result<Option<StreamState>>;

    /// Writes a commit's blocks, the stream's new state and its index entries as one atomic
    /// batch. Blocks are [`Block`]s, so their hashes were
    /// checked when they were made.
    ///
    /// # Errors
    /// [`MissingBlock`](crate::Error::MissingBlock) when the stream is new and a commit of its log
    /// is neither given nor stored; [`InvalidState`](crate::Error::InvalidState);
    /// [`Write`](crate::Error::Write). Nothing is written then.
    fn write_commit(&self, blocks: &[Block], state: &StreamState) -> Result<()>;

    /// [`Storage::write_commit`], and pins the stream. A store may write the pin in the same
    /// atomic batch (the core store does, when the stream is not pinned yet: a stored state's
    /// log is complete, so there is nothing more to check); this default writes, then pins.
    ///
    /// # Errors
    /// As [`Storage::write_commit`] and [`Storage::pin`]; when the pin fails after the commit
    /// was written, the commit stays.
    fn write_commit_pinned(&self, blocks: &[Block], state: &StreamState) -> Result<()> {
        self.write_commit(blocks, state)?;
        self.pin(&state.stream_id())
    }

    /// Every block of `state`'s log from this store, in log order, checking that the log is
    /// complete and intact (see `specs/storage.md`).
    ///
    /// # Errors
    /// [`MissingBlock`](crate::Error::MissingBlock), [`Undecodable`](crate::Error::Undecodable),
    /// [`BrokenLog`](crate::Error::BrokenLog), and read errors.
    fn log_blocks(&self, state: &StreamState) -> Result<Vec<Block>>;

    /// Pins a stream: GC keeps its state and every block of its log. Pinning a pinned stream
    /// does nothing.
    ///
    /// # Errors
    /// [`NotFound`](crate::Error::NotFound) when the stream is not stored; the errors of
    /// [`Storage::log_blocks`] when its log is not complete.
    fn pin(&self, id: &StreamId) -> Result<()>;

    /// Removes a stream's state, its index entries and its pin, as one atomic batch; `false` if
    /// it was not stored. Its blocks stay until the next GC, its feed entries for good (they
    /// record what was stored). For a stream whose genesis is no longer valid (the engine's
    /// `recheck`).
    ///
    /// # Errors
    /// Read and write errors, [`CorruptEntry`](crate::Error::CorruptEntry).
    fn remove_state(&self, id: &StreamId) -> Result<bool>;

    /// Unpins a stream; `false` if it was not pinned. Its data stays until the next GC.
    ///
    /// # Errors
    /// Read and write errors.
    fn unpin(&self, id: &StreamId) -> Result<bool>;

    /// Whether a stream is pinned.
    ///
    /// # Errors
    /// Read errors.
    fn is_pinned(&self, id: &StreamId) -> Result<bool>;

    /// A page of the pinned streams after `after` (at most `limit`, within 1..=[`MAX_PAGE`]).
    ///
    /// # Errors
    /// Read errors, [`CorruptEntry`](crate::Error::CorruptEntry).
    fn pins(&self, after: Option<&StreamId>, limit: usize) -> Result<Page>;

    /// A page of all stored streams after `after` (at most `limit`, within 1..=[`MAX_PAGE`]).
    ///
    /// # Errors
    /// Read errors, [`CorruptEntry`](crate::Error::CorruptEntry).
    fn streams(&self, after: Option<&StreamId>, limit: usize) -> Result<Page>;

    /// A page of the streams whose current metadata has `term` for `kind` (see
    /// [`Storage::list_by_controller`] and friends).
    ///
    /// # Errors
    /// Read errors, [`CorruptEntry`](crate::Error::CorruptEntry).
    fn list(
        &self,
        kind: IndexKind,
        term: &str,
        after: Option<&StreamId>,
        limit: usize,
    ) -> Result<Page>;

    /// A page of the streams whose first controller is `controller`.
    ///
    /// # Errors
    /// As [`Storage::list`].
    fn list_by_controller(
        &self,
        controller: &str,
        after: Option<&StreamId>,
        limit: usize,
    ) -> Result<Page> {
        self.list(IndexKind::Controller, controller, after, limit)
    }

    /// A page of the streams whose family is `family`.
    ///
    /// # Errors
    /// As [`Storage::list`].
    fn list_by_family(&self, family: &str, after: Option<&StreamId>, limit: usize) -> Result<Page> {
        self.list(IndexKind::Family, family, after, limit)
    }

    /// A page of the streams tagged `tag`.
    ///
    /// # Errors
    /// As [`Storage::list`].
    fn list_by_tag(&self, tag: &str, after: Option<&StreamId>, limit: usize) -> Result<Page> {
        self.list(IndexKind::Tag, tag, after, limit)
    }

    /// A page of the streams whose current `metadata.model` is `model` (a StreamID string),
    /// of any controller or of `controller` only.
    ///
    /// # Errors
    /// As [`Storage::list`].
    fn list_by_model(
        &self,
        model: &str,
        controller: Option<&str>,
        after: Option<&StreamId>,
        limit: usize,
    ) -> Result<Page> {
        match controller {
            None => self.list(IndexKind::Model, model, after, limit),
            Some(controller) => self.list(
                IndexKind::ModelController,
                &model_controller_term(model, controller),
                after,
                limit,
            ),
        }
    }

    /// The event feed after position `after` (0: from the start), at most `limit` entries
    /// (within 1..=[`MAX_PAGE`]). Every commit [`Storage::write_commit`] stores gets the next
    /// position in the same atomic batch, and an entry becomes visible only once every earlier
    /// position is settled, so a reader that resumes from a page's
    /// [`resume`](FeedPage::resume) token misses nothing and sees nothing twice, across restarts.
    ///
    /// # Errors
    /// Read errors, [`CorruptEntry`](crate::Error::CorruptEntry).
    fn feed(&self, after: u64, limit: usize) -> Result<FeedPage>;

    /// The highest visible feed position (0 when nothing was stored): the token that resumes
    /// with the next event stored.
    ///
    /// # Errors
    /// Read errors.
    fn feed_head(&self) -> Result<u64>;

    /// Removes what no pinned stream needs: the states and index entries of unpinned streams,
    /// then every block not in a pinned stream's log ([`Storage::log_blocks`]). Writes wait
    /// while it runs; reads do not. If any pinned stream's log cannot be walked, nothing is
    /// removed.
    ///
    /// # Errors
    /// The errors of [`Storage::log_blocks`] for a pinned stream;
    /// [`CorruptEntry`](crate::Error::CorruptEntry) for a pin without state; read and write
    /// errors (a GC stopped midway leaves a consistent store: rerun it).
    fn gc(&self) -> Result<GcReport>;

    /// Counts what is stored (a full scan).
    ///
    /// # Errors
    /// Read errors.
    fn stats(&self) -> Result<Stats>;
}
