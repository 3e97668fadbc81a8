//! Backup throughput: commits per second of a full run ([`run_once`]) of 20 streams × 50 data
//! commits (1,020 commits with the geneses) to a directory (not synced, and synced) and to a
//! real S3-compatible server (s3rver from npm, `tools/s3rver`, on 127.0.0.1).
//!
//! `cargo bench --bench backup` (after `cargo xtask tools`); figures in benches/README.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ceramic_backup::{DirTarget, S3Config, S3Target, Selection, run_once};
use ceramic_doctype::Registry;
use ceramic_engine::Engine;
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_engine::test_utils::{ADDER, Adder, add, genesis, signer};
use ceramic_storage::{MemoryStorage, Storage};
use ceramic_testkit::S3rver;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const STREAMS: usize = 20;
const COMMITS: usize = 50;

/// A store with `STREAMS` pinned streams of `COMMITS` data commits each.
fn store() -> Arc<MemoryStorage> {
    let store = Arc::new(MemoryStorage::new());
    let registry = Registry::new().with(Adder).expect("one doctype");
    let engine = Engine::new(
        store.clone(),
        registry,
        Arc::new(FakeAnchorVerifier::default()),
        Arc::new(RecordingPublisher::default()),
    );
    let author = signer(1);
    for s in 0..STREAMS {
        let (id, g) = genesis(&author, &format!("bench-{s}"), None, &[]);
        engine.apply_commit(ADDER, g.cid, &g.blocks).expect("genesis");
        store.pin(&id).expect("pin");
        let mut tip = g.cid;
        for _ in 0..COMMITS {
            let made = add(&author, &id, tip, 1);
            tip = engine.apply_commit(ADDER, made.cid, &made.blocks).expect("commit").tip();
        }
    }
    store
}

fn bench(c: &mut Criterion) {
    let store = store();
    let mut group = c.benchmark_group("backup");
    group.throughput(Throughput::Elements((STREAMS * (COMMITS + 1)) as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for sync in [false, true] {
        let name = if sync { "dir_synced" } else { "dir" };
        group.bench_function(name, |b| {
            b.iter_batched(
                || tempfile::tempdir().expect("tempdir"),
                |dir| {
                    let target = DirTarget::new(dir.path()).with_sync(sync);
                    let report =
                        run_once(store.as_ref(), &target, &Selection::Pinned).expect("run");
                    assert_eq!(report.commits, STREAMS * (COMMITS + 1));
                    dir
                },
                BatchSize::PerIteration,
            );
        });
    }
    let data = tempfile::tempdir().expect("tempdir");
    let server = S3rver::start(data.path(), 0, &["bench"]).expect("s3rver (cargo xtask tools)");
    let runs = AtomicUsize::new(0);
    group.bench_function("s3", |b| {
        b.iter(|| {
            let run = runs.fetch_add(1, Ordering::Relaxed);
            let target = S3Target::new(&S3Config {
                endpoint: server.endpoint().into(),
                bucket: "bench".into(),
                region: "us-east-1".into(),
                access_key: S3rver::ACCESS_KEY.into(),
                secret_key: S3rver::SECRET_KEY.into(),
                prefix: format!("run-{run}/"),
                timeout: Duration::from_secs(30),
            })
            .expect("s3 target");
            let report = run_once(store.as_ref(), &target, &Selection::Pinned).expect("run");
            assert_eq!(report.commits, STREAMS * (COMMITS + 1));
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
