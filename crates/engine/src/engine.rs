//! The [`Engine`]: loading, client writes, network tips and conflict resolution.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, Weak};

use ceramic_codecs::{Block, Cid, Payload};
use ceramic_did::{
    CachingResolver, DeferredSource, Registry as DidRegistry, Resolver, ThreeIdResolver,
};
use ceramic_doctype::{
    Commit, CommitKind, Context, ContextError, DynDoctype, Registry, StreamState, apply_anchor,
};
use ceramic_streamid::{CommitId, StreamId, StreamType};

use crate::conflict::{Winner, pick_log_to_accept, winner_tip};
use ceramic_anchor::AnchorVerifier;
use ceramic_storage::{BlockSource, GcReport, Storage};

use crate::log::{LoadedCommit, load_commit, verify_anchor_path};
use crate::{ApplyError, Publisher, StreamFetcher};

/// The longest log the engine walks.
const MAX_LOG: usize = 100_000;
/// How deeply doctypes may load other streams while applying (a schema's schema's …).
const MAX_NESTING: usize = 4;
/// How many decoded DID documents the default resolver keeps.
const RESOLVER_CACHE: usize = 10_000;

/// What became of a tip heard from the network.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TipOutcome {
    /// The tip is already in the log, or the local branch won: nothing changed.
    Unchanged,
    /// The stream was unknown and is now stored with this state.
    Created(StreamState),
    /// The tip extended the log or its branch won; this is the new state.
    Accepted(StreamState),
}

/// Blocks given with a request, in front of the store.
struct Overlay<'a> {
    first: &'a dyn BlockSource,
    then: &'a dyn BlockSource,
}

impl BlockSource for Overlay<'_> {
    fn get_block(&self, cid: &Cid) -> ceramic_storage::Result<Option<Vec<u8>>> {
        match self.first.get_block(cid)? {
            Some(data) => Ok(Some(data)),
            None => self.then.get_block(cid),
        }
    }
}

pub(crate) struct Blocks<'a>(pub(crate) &'a HashMap<Cid, Vec<u8>>);

/// Blocks given with a client write, borrowed (copied only when the engine reads one).
struct BorrowedBlocks<'a>(&'a HashMap<Cid, &'a [u8]>);

impl BlockSource for BorrowedBlocks<'_> {
    fn get_block(&self, cid: &Cid) -> ceramic_storage::Result<Option<Vec<u8>>> {
        Ok(self.0.get(cid).map(|data| data.to_vec()))
    }
}

/// What kind of commit a client write must be ([`Engine::apply_write`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expect {
    /// Any commit (a genesis creates the stream, others update it).
    Any,
    /// A genesis commit (js `POST /streams`, gRPC `CreateStream`).
    Genesis,
    /// A data or anchor commit, of this stream when one is named (js `POST /commits`).
    Update(Option<StreamId>),
}

impl BlockSource for Blocks<'_> {
    fn get_block(&self, cid: &Cid) -> ceramic_storage::Result<Option<Vec<u8>>> {
        Ok(self.0.get(cid).cloned())
    }
}

/// Loads, applies and stores streams. Cheap to share behind an `Arc`; every method takes
/// `&self`. Methods are synchronous and safe to abandon midway: state is only written by one
/// atomic [`Storage::write_commit`] at the end.
pub struct Engine {
    pub(crate) store: Arc<dyn Storage>,
    registry: Registry,
    anchors: Arc<dyn AnchorVerifier>,
    pub(crate) publisher: Arc<dyn Publisher>,
    resolver: Arc<dyn Resolver>,
    /// CACAOs whose wallet signature verified, by CID.
    cacaos: ceramic_did::CacaoVerifier,
    /// Writes to one stream (check the tip, then store) are serialized by one of these, chosen
    /// by the StreamID; commits are loaded and signatures verified before taking it.
    write_locks: Box<[Mutex<()>]>,
    /// Held for reading by every write (from reading the stream's state to storing the new one,
    /// and the pin that goes with it) and for writing by [`Engine::gc`], so GC never runs
    /// between a write's read and its store (it would remove the log the write extends).
    gc_gate: RwLock<()>,
    /// Where 3ID streams this node does not store are looked for (see [`Engine::with_three_id`]).
    pub(crate) three_id_fetcher: Option<Arc<dyn StreamFetcher>>,
}

/// How many locks serialize writes (streams share a lock when their ids hash alike: with 128
/// streams written at once, about two pairs share one).
const WRITE_LOCKS: usize = 4096;

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("registry", &self.registry).finish_non_exhaustive()
    }
}

/// The engine's [`Context`] for doctypes: loads other streams from the same blocks.
struct EngineContext<'a> {
    engine: &'a Engine,
    source: &'a dyn BlockSource,
    depth: usize,
}

impl Context for EngineContext<'_> {
    fn load_content(&self, id: &CommitId) -> Result<serde_json::Value, ContextError> {
        let state = self
            .engine
            .state_at_depth(self.source, &id.stream_id(), id.commit(), self.depth + 1)
            .map_err(|e| match e {
                ApplyError::MissingBlock(_) => ContextError::NotFound(*id),
                other => ContextError::Failed { id: *id, source: Box::new(other) },
            })?;
        Ok(state.current_content().clone())
    }

    fn load_state(&self, stream: &StreamId) -> Result<Option<StreamState>, ContextError> {
        self.engine.store.state(stream).map_err(|e| ContextError::Failed {
            id: stream.genesis_commit_id(),
            source: Box::new(e),
        })
    }
}

impl Engine {
    /// An engine over `store` with the doctypes of `registry`, resolving did:key signers.
    pub fn new(
        store: Arc<dyn Storage>,
        registry: Registry,
        anchors: Arc<dyn AnchorVerifier>,
        publisher: Arc<dyn Publisher>,
    ) -> Self {
        let resolver = Arc::new(CachingResolver::new(DidRegistry::default(), RESOLVER_CACHE));
        let write_locks = (0..WRITE_LOCKS).map(|_| Mutex::new(())).collect();
        let cacaos = ceramic_did::CacaoVerifier::default();
        let gc_gate = RwLock::new(());
        Engine {
            store,
            registry,
            anchors,
            publisher,
            resolver,
            cacaos,
            write_locks,
            gc_gate,
            three_id_fetcher: None,
        }
    }

    /// Holds off [`Engine::gc`] for the life of the guard. Never taken twice by one thread
    /// (std's `RwLock` may deadlock on a nested read while GC waits).
    pub(crate) fn hold_gc(&self) -> RwLockReadGuard<'_, ()> {
        self.gc_gate.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Garbage collection ([`Storage::gc`]) that waits for the writes in flight and holds new
    /// ones until it is done: a write that read a stream's state before GC stores its new state
    /// with the whole log, or a write that starts after finds the stream gone
    /// ([`ApplyError::NotFound`]); never a write acknowledged and then lost, or refused for a
    /// block GC removed under it. GC through the store directly does not get this.
    ///
    /// # Errors
    /// [`ApplyError::Store`] with the errors of [`Storage::gc`].
    pub fn gc(&self) -> Result<GcReport, ApplyError> {
        let _gate = self.gc_gate.write().unwrap_or_else(PoisonError::into_inner);
        Ok(self.store.gc()?)
    }

    /// [`Engine::apply_write`], then `pin` (`Some(true)` pins the stream, `Some(false)` unpins
    /// it, `None` leaves its pin as it is) with no GC in between: a write acknowledged as
    /// pinned is never collected.
    ///
    /// # Errors
    /// As [`Engine::apply_write`], and [`ApplyError::Store`] when the pin fails (the commit is
    /// stored then).
    pub fn apply_write_pinned(
        &self,
        stream_type: StreamType,
        commit: Cid,
        blocks: &[Block],
        expect: Expect,
        pin: Option<bool>,
    ) -> Result<StreamState, ApplyError> {
        self.apply_write_checked(stream_type, commit, blocks, expect, pin, &mut |_| Ok(()))
    }

    /// The write lock of `stream`, held from reading its tip until its new state is stored.
    /// A panic while it was held left nothing half-written (stores are atomic), so a poisoned
    /// lock is taken over.
    pub(crate) fn write_lock(&self, stream: &StreamId) -> MutexGuard<'_, ()> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        stream.hash(&mut hasher);
        let index = usize::try_from(hasher.finish() % WRITE_LOCKS as u64).unwrap_or_default();
        self.write_locks[index].lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Looks for 3ID streams this node does not store through `fetcher` (the node's network)
    /// before resolving them as not found. Takes effect with [`Engine::with_three_id`].
    pub fn with_three_id_fetcher(mut self, fetcher: Arc<dyn StreamFetcher>) -> Self {
        self.three_id_fetcher = Some(fetcher);
        self
    }

    /// Wraps the engine in an `Arc` whose resolver also resolves did:3 (3ID) from the engine's
    /// own streams, and those it does not store through its fetcher
    /// ([`Engine::with_three_id_fetcher`]), replacing a resolver set with
    /// [`Engine::with_resolver`].
    pub fn with_three_id(self) -> Arc<Engine> {
        let source = Arc::new(DeferredSource::default());
        let registry = DidRegistry::default().with("3", ThreeIdResolver::new(source.clone()));
        let engine =
            Arc::new(self.with_resolver(Arc::new(CachingResolver::new(registry, RESOLVER_CACHE))));
        let weak: Weak<Engine> = Arc::downgrade(&engine);
        source.set(weak);
        engine
    }

    /// Uses `resolver` for signers' DIDs instead of the default (did:key, cached).
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolver>) -> Self {
        self.resolver = resolver;
        self
    }

    fn doctype(&self, stream_type: StreamType) -> Result<&dyn DynDoctype, ApplyError> {
        self.registry.get(stream_type).ok_or(ApplyError::UnknownStreamType(stream_type))
    }

    /// Walks `prev` links back from `tip` until a commit for which `known` is true (not loaded)
    /// or a genesis. Returns the commits oldest first, the blocks of each, and the known commit
    /// the walk stopped at, if any.
    #[allow(clippy::type_complexity)] // a private helper's tuple, named at each use
    fn fetch_back(
        &self,
        source: &dyn BlockSource,
        tip: Cid,
        known: &dyn Fn(&Cid) -> bool,
    ) -> Result<(Vec<LoadedCommit>, Vec<Vec<Block>>, Option<Cid>), ApplyError> {
        let mut commits = Vec::new();
        let mut blocks = Vec::new();
        let mut seen = HashSet::new();
        let mut at = tip;
        let stop = loop {
            if known(&at) {
                break Some(at);
            }
            if commits.len() >= MAX_LOG || !seen.insert(at) {
                return Err(ApplyError::LogTooLong { max: MAX_LOG });
            }
            let (commit, mut commit_blocks) =
                load_commit(source, self.resolver.as_ref(), &self.cacaos, at)?;
            if let LoadedCommit::Anchor { cid, commit: anchor, proof } = &commit {
                commit_blocks.extend(verify_anchor_path(
                    source,
                    *cid,
                    proof.root,
                    &anchor.path,
                    anchor.prev,
                )?);
            }
            let prev = commit.prev();
            commits.push(commit);
            blocks.push(commit_blocks);
            match prev {
                Some(prev) => at = prev,
                None => break None,
            }
        };
        commits.reverse();
        blocks.reverse();
        Ok((commits, blocks, stop))
    }

    /// Verifies the anchors among `commits`, giving each commit the timestamp of the first valid
    /// anchor at or after it (as js-ceramic's anchor timestamp extractor does), and each anchor
    /// its verification result.
    fn timestamps(&self, commits: &[LoadedCommit]) -> Vec<Result<Option<u64>, ApplyError>> {
        let mut out: Vec<Result<Option<u64>, ApplyError>> = Vec::with_capacity(commits.len());
        let mut covering = None;
        for commit in commits.iter().rev() {
            match commit {
                LoadedCommit::Anchor { cid, proof, .. } => match self.anchors.verify(proof) {
                    Ok(t) => {
                        covering = Some(t);
                        out.push(Ok(Some(t)));
                    }
                    Err(source) => {
                        out.push(Err(ApplyError::Anchor { cid: Box::new(*cid), source }))
                    }
                },
                LoadedCommit::Change { .. } => out.push(Ok(covering)),
            }
        }
        out.reverse();
        out
    }

    /// Applies one commit on top of `state` (`None` before the genesis).
    fn apply_one(
        &self,
        stream: &StreamId,
        state: Option<&StreamState>,
        commit: &LoadedCommit,
        timestamp: Result<Option<u64>, ApplyError>,
        ctx: &EngineContext<'_>,
    ) -> Result<StreamState, ApplyError> {
        let cid = commit.cid();
        let doctype = self.doctype(stream.stream_type())?;
        let Some(state) = state else {
            let LoadedCommit::Change {
                payload: payload @ Payload::Genesis(_),
                signer,
                capability,
                cacao,
                ..
            } = commit
            else {
                return Err(ApplyError::WrongKind {
                    cid: Box::new(cid),
                    kind: commit.kind(),
                    expected: "genesis",
                });
            };
            if cid != stream.cid() {
                return Err(ApplyError::NotThisStream {
                    expected: Box::new(stream.cid()),
                    got: Box::new(cid),
                });
            }
            let timestamp = timestamp?;
            self.check_key_time(cid, commit, timestamp)?;
            let signer = session_signer(stream, cid, signer, cacao, timestamp)?;
            let view = commit_view(cid, payload, signer, capability, timestamp);
            // The doctype decides what the genesis makes; the SDK builds the state.
            let genesis = doctype
                .apply_genesis(&view, ctx)
                .map_err(|source| ApplyError::Rejected { cid: Box::new(cid), source })?;
            return Ok(StreamState::from_genesis(*stream, view.timestamp, genesis));
        };
        // Every commit after the genesis names the stream and builds on the tip
        // (js `assertCommitLinksToState`; an anchor commit may lack `id`).
        if let Some(id) = commit.id()
            && id != stream.cid()
        {
            return Err(ApplyError::WrongStream {
                cid: Box::new(cid),
                expected: Box::new(stream.cid()),
                got: Box::new(id),
            });
        }
        let prev = commit.prev().ok_or(ApplyError::WrongKind {
            cid: Box::new(cid),
            kind: "genesis",
            expected: "data or anchor",
        })?;
        if prev != state.tip() {
            return Err(ApplyError::NotOnTip {
                cid: Box::new(cid),
                prev: Box::new(prev),
                tip: Box::new(state.tip()),
            });
        }
        match commit {
            LoadedCommit::Change { payload, signer, capability, cacao, .. } => {
                let timestamp = timestamp?;
                self.check_key_time(cid, commit, timestamp)?;
                let signer = session_signer(stream, cid, signer, cacao, timestamp)?;
                let view = commit_view(cid, payload, signer, capability, timestamp);
                // The doctype returns the change; the SDK appends the log entry.
                let change = doctype
                    .apply_data(state, &view, ctx)
                    .map_err(|source| ApplyError::Rejected { cid: Box::new(cid), source })?;
                Ok(state.with_change(cid, view.timestamp, change))
            }
            LoadedCommit::Anchor { proof, .. } => {
                let t = timestamp?.unwrap_or_default();
                Ok(apply_anchor(state, cid, proof.clone(), t))
            }
        }
    }

    /// The signing key's rotation rules at the commit's anchor time (did:3: js `verifyJWS`
    /// `atTime`); the signature itself was verified when the commit was loaded.
    fn check_key_time(
        &self,
        cid: Cid,
        commit: &LoadedCommit,
        timestamp: Option<u64>,
    ) -> Result<(), ApplyError> {
        if let LoadedCommit::Change { kid: Some(kid), .. } = commit {
            self.resolver
                .check_key_time(kid, timestamp)
                .map_err(|source| ApplyError::Signature { cid: Box::new(cid), source })?;
        }
        Ok(())
    }

    /// Applies `commits` in order on `state`. Strict: the first invalid commit is an error.
    /// Otherwise (network tips, js `throwOnInvalidCommit: false`) the log stops there and the
    /// state so far is returned with the number of commits applied.
    fn apply_commits(
        &self,
        source: &dyn BlockSource,
        stream: &StreamId,
        mut state: Option<StreamState>,
        commits: &[LoadedCommit],
        strict: bool,
        depth: usize,
    ) -> Result<(Option<StreamState>, usize), ApplyError> {
        if depth > MAX_NESTING {
            return Err(ApplyError::TooDeep(MAX_NESTING));
        }
        let ctx = EngineContext { engine: self, source, depth };
        let timestamps = self.timestamps(commits);
        let timed: Vec<bool> = timestamps.iter().map(|t| matches!(t, Ok(Some(_)))).collect();
        let start = state.clone();
        for (applied, (commit, timestamp)) in commits.iter().zip(timestamps).enumerate() {
            match self.apply_one(stream, state.as_ref(), commit, timestamp, &ctx) {
                Ok(next) => state = Some(next),
                Err(e) if strict || applied == 0 && state.is_none() => return Err(e),
                Err(_) if borrows_time(&commits[..applied], &timed[..applied]) => {
                    // The log stops before the anchor that timed its last commits: without it
                    // they are unanchored, so apply them again untimed (the state must be what
                    // its own log gives; their signatures are then checked as of now).
                    return self.apply_commits(
                        source,
                        stream,
                        start,
                        &commits[..applied],
                        false,
                        depth,
                    );
                }
                Err(_) => return Ok((state, applied)),
            }
        }
        Ok((state, commits.len()))
    }

    pub(crate) fn state_at_depth(
        &self,
        source: &dyn BlockSource,
        stream: &StreamId,
        tip: Cid,
        depth: usize,
    ) -> Result<StreamState, ApplyError> {
        let source = Overlay { first: source, then: self.store.as_ref() };
        let (commits, _, _) = self.fetch_back(&source, tip, &|_| false)?;
        let genesis = commits.first().map(LoadedCommit::cid);
        if genesis != Some(stream.cid()) {
            return Err(ApplyError::NotThisStream {
                expected: Box::new(stream.cid()),
                got: Box::new(genesis.unwrap_or(tip)),
            });
        }
        let (state, _) = self.apply_commits(&source, stream, None, &commits, true, depth)?;
        state.ok_or(ApplyError::NotFound(*stream))
    }

    /// The state of `stream` at commit `tip`, rebuilt from its blocks (strictly: any invalid
    /// commit is an error).
    ///
    /// # Errors
    /// Any [`ApplyError`].
    pub fn state_at(&self, stream: &StreamId, tip: Cid) -> Result<StreamState, ApplyError> {
        let none = HashMap::new();
        self.state_at_depth(&Blocks(&none), stream, tip, 0)
    }

    /// The state of `stream` at commit `tip`, rebuilt strictly (any invalid commit is an error)
    /// from `source`'s blocks in front of the store's; nothing is stored. Restoring a backup
    /// checks every commit with it before storing anything (`ceramic-backup`).
    ///
    /// # Errors
    /// Any [`ApplyError`].
    pub fn verify_from(
        &self,
        source: &dyn BlockSource,
        stream: &StreamId,
        tip: Cid,
    ) -> Result<StreamState, ApplyError> {
        self.state_at_depth(source, stream, tip, 0)
    }

    /// The stored state of a stream.
    ///
    /// # Errors
    /// [`ApplyError::NotFound`], [`ApplyError::Store`].
    pub fn load(&self, stream: &StreamId) -> Result<StreamState, ApplyError> {
        self.store.state(stream)?.ok_or(ApplyError::NotFound(*stream))
    }

    /// The state at a CommitID: the stream's log up to and including that commit.
    ///
    /// # Errors
    /// [`ApplyError::NotThisStream`] when the commit is not in that stream, and any error of the
    /// log.
    pub fn load_at_commit(&self, id: &CommitId) -> Result<StreamState, ApplyError> {
        self.state_at(&id.stream_id(), id.commit())
    }

    /// The state at a point in time (unix seconds): the state at the last anchor commit whose
    /// timestamp is at or before `at`, or the genesis state when none is.
    ///
    /// # Errors
    /// [`ApplyError::NotFound`] and any error of the log.
    pub fn load_at_time(&self, stream: &StreamId, at: u64) -> Result<StreamState, ApplyError> {
        let current = self.load(stream)?;
        let anchor = current
            .log()
            .iter()
            .rev()
            .find(|e| e.kind == CommitKind::Anchor && e.timestamp.is_some_and(|t| t <= at));
        self.state_at(stream, anchor.map_or(stream.cid(), |e| e.cid))
    }

    /// A client write: the blocks of one new commit (`commit` is its CID). A genesis creates the
    /// stream (or returns it if it exists); a data or anchor commit must build on the current
    /// tip, else it is rejected as [`ApplyError::Stale`]. Stores blocks and state atomically and
    /// publishes the new tip. Writes to one stream (this and [`Engine::handle_tip`]) are
    /// serialized from reading the tip to storing the new state, so of concurrent writes on one
    /// tip exactly one wins; the commit's blocks are loaded and its signature checked before.
    ///
    /// # Errors
    /// Any [`ApplyError`]; nothing is stored then.
    pub fn apply_commit(
        &self,
        stream_type: StreamType,
        commit: Cid,
        blocks: &[Block],
    ) -> Result<StreamState, ApplyError> {
        self.apply_write(stream_type, commit, blocks, Expect::Any)
    }

    /// [`Engine::apply_commit`] for a commit that must be of the kind `expect` names: the check
    /// is made on the commit as the engine decodes it (once), before anything is stored.
    ///
    /// # Errors
    /// [`ApplyError::NotGenesis`], [`ApplyError::GenesisNotAllowed`],
    /// [`ApplyError::WrongStream`] when the commit is not what `expect` asks for; otherwise as
    /// [`Engine::apply_commit`].
    pub fn apply_write(
        &self,
        stream_type: StreamType,
        commit: Cid,
        blocks: &[Block],
        expect: Expect,
    ) -> Result<StreamState, ApplyError> {
        self.apply_write_checked(stream_type, commit, blocks, expect, None, &mut |_| Ok(()))
    }

    /// [`Engine::apply_write`] that shows the new state to `check` before storing it (node-local
    /// policy, e.g. hooks): when `check` refuses, its error is returned and nothing is stored.
    /// `check` runs while the stream's writes are serialized (keep it short); a genesis of a
    /// stream that exists returns the stored state without calling it. Then `pin` as
    /// [`Engine::apply_write_pinned`] does, with no GC in between.
    ///
    /// # Errors
    /// As [`Engine::apply_write_pinned`] (as `E`), and `check`'s error.
    pub fn apply_write_checked<E: From<ApplyError>>(
        &self,
        stream_type: StreamType,
        commit: Cid,
        blocks: &[Block],
        expect: Expect,
        pin: Option<bool>,
        check: &mut dyn FnMut(&StreamState) -> Result<(), E>,
    ) -> Result<StreamState, E> {
        let state = {
            // GC is held off from reading the stream to pinning it, and released before the
            // streams a 3ID controls are checked again (each check holds it itself).
            let _gate = self.hold_gc();
            let pin_in_write = pin == Some(true);
            let state =
                match self.write_inner(stream_type, commit, blocks, expect, pin_in_write, check) {
                    Ok(Ok(state)) => state,
                    Ok(Err(refused)) => return Err(refused),
                    Err(e) => return Err(e.into()),
                };
            // A write that stored a state pinned it in the same batch; this pins a stream
            // whose genesis was stored already (and costs nothing for one pinned).
            let pinned = match pin {
                Some(true) => self.store.pin(&state.stream_id()),
                Some(false) => self.store.unpin(&state.stream_id()).map(drop),
                None => Ok(()),
            };
            pinned.map_err(|e| E::from(ApplyError::from(e)))?;
            state
        };
        self.after_stored(&state);
        Ok(state)
    }

    /// [`Engine::apply_write_checked`]'s work, with GC held off by the caller: `Ok(Err(_))`
    /// when `check` refused. With `pin`, the state is stored pinned.
    fn write_inner<R>(
        &self,
        stream_type: StreamType,
        commit: Cid,
        blocks: &[Block],
        expect: Expect,
        pin: bool,
        check: &mut dyn FnMut(&StreamState) -> Result<(), R>,
    ) -> Result<Result<StreamState, R>, ApplyError> {
        let given: HashMap<Cid, &[u8]> = blocks.iter().map(|b| (*b.cid(), b.data())).collect();
        let given = BorrowedBlocks(&given);
        let source = Overlay { first: &given, then: self.store.as_ref() };
        let (loaded, mut commit_blocks) =
            load_commit(&source, self.resolver.as_ref(), &self.cacaos, commit)?;
        let (stream, state, _guard) = match loaded.prev() {
            None => {
                if let Expect::Update(_) = expect {
                    return Err(ApplyError::GenesisNotAllowed(Box::new(commit)));
                }
                let stream =
                    StreamId::new(stream_type, commit).map_err(|_| ApplyError::WrongKind {
                        cid: Box::new(commit),
                        kind: "CIDv0",
                        expected: "CIDv1",
                    })?;
                let guard = self.write_lock(&stream);
                if let Some(existing) = self.store.state(&stream)? {
                    return Ok(Ok(existing));
                }
                (stream, None, guard)
            }
            Some(prev) => {
                let genesis = loaded.id().ok_or(ApplyError::WrongKind {
                    cid: Box::new(commit),
                    kind: "anchor without id",
                    expected: "commit naming its stream",
                })?;
                let stream =
                    StreamId::new(stream_type, genesis).map_err(|_| ApplyError::WrongKind {
                        cid: Box::new(commit),
                        kind: "CIDv0",
                        expected: "CIDv1",
                    })?;
                match expect {
                    Expect::Genesis => {
                        return Err(ApplyError::NotGenesis {
                            cid: Box::new(commit),
                            stream: Box::new(stream),
                        });
                    }
                    Expect::Update(Some(named)) if named != stream => {
                        return Err(ApplyError::WrongStream {
                            cid: Box::new(commit),
                            expected: Box::new(named.cid()),
                            got: Box::new(genesis),
                        });
                    }
                    Expect::Any | Expect::Update(_) => {}
                }
                let guard = self.write_lock(&stream);
                let state = self.load(&stream)?;
                if prev != state.tip() {
                    return Err(ApplyError::Stale {
                        cid: Box::new(commit),
                        prev: Box::new(prev),
                        tip: Box::new(state.tip()),
                    });
                }
                (stream, Some(state), guard)
            }
        };
        if let LoadedCommit::Anchor { cid, commit: anchor, proof } = &loaded {
            commit_blocks.extend(verify_anchor_path(
                &source,
                *cid,
                proof.root,
                &anchor.path,
                anchor.prev,
            )?);
        }
        let (state, _) =
            self.apply_commits(&source, &stream, state, std::slice::from_ref(&loaded), true, 0)?;
        let state = state.ok_or(ApplyError::NotFound(stream))?;
        if let Err(refused) = check(&state) {
            return Ok(Err(refused));
        }
        if pin {
            self.store.write_commit_pinned(&commit_blocks, &state)?;
        } else {
            self.store.write_commit(&commit_blocks, &state)?;
        }
        self.publisher.publish_update(&stream, &state.tip());
        Ok(Ok(state))
    }

    /// A tip heard from the network (blocks fetched through `source`, then the store). The
    /// tip's log is synced back to the local log; if it extends the local tip its valid commits
    /// are applied, and if it forks, js-ceramic's rule picks the branch
    /// ([`crate::pick_log_to_accept`]). The winner is stored and re-announced.
    ///
    /// # Errors
    /// Storage errors, and log errors that leave nothing to apply (a tip of another stream, a
    /// missing block, an invalid first commit). Invalid commits after valid ones only shorten
    /// the candidate branch, as in js-ceramic.
    pub fn handle_tip(
        &self,
        stream: &StreamId,
        tip: Cid,
        source: &dyn BlockSource,
    ) -> Result<TipOutcome, ApplyError> {
        let outcome = self.handle_tip_gated(stream, tip, source)?;
        if let TipOutcome::Created(state) | TipOutcome::Accepted(state) = &outcome {
            self.after_stored(state);
        }
        Ok(outcome)
    }

    /// [`Engine::handle_tip`] with GC held off and the stream's write lock held.
    fn handle_tip_gated(
        &self,
        stream: &StreamId,
        tip: Cid,
        source: &dyn BlockSource,
    ) -> Result<TipOutcome, ApplyError> {
        let _gate = self.hold_gc();
        let source = Overlay { first: source, then: self.store.as_ref() };
        let _guard = self.write_lock(stream);
        let Some(local) = self.store.state(stream)? else {
            let (commits, blocks, _) = self.fetch_back(&source, tip, &|_| false)?;
            let genesis = commits.first().map(LoadedCommit::cid);
            if genesis != Some(stream.cid()) {
                return Err(ApplyError::NotThisStream {
                    expected: Box::new(stream.cid()),
                    got: Box::new(genesis.unwrap_or(tip)),
                });
            }
            let (state, applied) = self.apply_commits(&source, stream, None, &commits, false, 0)?;
            let state = state.ok_or(ApplyError::NotFound(*stream))?;
            self.store.write_commit(&blocks[..applied].concat(), &state)?;
            self.publisher.publish_update(stream, &state.tip());
            return Ok(TipOutcome::Created(state));
        };
        let known: HashSet<Cid> = local.log().iter().map(|e| e.cid).collect();
        if known.contains(&tip) {
            return Ok(TipOutcome::Unchanged);
        }
        let (remote, blocks, fork) = self.fetch_back(&source, tip, &|cid| known.contains(cid))?;
        let Some(fork) = fork else {
            let got = remote.first().map_or(tip, LoadedCommit::cid);
            return Err(ApplyError::NotThisStream {
                expected: Box::new(stream.cid()),
                got: Box::new(got),
            });
        };
        let fork_at = local.log().iter().position(|e| e.cid == fork).unwrap_or_default();
        let base = if fork_at + 1 == local.log().len() {
            local.clone()
        } else {
            // js `resetStateToCommit`: rebuild the state at the fork point.
            self.state_at_depth(&source, stream, fork, 0)?
        };
        let (candidate, applied) =
            self.apply_commits(&source, stream, Some(base), &remote, false, 0)?;
        let Some(candidate) = candidate.filter(|_| applied > 0) else {
            return Ok(TipOutcome::Unchanged);
        };
        let local_branch = local.log().get(fork_at + 1..).unwrap_or_default();
        let remote_branch = candidate.log().get(fork_at + 1..).unwrap_or_default();
        let winner = pick_log_to_accept(local_branch, remote_branch);
        if winner == Winner::Log1 && !local_branch.is_empty() {
            return Ok(TipOutcome::Unchanged);
        }
        debug_assert_eq!(winner_tip(winner, local_branch, remote_branch), Some(candidate.tip()));
        self.store.write_commit(&blocks[..applied].concat(), &candidate)?;
        self.publisher.publish_update(stream, &candidate.tip());
        Ok(TipOutcome::Accepted(candidate))
    }
}

/// The doctype's view of a loaded commit.
/// The DID a commit is signed by: the JWS signer, or — for a CACAO session — the CACAO's issuer
/// once the session's resources cover `stream` and the CACAO is valid at the commit's anchor
/// time (now, when unanchored).
fn session_signer<'a>(
    stream: &StreamId,
    cid: Cid,
    signer: &'a Option<String>,
    cacao: &'a Option<(Arc<ceramic_did::Cacao>, Cid)>,
    timestamp: Option<u64>,
) -> Result<Option<&'a str>, ApplyError> {
    let Some((cacao, link)) = cacao else { return Ok(signer.as_deref()) };
    let at_ms = match timestamp {
        Some(t) => i64::try_from(t).unwrap_or(i64::MAX / 1000).saturating_mul(1000),
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
    };
    let checks = cacao
        .check_resources(&stream.to_string(), link, None)
        .and_then(|()| cacao.check_time(at_ms));
    checks.map_err(|e| ApplyError::Signature { cid: Box::new(cid), source: e.into() })?;
    Ok(Some(cacao.p.iss.as_str()))
}

fn commit_view<'a>(
    cid: Cid,
    payload: &'a Payload,
    signer: Option<&'a str>,
    capability: &'a Option<String>,
    timestamp: Option<u64>,
) -> Commit<'a> {
    Commit { cid, payload, signer, capability: capability.as_deref(), timestamp }
}

/// Whether the commits after the last anchor of `commits` were given a timestamp, which can only
/// have come from an anchor past the end of `commits`.
fn borrows_time(commits: &[LoadedCommit], timed: &[bool]) -> bool {
    let after_anchor =
        commits.iter().rposition(|c| matches!(c, LoadedCommit::Anchor { .. })).map_or(0, |i| i + 1);
    timed.get(after_anchor..).is_some_and(|t| t.contains(&true))
}
