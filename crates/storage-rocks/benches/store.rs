//! Commits stored per second: one `Storage::write_commit` (the commit's blocks, the stream's new state
//! and its index entries in one atomic batch), on RocksDB with the WAL on and sync off or on,
//! and in memory for reference.
//!
//! The commits are real: signed data commits and anchors (with proof and Merkle nodes) over 16
//! streams, recorded from the engine beforehand, so only the store is timed. They are written
//! in a cycle; a rewrite costs RocksDB what a new write does.
//!
//! Also the event feed's read throughput (`feed_read`), `pin` of a stream already pinned
//! (`pin_pinned`: what every write does under `pin_on_write`), by the length of its log, and a
//! write that changes a stream's log by one entry, by the length of its log (`update_by_log`).
//!
//! Run with `cargo bench -p ceramic-storage-rocks --bench store`.

#[path = "../../storage/tests/it/fixtures.rs"]
#[allow(dead_code, unreachable_pub)] // shared with the tests; the bench uses part of it
mod fixtures;

use std::sync::{Arc, Mutex};

use ceramic_codecs::{Block, Cid};
use ceramic_doctype::StreamState;
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_storage::{
    BlockSource, GcReport, IndexKind, MemoryStorage, Page, Result, Stats, Storage,
};
use ceramic_storage_rocks::Config;
use ceramic_streamid::StreamId;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use fixtures::{ADDER, Rng, add, anchor, genesis, signer};

const STREAMS: usize = 16;
const COMMITS: usize = 2_000;

/// What the engine hands `Storage::write_commit`.
type Commit = (Vec<Block>, StreamState);

/// A store that records what the engine asks it to commit.
#[derive(Debug, Default)]
struct Recorder {
    inner: MemoryStorage,
    commits: Mutex<Vec<Commit>>,
}

impl BlockSource for Recorder {
    fn get_block(&self, cid: &Cid) -> Result<Option<Vec<u8>>> {
        self.inner.get_block(cid)
    }
}

impl Storage for Recorder {
    fn write_commit(&self, blocks: &[Block], state: &StreamState) -> Result<()> {
        self.commits.lock().expect("unpoisoned").push((blocks.to_vec(), state.clone()));
        self.inner.write_commit(blocks, state)
    }
    fn block(&self, cid: &Cid) -> Result<Option<Block>> {
        self.inner.block(cid)
    }
    fn state(&self, id: &StreamId) -> Result<Option<StreamState>> {
        self.inner.state(id)
    }
    fn log_blocks(&self, state: &StreamState) -> Result<Vec<Block>> {
        self.inner.log_blocks(state)
    }
    fn pin(&self, id: &StreamId) -> Result<()> {
        self.inner.pin(id)
    }
    fn remove_state(&self, id: &StreamId) -> Result<bool> {
        self.inner.remove_state(id)
    }
    fn unpin(&self, id: &StreamId) -> Result<bool> {
        self.inner.unpin(id)
    }
    fn is_pinned(&self, id: &StreamId) -> Result<bool> {
        self.inner.is_pinned(id)
    }
    fn pins(&self, after: Option<&StreamId>, limit: usize) -> Result<Page> {
        self.inner.pins(after, limit)
    }
    fn streams(&self, after: Option<&StreamId>, limit: usize) -> Result<Page> {
        self.inner.streams(after, limit)
    }
    fn feed(&self, after: u64, limit: usize) -> Result<ceramic_storage::FeedPage> {
        self.inner.feed(after, limit)
    }
    fn feed_head(&self) -> Result<u64> {
        self.inner.feed_head()
    }
    fn list(
        &self,
        kind: IndexKind,
        term: &str,
        after: Option<&StreamId>,
        limit: usize,
    ) -> Result<Page> {
        self.inner.list(kind, term, after, limit)
    }
    fn gc(&self) -> Result<GcReport> {
        self.inner.gc()
    }
    fn stats(&self) -> Result<Stats> {
        self.inner.stats()
    }
}

/// The geneses, then `COMMITS` data and anchor commits, as the engine commits them.
fn record() -> (Vec<Commit>, Vec<Commit>) {
    let recorder = Arc::new(Recorder::default());
    let chain = Arc::new(FakeAnchorVerifier::default());
    let registry = ceramic_doctype::Registry::new().with(fixtures::Adder).expect("one doctype");
    let engine = ceramic_engine::Engine::new(
        recorder.clone(),
        registry,
        chain.clone(),
        Arc::new(ceramic_engine::memory::RecordingPublisher::default()),
    );
    let mut streams = Vec::new();
    for i in 0..STREAMS {
        let author = signer(1 + (i % 4) as u8);
        let (id, g) = genesis(&author, &format!("bench-{i}"), Some("bench"), &["t"]);
        let state = engine.apply_commit(ADDER, g.cid, &g.blocks).expect("genesis");
        streams.push((id, author, state));
    }
    let mut rng = Rng::new(42);
    for _ in 0..COMMITS {
        let (id, author, state) = &mut streams[rng.below(STREAMS as u64) as usize];
        let made = if rng.one_in(8) {
            anchor(&chain, id, state.tip(), 1_000 + rng.below(1_000_000))
        } else {
            add(author, id, state.tip(), 1)
        };
        *state = engine.apply_commit(ADDER, made.cid, &made.blocks).expect("commit");
    }
    let mut commits = std::mem::take(&mut *recorder.commits.lock().expect("unpoisoned"));
    let rest = commits.split_off(STREAMS);
    (commits, rest)
}

fn bench_commit(c: &mut Criterion) {
    let (geneses, commits) = record();
    let mut group = c.benchmark_group("store_commit");
    group.throughput(Throughput::Elements(1));
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().expect("tmp")).collect();
    let stores: Vec<(&str, Box<dyn Storage>)> = vec![
        ("memory", Box::new(MemoryStorage::new())),
        (
            "rocksdb_wal_sync_off",
            Box::new(
                ceramic_storage_rocks::open(dirs[0].path(), Config::default().with_sync(false))
                    .expect("opens"),
            ),
        ),
        (
            "rocksdb_wal_sync_on",
            Box::new(
                ceramic_storage_rocks::open(dirs[1].path(), Config::default().with_sync(true))
                    .expect("opens"),
            ),
        ),
    ];
    for (name, store) in &stores {
        for (blocks, state) in &geneses {
            store.write_commit(blocks, state).expect("stores a genesis");
        }
        if name.ends_with("sync_on") {
            group.sample_size(20);
        }
        let mut next = 0;
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                let (blocks, state) = &commits[next % commits.len()];
                next += 1;
                store.write_commit(blocks, state).expect("stores")
            })
        });
    }
    group.finish();
}

/// Feed entries read per second from a resume token (`Storage::feed`, pages of 10,000) on
/// RocksDB: 20,000 stored commits, read from token 0 and from the middle.
fn bench_feed(c: &mut Criterion) {
    let (geneses, commits) = record();
    let dir = tempfile::tempdir().expect("tmp");
    let store =
        ceramic_storage_rocks::open(dir.path(), Config::default().with_sync(false)).expect("opens");
    for (blocks, state) in geneses.iter().chain(commits.iter().cycle().take(20_000)) {
        store.write_commit(blocks, state).expect("stores");
    }
    let head = store.feed_head().expect("head");
    assert!(head >= 20_000, "{head}");
    let mut group = c.benchmark_group("feed_read");
    for (name, from) in [("from_start", 0), ("from_middle", head / 2)] {
        group.throughput(Throughput::Elements(10_000));
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                let page = store.feed(from, 10_000).expect("reads");
                assert_eq!(page.entries.len(), 10_000);
                page.resume
            })
        });
    }
    group.finish();
}

/// `Storage::pin` of a pinned stream, on RocksDB, for streams whose logs hold about 1, 10 and
/// 125 commits: the node pins on every write (`[gc] pin_on_write`), so this cost is paid per
/// update and must not grow with the log.
fn bench_pin_pinned(c: &mut Criterion) {
    let (geneses, commits) = record();
    let dir = tempfile::tempdir().expect("tmp");
    let store =
        ceramic_storage_rocks::open(dir.path(), Config::default().with_sync(false)).expect("opens");
    let mut group = c.benchmark_group("pin_pinned");
    let mut written = 0;
    for (blocks, state) in &geneses {
        store.write_commit(blocks, state).expect("stores a genesis");
    }
    for log in [1, 10, COMMITS / STREAMS] {
        // Write commits until the streams' logs hold about `log` commits each.
        let until = (log - 1) * STREAMS;
        for (blocks, state) in &commits[written.min(commits.len())..until.min(commits.len())] {
            store.write_commit(blocks, state).expect("stores");
        }
        written = written.max(until);
        let id = geneses[0].1.stream_id();
        store.pin(&id).expect("pins");
        let entries = store.state(&id).expect("reads").expect("stored").log().len();
        group.bench_function(BenchmarkId::new("log", entries), |b| {
            b.iter(|| store.pin(&id).expect("pins"))
        });
    }
    group.finish();
}

/// `Storage::write_commit` of a state whose log differs from the stored one by its last entry
/// (one entry added, then removed again, alternately), on RocksDB with sync off, for logs of
/// 10, 100 and 1,000 entries: what an update costs the store as its stream grows.
fn bench_update_by_log(c: &mut Criterion) {
    let (geneses, _) = record();
    let (blocks, genesis) = &geneses[0];
    let dir = tempfile::tempdir().expect("tmp");
    let store =
        ceramic_storage_rocks::open(dir.path(), Config::default().with_sync(false)).expect("opens");
    store.write_commit(blocks, genesis).expect("stores a genesis");
    let mut group = c.benchmark_group("update_by_log");
    group.throughput(Throughput::Elements(1));
    let mut state = genesis.clone();
    for log in [10_usize, 100, 1_000] {
        while state.log().len() < log {
            let n = state.log().len() as u64;
            let change = ceramic_doctype::Change::content(Some(serde_json::json!(n)));
            state = state.with_change(ceramic_codecs::cid_of(0x71, &n.to_be_bytes()), None, change);
            store.write_commit(&[], &state).expect("stores");
        }
        let change = ceramic_doctype::Change::content(Some(serde_json::json!("next")));
        let next = state.with_change(ceramic_codecs::cid_of(0x71, b"next"), None, change);
        let mut flip = false;
        group.bench_function(BenchmarkId::new("log", log), |b| {
            b.iter(|| {
                flip = !flip;
                store.write_commit(&[], if flip { &next } else { &state }).expect("stores")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_commit, bench_feed, bench_pin_pinned, bench_update_by_log);
criterion_main!(benches);
