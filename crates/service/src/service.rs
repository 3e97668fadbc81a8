//! [`Service`]: the node's operations as one typed async API over the [`Engine`] and its
//! [`Storage`]. Every engine and storage call is synchronous (signature checks, RocksDB I/O) and
//! runs through [`Service::blocking`] on tokio's blocking pool.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use ceramic_codecs::{Block, Cid};
use ceramic_doctype::{AnchorStatus, StreamState};
use ceramic_engine::{ApplyError, Engine, Expect};
use ceramic_storage::{MAX_PAGE, Storage};
use ceramic_streamid::{StreamId, StreamRef, StreamType};

use crate::anchor::{AnchorRequester, NetworkLoader};
use crate::error::{AnchorError, LoadError, TaskError, WriteError};
use crate::hooks::{HookEvent, HookEventKind, HookInfo, Hooks, Verdict};
use crate::{Info, Metrics, Updates};

/// The most blocks one write may carry (a signed commit needs two or three; an anchor commit its
/// proof and a Merkle path of at most a few dozen nodes).
pub const MAX_BLOCKS: usize = 1_000;
/// The page size when a query asks for 0.
pub const DEFAULT_PAGE: usize = 100;

/// A commit as a client sends it: its CID (the envelope's for a signed commit) and the blocks
/// that came with it, each already checked against its CID (a [`Block`] cannot be made
/// otherwise). Blocks the node already stores may be left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitBlocks {
    cid: Cid,
    blocks: Vec<Block>,
}

impl CommitBlocks {
    /// Commit `cid` with `blocks`.
    ///
    /// # Errors
    /// [`WriteError::TooManyBlocks`] over [`MAX_BLOCKS`].
    pub fn new(cid: Cid, blocks: Vec<Block>) -> Result<Self, WriteError> {
        if blocks.len() > MAX_BLOCKS {
            return Err(WriteError::TooManyBlocks { got: blocks.len(), max: MAX_BLOCKS });
        }
        Ok(CommitBlocks { cid, blocks })
    }

    /// The commit's CID.
    pub fn cid(&self) -> &Cid {
        &self.cid
    }

    /// The blocks that came with it.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }
}

/// A stream's state with every block of its log (commits, payloads, anchor proofs and Merkle
/// paths), for front-ends that serialize commits.
#[derive(Debug, Clone)]
pub struct CommitLog {
    /// The state (its log names the commits, genesis first).
    pub state: StreamState,
    /// The log's blocks by CID; empty unless they were asked for.
    pub blocks: HashMap<Cid, Block>,
}

/// What an anchor request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchorRequested {
    /// The stream.
    pub stream: StreamId,
    /// The tip that was sent to be anchored.
    pub tip: Cid,
    /// The stream's anchor status after the request (usually PENDING).
    pub status: AnchorStatus,
}

/// The node service. Cheap to clone (one `Arc`); every method takes `&self`.
///
/// Writes and loads go through the engine; pins and queries straight to the storage the engine
/// was built on. Concurrent writes to one stream are serialized by the engine: of several writes
/// on one tip exactly one wins and the others are [`ErrorKind::Stale`](crate::ErrorKind::Stale).
/// Dropping any returned future midway is safe: a started engine or storage call runs to
/// completion on the blocking pool, and each write is one atomic batch.
#[derive(Clone)]
pub struct Service {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) engine: Arc<Engine>,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) info: Info,
    pub(crate) updates: Updates,
    pub(crate) metrics: Metrics,
    pub(crate) anchor: Option<Arc<dyn AnchorRequester>>,
    pub(crate) network: Option<Arc<dyn NetworkLoader>>,
    pub(crate) hooks: Option<Arc<dyn Hooks>>,
    pub(crate) pin_on_write: bool,
    pub(crate) backups: Vec<Arc<ceramic_backup::Runner>>,
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("engine", &self.inner.engine)
            .field("info", &self.inner.info)
            .field("anchoring", &self.inner.anchor.is_some())
            .field("network", &self.inner.network.is_some())
            .finish_non_exhaustive()
    }
}

/// Builds a [`Service`]: the engine and its storage, then what the node has.
#[derive(Debug)]
pub struct ServiceBuilder {
    inner: Inner,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inner").field("info", &self.info).finish_non_exhaustive()
    }
}

impl ServiceBuilder {
    /// Reports `info` (network, doctypes, anchor verifier).
    #[must_use]
    pub fn with_info(mut self, info: Info) -> Self {
        self.inner.info = info;
        self
    }

    /// Subscriptions follow `updates`, which must be (part of) the engine's publisher; without
    /// it subscribers only get the state they start with.
    #[must_use]
    pub fn with_updates(mut self, updates: Updates) -> Self {
        self.inner.updates = updates;
        self
    }

    /// Counts in `metrics` (shared with the rest of the node) instead of fresh ones.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.inner.metrics = metrics;
        self
    }

    /// Anchors through `requester`.
    #[must_use]
    pub fn with_anchor_requester(mut self, requester: Arc<dyn AnchorRequester>) -> Self {
        self.inner.anchor = Some(requester);
        self
    }

    /// Looks for unknown streams through `loader` (the network).
    #[must_use]
    pub fn with_network_loader(mut self, loader: Arc<dyn NetworkLoader>) -> Self {
        self.inner.network = Some(loader);
        self
    }

    /// Runs `hooks` around writes and on events (`specs/hooks.md`).
    #[must_use]
    pub fn with_hooks(mut self, hooks: Arc<dyn Hooks>) -> Self {
        self.inner.hooks = Some(hooks);
        self
    }

    /// Pins the stream of every write that does not say whether to pin (`pin: None`); without
    /// it such writes leave the stream's pin as it is.
    #[must_use]
    pub fn with_pin_on_write(mut self, pin: bool) -> Self {
        self.inner.pin_on_write = pin;
        self
    }

    /// Backs up to `runners` (their status, runs and restores: `Service::backups`).
    #[must_use]
    pub fn with_backups(mut self, runners: Vec<Arc<ceramic_backup::Runner>>) -> Self {
        self.inner.backups = runners;
        self
    }

    /// The service.
    pub fn build(self) -> Service {
        Service { inner: Arc::new(self.inner) }
    }
}

impl Service {
    /// A service over `engine`, which must have been built over `storage`.
    pub fn builder(engine: Arc<Engine>, storage: Arc<dyn Storage>) -> ServiceBuilder {
        let inner = Inner {
            engine,
            storage,
            info: Info::new("inmemory"),
            updates: Updates::new(),
            metrics: Metrics::new(),
            anchor: None,
            network: None,
            hooks: None,
            pin_on_write: false,
            backups: Vec::new(),
        };
        ServiceBuilder { inner }
    }

    /// What the node reports about itself.
    pub fn info(&self) -> &Info {
        &self.inner.info
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The engine (for the node's own tasks, e.g. applying anchors).
    pub fn engine(&self) -> &Arc<Engine> {
        &self.inner.engine
    }

    /// The storage (for the node's own tasks, e.g. the network's block serving).
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.inner.storage
    }

    pub(crate) fn updates(&self) -> &Updates {
        &self.inner.updates
    }

    /// Runs `f` on the blocking pool: the one way the service calls the engine and storage.
    /// Dropping the returned future midway is safe: `f` runs to completion.
    ///
    /// # Errors
    /// [`TaskError`] when `f` panicked or the runtime is stopping.
    pub(crate) async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> T + Send + 'static,
    ) -> Result<T, TaskError> {
        let inner = self.inner.clone();
        Ok(tokio::task::spawn_blocking(move || f(&inner)).await?)
    }

    /// Creates a stream from its genesis commit (or returns it when it exists).
    ///
    /// # Errors
    /// [`WriteError`]: a commit that is not a genesis is
    /// [`ApplyError::NotGenesis`]; every refusal of the engine.
    pub async fn create(
        &self,
        stream_type: StreamType,
        commit: CommitBlocks,
    ) -> Result<StreamState, WriteError> {
        self.write(stream_type, commit, Expect::Genesis).await
    }

    /// Applies a data or anchor commit to its stream; when `stream` is given, the commit must
    /// write to it.
    ///
    /// # Errors
    /// [`WriteError`]: a genesis is [`ApplyError::GenesisNotAllowed`], a commit of another
    /// stream [`ApplyError::WrongStream`], a commit not on the tip [`ApplyError::Stale`].
    pub async fn apply(
        &self,
        stream_type: StreamType,
        commit: CommitBlocks,
        stream: Option<StreamId>,
    ) -> Result<StreamState, WriteError> {
        self.write(stream_type, commit, Expect::Update(stream)).await
    }

    /// [`Service::create`], then the pin js-ceramic's `opts.pin` asks for: `Some(true)` pins
    /// the stream, `Some(false)` unpins it, `None` pins it when the service pins on write
    /// ([`ServiceBuilder::with_pin_on_write`]) and otherwise leaves it. No GC runs between the
    /// write and the pin.
    ///
    /// # Errors
    /// As [`Service::create`].
    pub async fn create_pinned(
        &self,
        stream_type: StreamType,
        commit: CommitBlocks,
        pin: Option<bool>,
    ) -> Result<StreamState, WriteError> {
        self.write_with(stream_type, commit, Expect::Genesis, pin).await
    }

    /// [`Service::apply`], then `pin` as [`Service::create_pinned`].
    ///
    /// # Errors
    /// As [`Service::apply`].
    pub async fn apply_pinned(
        &self,
        stream_type: StreamType,
        commit: CommitBlocks,
        stream: Option<StreamId>,
        pin: Option<bool>,
    ) -> Result<StreamState, WriteError> {
        self.write_with(stream_type, commit, Expect::Update(stream), pin).await
    }

    async fn write(
        &self,
        stream_type: StreamType,
        commit: CommitBlocks,
        expect: Expect,
    ) -> Result<StreamState, WriteError> {
        self.write_with(stream_type, commit, expect, None).await
    }

    async fn write_with(
        &self,
        stream_type: StreamType,
        commit: CommitBlocks,
        expect: Expect,
        pin: Option<bool>,
    ) -> Result<StreamState, WriteError> {
        let cid = commit.cid;
        let result = self
            .blocking(move |inner| {
                let pin = pin.or(inner.pin_on_write.then_some(true));
                match inner.hooks.as_ref().filter(|h| h.checks_writes()) {
                    None => inner
                        .engine
                        .apply_write_pinned(stream_type, commit.cid, &commit.blocks, expect, pin)
                        .map_err(WriteError::from),
                    Some(hooks) => inner.engine.apply_write_checked(
                        stream_type,
                        commit.cid,
                        &commit.blocks,
                        expect,
                        pin,
                        &mut |state| match hooks.before_write(state, &commit.cid) {
                            Verdict::Allow => Ok(()),
                            Verdict::Veto { hook, reason } => Err(WriteError::Vetoed {
                                stream: Box::new(state.stream_id()),
                                hook,
                                reason,
                            }),
                        },
                    ),
                }
            })
            .await
            .map_err(WriteError::from)
            .and_then(|applied| applied);
        match &result {
            Ok(state) => {
                self.inner.metrics.commits_applied(1);
                self.notify(HookEvent {
                    kind: HookEventKind::CommitApplied,
                    stream: Some(state.stream_id()),
                    commit: Some(cid),
                    state: Some(state.clone()),
                    reason: None,
                });
            }
            Err(e) => {
                let kind = e.kind();
                self.inner.metrics.write_rejected(kind.name());
                kind.log(e);
                self.notify(HookEvent {
                    kind: HookEventKind::Rejected,
                    stream: e.stream(),
                    commit: Some(cid),
                    state: None,
                    reason: Some(e.to_string()),
                });
            }
        }
        result
    }

    /// Tells the hooks about `event` (the node's anchoring calls it for anchors applied);
    /// nothing without hooks.
    pub fn notify(&self, event: HookEvent) {
        if let Some(hooks) = &self.inner.hooks {
            hooks.on_event(event, self);
        }
    }

    /// The configured hooks with their counts (empty without hooks).
    pub fn hooks(&self) -> Vec<HookInfo> {
        self.inner.hooks.as_ref().map(|h| h.list()).unwrap_or_default()
    }

    /// The state a [`StreamRef`] names: a stream's current state, or the state at a commit; with
    /// `at_time` (unix seconds, StreamIDs only) the state at the last anchor at or before it. A
    /// stream the node does not have is first looked for on the network, when there is one.
    ///
    /// # Errors
    /// [`LoadError`]; an unknown stream or commit has [`ErrorKind::NotFound`](crate::ErrorKind).
    pub async fn load(
        &self,
        id: StreamRef,
        at_time: Option<u64>,
    ) -> Result<StreamState, LoadError> {
        if matches!(id, StreamRef::Commit(_)) && at_time.is_some() {
            return Err(LoadError::TimeWithCommit);
        }
        match self.load_local(id, at_time).await {
            Err(e) if e.is_not_found() && self.fetch(id.stream_id()).await => {
                self.load_local(id, at_time).await
            }
            other => other,
        }
    }

    /// Looks for a stream the node does not store on the network; whether it was found.
    async fn fetch(&self, stream: StreamId) -> bool {
        let Some(loader) = self.inner.network.clone() else { return false };
        match self.blocking(move |inner| inner.storage.state(&stream)).await {
            // The stream is here; what is missing (a commit) is not the network's to find.
            Ok(Ok(Some(_))) => return false,
            Ok(Ok(None)) => {}
            Ok(Err(_)) | Err(_) => return false,
        }
        match loader.load(stream).await {
            Ok(found) => found,
            Err(reason) => {
                tracing::debug!(%stream, %reason, "network load failed");
                false
            }
        }
    }

    async fn load_local(
        &self,
        id: StreamRef,
        at_time: Option<u64>,
    ) -> Result<StreamState, LoadError> {
        let loaded = self
            .blocking(move |inner| match (id, at_time) {
                (StreamRef::Stream(id), None) => inner.engine.load(&id),
                (StreamRef::Stream(id), Some(at)) => inner.engine.load_at_time(&id, at),
                (StreamRef::Commit(id), _) => inner.engine.load_at_commit(&id),
            })
            .await?;
        Ok(loaded?)
    }

    /// The stream's current state, `None` when this node does not store it (no network look-up).
    ///
    /// # Errors
    /// [`LoadError`] when storage fails.
    pub async fn current(&self, stream: StreamId) -> Result<Option<StreamState>, LoadError> {
        match self.blocking(move |inner| inner.engine.load(&stream)).await? {
            Ok(state) => Ok(Some(state)),
            Err(ApplyError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The state [`Service::load`] gives (no time), with every block of its log when
    /// `with_blocks` (to serialize the commits).
    ///
    /// # Errors
    /// As [`Service::load`], and storage errors reading the blocks.
    pub async fn commits(&self, id: StreamRef, with_blocks: bool) -> Result<CommitLog, LoadError> {
        let state = self.load(id, None).await?;
        if !with_blocks {
            return Ok(CommitLog { state, blocks: HashMap::new() });
        }
        self.blocking(move |inner| {
            let blocks = inner.storage.log_blocks(&state)?;
            let blocks = blocks.into_iter().map(|b| (*b.cid(), b)).collect();
            Ok(CommitLog { state, blocks })
        })
        .await?
    }

    /// Requests an anchor of the stream's current tip (loading the stream first, from the
    /// network if need be).
    ///
    /// # Errors
    /// [`AnchorError::NotConfigured`] without anchoring; load and anchor service errors.
    pub async fn request_anchor(&self, stream: StreamId) -> Result<AnchorRequested, AnchorError> {
        let Some(requester) = self.inner.anchor.clone() else {
            return Err(AnchorError::NotConfigured);
        };
        let state = self.load(StreamRef::Stream(stream), None).await?;
        let tip = state.tip();
        let status = requester.request_anchor(stream, tip).await?;
        Ok(AnchorRequested { stream, tip, status })
    }

    /// Requests an anchor of `tip` without waiting (after a write that asked for one); a
    /// failure is logged. Does nothing without anchoring.
    pub fn request_anchor_later(&self, stream: StreamId, tip: Cid) {
        let Some(requester) = self.inner.anchor.clone() else { return };
        tokio::spawn(async move {
            if let Err(error) = requester.request_anchor(stream, tip).await {
                tracing::warn!(%stream, %error, "anchor request failed");
            }
        });
    }

    /// Whether the node anchors (a requester is configured).
    pub fn anchors(&self) -> bool {
        self.inner.anchor.is_some()
    }
}

/// `limit` 0 → [`DEFAULT_PAGE`]; at most [`MAX_PAGE`].
pub(crate) fn page_limit(limit: usize) -> usize {
    match limit {
        0 => DEFAULT_PAGE,
        n => n.min(MAX_PAGE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_limits_default_and_cap() {
        assert_eq!(page_limit(0), DEFAULT_PAGE);
        assert_eq!(page_limit(7), 7);
        assert_eq!(page_limit(usize::MAX), MAX_PAGE);
    }

    #[test]
    fn a_write_carries_a_bounded_number_of_blocks() {
        let block = Block::from_data(ceramic_codecs::Codec::DagCbor, vec![0xa0]).unwrap();
        let cid = *block.cid();
        assert!(CommitBlocks::new(cid, vec![block.clone(); MAX_BLOCKS]).is_ok());
        let e = CommitBlocks::new(cid, vec![block; MAX_BLOCKS + 1]).unwrap_err();
        assert!(matches!(e, WriteError::TooManyBlocks { got, .. } if got == MAX_BLOCKS + 1));
    }
}
