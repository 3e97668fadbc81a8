//! The anchor service's hot paths: storing one request (a read, a stream-index scan and one
//! atomic write) in memory and on RocksDB with synced writes, and a whole batch (choose,
//! send on the dev chain, build every anchor commit and witness CAR, store them COMPLETED) of
//! 1 024 and 16 384 pending requests on the memory store. Inputs are deterministic (no RNG).
//!
//! Run: `cargo bench -p ceramic-anchor-service --bench service`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ceramic_anchor::DevChain;
use ceramic_anchor_service::{Cas, CasBuilder, MemoryStore, NewRequest, RocksStore, Store};
use ceramic_codecs::cid_of;
use ceramic_streamid::{StreamId, StreamType};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn request(i: u32) -> NewRequest {
    let stream_id = StreamId::new(StreamType::TILE, cid_of(0x71, &i.to_be_bytes()))
        .expect("a dag-cbor genesis");
    NewRequest {
        stream_id,
        cid: cid_of(0x71, &[&i.to_be_bytes()[..], b"tip"].concat()),
        timestamp: None,
    }
}

fn cas(store: Arc<dyn Store>) -> Cas {
    CasBuilder::new(store, Arc::new(DevChain::new())).open().expect("opens")
}

fn store_request(c: &mut Criterion) {
    let mut group = c.benchmark_group("request");
    group.throughput(Throughput::Elements(1));
    let next = AtomicU32::new(0);
    let memory = cas(Arc::new(MemoryStore::new()));
    group.bench_function("memory", |b| {
        b.iter_batched(
            || request(next.fetch_add(1, Ordering::Relaxed)),
            |new| memory.request(&new).expect("stores"),
            BatchSize::SmallInput,
        );
    });
    let dir = tempfile::tempdir().expect("a temporary directory");
    let rocks = cas(Arc::new(RocksStore::open(dir.path()).expect("opens")));
    group.bench_function("rocksdb_synced", |b| {
        b.iter_batched(
            || request(next.fetch_add(1, Ordering::Relaxed)),
            |new| rocks.request(&new).expect("stores"),
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    for n in [1_024u32, 16_384] {
        group.throughput(Throughput::Elements(n.into()));
        group.bench_with_input(BenchmarkId::new("memory", n), &n, |b, &n| {
            b.iter_batched(
                || {
                    let cas = cas(Arc::new(MemoryStore::new()));
                    for i in 0..n {
                        cas.request(&request(i)).expect("stores");
                    }
                    cas
                },
                |cas| {
                    let outcome = cas.trigger().expect("anchors").expect("a batch");
                    assert_eq!(outcome.requests.len(), n as usize);
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, store_request, batch);
criterion_main!(benches);
