//! The anchor Merkle tree: building a batch's tree (CAS sort, halving, hand-encoded dag-cbor
//! nodes, sha2-256) and producing every leaf's path, for 1k, 100k and 1M leaves; the same
//! without the sort; a whole batch (tree, proof, one anchor commit per request) at 100k and 1M;
//! and verifying one path of a 1M-leaf tree with `verify_merkle_path`, directly
//! and from a witness CAR. Leaves are deterministic dag-jose CIDs (no RNG).
//!
//! Run: `cargo bench -p ceramic-anchor --bench merkle` (the 1M cases use `sample_size(10)`).

use std::hint::black_box;
use std::time::Duration;

use ceramic_anchor::{
    Batch, DEV_CHAIN_ID, Request, TX_TYPE_V1, Tree, Witness, tx_hash_cid, verify_merkle_path,
};
use ceramic_codecs::{Cid, cid_of};
use ceramic_storage::MapSource;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn leaves(n: u32) -> Vec<Cid> {
    (0..n).map(|i| cid_of(0x85, &i.to_be_bytes())).collect()
}

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("tree_build_and_paths");
    group.sample_size(10).measurement_time(Duration::from_secs(40));
    for n in [1_000u32, 100_000, 1_000_000] {
        let input = leaves(n);
        group.throughput(Throughput::Elements(n.into()));
        group.bench_with_input(BenchmarkId::new("sorted", n), &input, |b, input| {
            b.iter_batched(
                || input.clone(),
                |leaves| {
                    let tree = Tree::build(leaves).expect("leaves");
                    let paths: Vec<String> = tree.paths().collect();
                    (tree, paths)
                },
                BatchSize::PerIteration,
            );
        });
        group.bench_with_input(BenchmarkId::new("presorted", n), &input, |b, input| {
            b.iter_batched(
                || input.clone(),
                |leaves| {
                    let tree = Tree::from_ordered(leaves).expect("leaves");
                    let paths: Vec<String> = tree.paths().collect();
                    (tree, paths)
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

fn batch(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch_finish");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    for n in [100_000u32, 1_000_000] {
        let requests: Vec<Request> = leaves(n)
            .into_iter()
            .map(|tip| Request { genesis: cid_of(0x71, &tip.to_bytes()), tip })
            .collect();
        group.throughput(Throughput::Elements(n.into()));
        group.bench_with_input(BenchmarkId::from_parameter(n), &requests, |b, requests| {
            b.iter_batched(
                || requests.clone(),
                |requests| {
                    let batch = Batch::new(requests).expect("requests");
                    let tx_hash = tx_hash_cid([1; 32]);
                    batch.finish(DEV_CHAIN_ID, tx_hash, Some(TX_TYPE_V1)).expect("finish")
                },
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

fn verify(c: &mut Criterion) {
    let n = 1_000_000u32;
    let tree = Tree::build(leaves(n)).expect("leaves");
    let index = 500_000;
    let leaf = tree.leaves()[index];
    let path = tree.path(index).expect("leaf");
    let mut source = MapSource::default();
    source.extend(tree.witness(index).expect("leaf"));
    let mut group = c.benchmark_group("verify_path");
    group.bench_function(BenchmarkId::new("merkle_path", n), |b| {
        b.iter(|| verify_merkle_path(&source, tree.root(), black_box(&path), leaf).expect("path"));
    });
    drop(tree);
    let requests: Vec<Request> = leaves(n)
        .into_iter()
        .map(|tip| Request { genesis: cid_of(0x71, &tip.to_bytes()), tip })
        .collect();
    let anchors = Batch::new(requests)
        .expect("requests")
        .finish(DEV_CHAIN_ID, tx_hash_cid([1; 32]), Some(TX_TYPE_V1))
        .expect("finish");
    let car = anchors.witness_car(index).expect("leaf");
    drop(anchors);
    group.bench_function(BenchmarkId::new("witness_car", n), |b| {
        b.iter(|| Witness::from_car(black_box(&car)).expect("witness"));
    });
    group.finish();
}

criterion_group!(benches, build, batch, verify);
criterion_main!(benches);
