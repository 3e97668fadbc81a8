//! Bitswap hot paths: encoding and decoding a message of 100 blocks of 1 KiB (decode rebuilds
//! and hash-checks every block's CID), and fetching 100 blocks of 1 KiB between two Rust nodes
//! on loopback (tcp + noise + yamux), all wants sent at once.
//!
//! Run with `cargo bench -p ceramic-bitswap --bench message`.

#[path = "../tests/it/harness.rs"]
#[allow(dead_code, unreachable_pub)] // shared with the tests; the bench uses part of it
mod harness;

use std::time::{Duration, Instant};

use ceramic_bitswap::{Config, Message};
use ceramic_codecs::{Block, cid_of};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const BLOCKS: usize = 100;
const SIZE: usize = 1024;

/// `BLOCKS` distinct blocks of `SIZE` bytes from a seeded xorshift, under the dag-cbor codec
/// like every Ceramic block (Bitswap never parses the bytes).
fn blocks(seed: u64) -> Vec<Block> {
    let mut state = seed | 1;
    (0..BLOCKS)
        .map(|_| {
            let data: Vec<u8> = (0..SIZE)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            Block::new(cid_of(0x71, &data), data).expect("fresh CID")
        })
        .collect()
}

fn codec(c: &mut Criterion) {
    let msg = Message { blocks: blocks(1), ..Default::default() };
    let bytes = msg.encode();
    let mut group = c.benchmark_group("bitswap_message");
    group.throughput(Throughput::Bytes((BLOCKS * SIZE) as u64));
    group.bench_function(BenchmarkId::new("encode", format!("{BLOCKS}x{SIZE}B")), |b| {
        b.iter(|| std::hint::black_box(&msg).encode())
    });
    group.bench_function(BenchmarkId::new("decode", format!("{BLOCKS}x{SIZE}B")), |b| {
        b.iter(|| Message::decode(std::hint::black_box(&bytes)).expect("decodes"))
    });
    group.finish();
}

fn fetch(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (server, client) = rt.block_on(async {
        let server = harness::Node::start(Config::default()).await;
        let mut client = harness::Node::start(Config::default().with_store_received(false)).await;
        client.connect(&server).await;
        (server, client)
    });
    let blocks = blocks(2);
    for block in &blocks {
        server.store.insert(block);
    }
    let cids: Vec<_> = blocks.iter().map(|b| *b.cid()).collect();
    let mut group = c.benchmark_group("bitswap_fetch");
    group.throughput(Throughput::Elements(BLOCKS as u64));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function(BenchmarkId::new("loopback", format!("{BLOCKS}x{SIZE}B")), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let gets = cids.iter().map(|cid| client.client.get(*cid));
                    for got in futures::future::join_all(gets).await {
                        got.expect("fetched");
                    }
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    drop((server, client));
}

criterion_group!(benches, codec, fetch);
criterion_main!(benches);
