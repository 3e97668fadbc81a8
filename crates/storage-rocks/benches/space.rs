//! The cost of the free-space guard per write (`specs/storage.md`, "A full disk"): the cached
//! check every write pays (`admit`), the `statvfs` it makes at most every 100 ms or 1 MiB
//! (`free_bytes`), and a guard that measures on every write (`admit/every-write`), the cost the
//! cache avoids. Compare with a write: `cargo bench -p ceramic-storage-rocks --bench store`.
//!
//! Run with `cargo bench -p ceramic-storage-rocks --bench space`.

use std::time::Duration;

use ceramic_storage_rocks::{MIN_RESERVE, SpaceGuard, free_bytes};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench_space(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut group = c.benchmark_group("space");
    group.bench_function("free_bytes (statvfs)", |b| {
        b.iter(|| free_bytes(dir.path()).expect("measures"))
    });
    let cached = SpaceGuard::new(dir.path(), MIN_RESERVE, Duration::from_secs(3600));
    // 300 bytes a write: a measure every ~3,500 writes (RECHECK_BYTES of MIN_RESERVE / 4).
    group.bench_function("admit/cached", |b| b.iter(|| cached.admit(300).expect("room")));
    let every = SpaceGuard::new(dir.path(), MIN_RESERVE, Duration::ZERO);
    group.bench_function("admit/every-write", |b| b.iter(|| every.admit(300).expect("room")));
    group.finish();
}

criterion_group!(benches, bench_space);
criterion_main!(benches);
