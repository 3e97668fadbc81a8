//! Garbage collection of 100,000 streams, half of them pinned: the time of one
//! `Storage::gc` (mark the pinned logs, remove the 50,000 unpinned states with their index
//! entries, sweep the blocks), on RocksDB (sync off) and in memory for reference.
//!
//! Each stream is a genesis commit with a controller, a family and a tag (one block, one state,
//! four index records). Before each timed GC the unpinned half is written again (not timed), so
//! every GC removes 50,000 streams and 50,000 blocks and keeps 50,000 of each.
//!
//! Run with `cargo bench -p ceramic-storage-rocks --bench gc` (figures in `benches/README.md`).

use std::time::{Duration, Instant};

use ceramic_codecs::{Block, Codec, GenesisCommit, Header, Payload, Unique};
use ceramic_doctype::{SignatureStatus, StreamState};
use ceramic_storage::{MemoryStorage, Storage};
use ceramic_storage_rocks::Config;
use ceramic_streamid::StreamType;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const STREAMS: usize = 100_000;

/// Stream `i`'s genesis block and state.
fn stream(i: usize) -> (Block, StreamState) {
    let controller = format!("did:key:z6MkBench{}", i % 97);
    let header = Header {
        controllers: Some(vec![controller.clone()]),
        family: Some(format!("family-{}", i % 13)),
        tags: Some(vec![format!("tag-{}", i % 7)]),
        unique: Some(Unique::Text(format!("bench-{i}"))),
        ..Header::default()
    };
    let block =
        Block::encode(Codec::DagCbor, &Payload::Genesis(GenesisCommit { header, data: None }))
            .expect("encodes");
    let metadata = serde_json::json!({
        "controllers": [controller],
        "family": format!("family-{}", i % 13),
        "tags": [format!("tag-{}", i % 7)],
    });
    let state = StreamState::genesis(
        StreamType::TILE,
        *block.cid(),
        serde_json::json!({ "i": i }),
        metadata.as_object().cloned().unwrap_or_default(),
        SignatureStatus::Genesis,
    )
    .expect("a genesis state");
    (block, state)
}

fn write(store: &dyn Storage, streams: &[(Block, StreamState)]) {
    for (block, state) in streams {
        store.write_commit(std::slice::from_ref(block), state).expect("stores");
    }
}

fn bench_gc(c: &mut Criterion) {
    let streams: Vec<(Block, StreamState)> = (0..STREAMS).map(stream).collect();
    let (pinned, unpinned) = streams.split_at(STREAMS / 2);
    let dir = tempfile::tempdir().expect("tmp");
    let stores: Vec<(&str, Box<dyn Storage>)> = vec![
        ("memory", Box::new(MemoryStorage::new())),
        (
            "rocksdb_sync_off",
            Box::new(
                ceramic_storage_rocks::open(dir.path(), Config::default().with_sync(false))
                    .expect("opens"),
            ),
        ),
    ];
    let mut group = c.benchmark_group("gc_100k_streams_half_pinned");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for (name, store) in &stores {
        write(store.as_ref(), pinned);
        for (_, state) in pinned {
            store.pin(&state.stream_id()).expect("pins");
        }
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    write(store.as_ref(), unpinned);
                    let started = Instant::now();
                    let report = store.gc().expect("collects");
                    total += started.elapsed();
                    assert_eq!(report.streams_removed, unpinned.len());
                    assert_eq!(report.blocks_removed, unpinned.len());
                    assert_eq!(report.blocks_kept, pinned.len());
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_gc);
criterion_main!(benches);
