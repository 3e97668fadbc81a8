//! Load on a whole node over gRPC: `streams` concurrent clients each create a signed Tile and
//! then update it `updates` times, one write at a time (each update builds on the tip the
//! previous one made), against a whole node (`ceramic_core::Node`) served in process on 127.0.0.1 with RocksDB (fsync per
//! write, the node's default) and the Tile doctype. Commits are signed before the clock starts,
//! so the figure is the node's: decode, verify the signature, apply the patch, store, answer.
//!
//! Prints sustained commits/s and the p50/p99/max latency of one write. Not a criterion bench:
//! criterion times one closure, a load test needs concurrent clients and percentiles.
//!
//! `cargo bench -p ceramic-benches --bench node_load` (env `NODE_LOAD_STREAMS`, default 64;
//! `NODE_LOAD_UPDATES`, default 49; `NODE_LOAD_SYNC=0` to skip fsync).

use std::time::{Duration, Instant};

use ceramic_codecs::{Block, DataCommit, Header, Payload};
use ceramic_core::{Node, NodeConfig};
use ceramic_did::{KeySigner, KeyType, Signer, sign_commit};
use ceramic_doctype::json_to_ipld;
use ceramic_doctype_tile::{GenesisOptions, Tile, genesis_payload};
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{self, CommitRequest};
use serde_json::json;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn request(signer: &KeySigner, payload: &Payload) -> CommitRequest {
    let signed = sign_commit(signer, payload).expect("signs");
    let block = |b: &Block| v1::Block { cid: b.cid().to_string(), data: b.data().to_vec() };
    CommitRequest {
        stream_type: 0,
        commit: signed.envelope_block().cid().to_string(),
        blocks: vec![block(signed.envelope_block()), block(signed.payload_block())],
    }
}

/// One stream's writes, genesis first, each update on the previous commit.
fn stream_writes(signer: &KeySigner, index: usize, updates: usize) -> Vec<CommitRequest> {
    let options = GenesisOptions { unique: Some(format!("load-{index}")), ..Default::default() };
    let genesis = genesis_payload(signer.did(), Some(&json!({"n": 0})), &options).expect("genesis");
    let first = request(signer, &genesis);
    let genesis_cid = first.commit.parse().expect("a CID");
    let mut prev = genesis_cid;
    let mut writes = vec![first];
    for n in 1..=updates {
        let patch = json!([{"op": "replace", "path": "/n", "value": n}]);
        let payload = Payload::Data(DataCommit {
            id: genesis_cid,
            prev,
            header: Some(Header::default()),
            data: Some(json_to_ipld(&patch).expect("patch")),
        });
        let write = request(signer, &payload);
        prev = write.commit.parse().expect("a CID");
        writes.push(write);
    }
    writes
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once with few writes.
    let quick = std::env::args().all(|a| a != "--bench");
    let streams = if quick { 4 } else { env("NODE_LOAD_STREAMS", 64) };
    let updates = if quick { 3 } else { env("NODE_LOAD_UPDATES", 49) };
    let sync = env("NODE_LOAD_SYNC", 1) != 0;

    let signer = KeySigner::from_seed(KeyType::Ed25519, &[7; 32]).expect("seed");
    let writes: Vec<Vec<CommitRequest>> =
        (0..streams).map(|i| stream_writes(&signer, i, updates)).collect();
    let total: usize = writes.iter().map(Vec::len).sum();

    let dir = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (elapsed, mut latencies) = runtime.block_on(async move {
        let mut config = NodeConfig::local(dir.path());
        config.sync = sync;
        config.network = "bench".into();
        let node = Node::builder(config).with_doctype(Tile::new()).start().await.expect("starts");
        let url = format!("http://{}", node.grpc_addr().expect("addr"));
        tokio::spawn(node.run(std::future::pending()));
        let client = NodeClient::connect(url).await.expect("connects");

        let start = Instant::now();
        let tasks: Vec<_> = writes
            .into_iter()
            .map(|stream| {
                let mut client = client.clone();
                tokio::spawn(async move {
                    let mut latencies = Vec::with_capacity(stream.len());
                    for (i, write) in stream.into_iter().enumerate() {
                        let sent = Instant::now();
                        let result = if i == 0 {
                            client.create_stream(write).await
                        } else {
                            client.apply_commit(write).await
                        };
                        result.expect("the node accepts the write");
                        latencies.push(sent.elapsed());
                    }
                    latencies
                })
            })
            .collect();
        let mut latencies = Vec::with_capacity(total);
        for task in tasks {
            latencies.extend(task.await.expect("client task"));
        }
        (start.elapsed(), latencies)
    });
    latencies.sort();
    let rate = total as f64 / elapsed.as_secs_f64();
    println!(
        "node_load: {streams} clients x {} writes = {total} signed Tile commits over gRPC \
         (RocksDB, sync={sync}) in {:.2} s: {rate:.0} commits/s; latency p50 {:.2} ms, \
         p99 {:.2} ms, max {:.2} ms",
        updates + 1,
        elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}
