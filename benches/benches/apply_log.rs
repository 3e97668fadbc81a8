//! `apply_log`: the engine replays a 1,000-commit signed Tile log from its blocks — load each
//! commit, verify its Ed25519 signature, check `id`/`prev`, apply the JSON patch and validate
//! the new content against the stream's JSON schema — beside a raw Ed25519 verify of one
//! commit's signing input in the same run. Prints the per-commit cost and our rate as a share
//! of the raw signature-verify rate.
//!
//! Run: `cargo xtask bench -- apply_log`. Figures: `benches/README.md`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use ceramic_benches::mean_ns;
use ceramic_codecs::{Block, DataCommit, GenesisCommit, Header, Payload, Unique};
use ceramic_did::{KeySigner, KeyType, Signer, sign_commit};
use ceramic_doctype::{Registry, json_to_ipld};
use ceramic_doctype_tile::Tile;
use ceramic_engine::Engine;
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_storage::MemoryStorage;
use ceramic_storage::kv::{Backend, Batch, Column};
use ceramic_streamid::{StreamId, StreamType};
use criterion::{Criterion, Throughput};
use serde_json::json;

const GROUP: &str = "apply_log";
const COMMITS: usize = 1_000;

fn signed(
    signer: &KeySigner,
    payload: Payload,
    blocks: &mut Vec<Block>,
) -> (ceramic_codecs::Cid, Vec<u8>, Vec<u8>) {
    let commit = sign_commit(signer, &payload).expect("signs");
    blocks.push(commit.envelope_block().clone());
    blocks.push(commit.payload_block().clone());
    let jws = commit.jws();
    (
        *commit.envelope_block().cid(),
        jws.signing_input(0).expect("signed"),
        jws.signatures[0].signature.clone(),
    )
}

/// A schema tile, then a tile bound to it with `COMMITS - 1` signed updates.
fn fixture() -> (StreamId, ceramic_codecs::Cid, Vec<Block>, KeySigner, Vec<u8>, Vec<u8>) {
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[11; 32]).expect("seed");
    let header = |schema: Option<String>, unique: &str| Header {
        controllers: Some(vec![signer.did().to_string()]),
        schema,
        unique: Some(Unique::Text(unique.into())),
        ..Header::default()
    };
    let mut blocks = Vec::new();
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"title": {"type": "string"}, "n": {"type": "integer", "minimum": 0}},
        "required": ["title", "n"],
        "additionalProperties": false
    });
    let schema_genesis = GenesisCommit {
        header: header(None, "schema"),
        data: Some(json_to_ipld(&schema).expect("json")),
    };
    let (schema_cid, _, _) = signed(&signer, schema_genesis.into(), &mut blocks);
    let schema_id =
        StreamId::new(StreamType::TILE, schema_cid).expect("v1").genesis_commit_id().to_string();

    let content = json!({"title": "bench", "n": 0});
    let genesis = GenesisCommit {
        header: header(Some(schema_id), "doc"),
        data: Some(json_to_ipld(&content).expect("json")),
    };
    let (genesis_cid, _, _) = signed(&signer, genesis.into(), &mut blocks);
    let stream = StreamId::new(StreamType::TILE, genesis_cid).expect("v1");
    let mut tip = genesis_cid;
    let mut last = (Vec::new(), Vec::new());
    for n in 1..COMMITS {
        let patch = json!([{"op": "replace", "path": "/n", "value": n}]);
        let update = DataCommit {
            id: genesis_cid,
            prev: tip,
            header: Some(Header::default()),
            data: Some(json_to_ipld(&patch).expect("json")),
        };
        let (cid, input, signature) = signed(&signer, update.into(), &mut blocks);
        tip = cid;
        last = (input, signature);
    }
    (stream, tip, blocks, signer, last.0, last.1)
}

fn bench(c: &mut Criterion) {
    let (stream, tip, blocks, signer, input, signature) = fixture();
    // The log's blocks, stored without a state (as a peer's would be), through the backend.
    let store = Arc::new(MemoryStorage::new());
    let mut batch = Batch::new();
    for block in &blocks {
        batch.put(Column::Blocks, block.cid().to_bytes(), block.data().to_vec());
    }
    store.backend().write(batch).expect("the memory backend never fails");
    let mut registry = Registry::new();
    registry.register(Tile::new()).expect("one tile doctype");
    let engine = Engine::new(
        store,
        registry,
        Arc::new(FakeAnchorVerifier::default()),
        Arc::new(RecordingPublisher::default()),
    );
    let state = engine.state_at(&stream, tip).expect("the log applies");
    assert_eq!(state.log().len(), COMMITS);
    assert_eq!(state.current_content()["n"], (COMMITS - 1) as u64);

    let ceramic_did::PublicKey::Ed25519(key) = signer.did_key().public_key().clone() else {
        unreachable!("Ed25519")
    };
    let signature = ed25519_dalek::Signature::from_slice(&signature).expect("64 bytes");

    let mut group = c.benchmark_group(GROUP);
    group.measurement_time(Duration::from_secs(10));
    group.sample_size(20);
    group.throughput(Throughput::Elements(1));
    group.bench_function("raw_ed25519_verify", |b| {
        b.iter(|| key.verify_strict(black_box(&input), black_box(&signature)).expect("valid"))
    });
    group.throughput(Throughput::Elements(COMMITS as u64));
    group.bench_function("replay_1000_signed_tile_commits", |b| {
        b.iter(|| engine.state_at(black_box(&stream), black_box(tip)).expect("applies"))
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
    if let (Some(raw), Some(log)) =
        (mean_ns(GROUP, "raw_ed25519_verify"), mean_ns(GROUP, "replay_1000_signed_tile_commits"))
    {
        let per_commit = log / COMMITS as f64;
        println!(
            "apply_log: {:.1} µs/commit = {:.0} commits/s; raw verify {:.1} µs = {:.0}/s; ratio {:.1}% of the raw rate",
            per_commit / 1e3,
            1e9 / per_commit,
            raw / 1e3,
            1e9 / raw,
            100.0 * raw / per_commit
        );
    }
}
