//! `apply`: the Tile doctype's `apply_data` for one signed update carrying a 5-operation JSON
//! patch, on a 20-key object, without a schema and with a schema bound to the stream (the
//! compiled validator is cached after the first call, as on a node). The signature check is the
//! engine's and is not in the timed path.
//!
//! Run: `cargo bench -p ceramic-doctype-tile --bench apply`.

use std::hint::black_box;

use ceramic_codecs::Header;
use ceramic_doctype::{Doctype, StreamState};
use ceramic_doctype_tile::Tile;
use ceramic_doctype_tile::test_utils::{Fixture, MemoryContext, Writer};
use ceramic_streamid::{CommitId, StreamId, StreamType};
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Map, Value, json};

fn schema_id() -> CommitId {
    let cid = ceramic_codecs::cid_of(0x71, b"bench schema");
    StreamId::new(StreamType::TILE, cid).and_then(|s| s.at_commit(cid)).expect("valid ids")
}

fn content() -> Value {
    let mut map = Map::new();
    for i in 0..20 {
        map.insert(format!("field{i}"), json!({"n": i, "label": format!("value {i}")}));
    }
    map.insert("title".into(), json!("bench"));
    map.insert("tags".into(), json!(["a", "b"]));
    Value::Object(map)
}

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 100},
            "tags": {"type": "array", "items": {"type": "string"}},
            "created": {"type": "string", "format": "date-time"}
        },
        "patternProperties": {
            "^field[0-9]+$": {
                "type": "object",
                "properties": {"n": {"type": "integer"}, "label": {"type": "string"}},
                "required": ["n"]
            }
        },
        "required": ["title"]
    })
}

fn five_ops() -> Value {
    json!([
        {"op": "replace", "path": "/title", "value": "bench, updated"},
        {"op": "replace", "path": "/field3/n", "value": 33},
        {"op": "add", "path": "/tags/-", "value": "c"},
        {"op": "remove", "path": "/field7"},
        {"op": "add", "path": "/created", "value": "2024-01-02T03:04:05Z"}
    ])
}

/// A stream after its genesis, and one update to apply to it.
fn setup(tile: &Tile, ctx: &MemoryContext, with_schema: bool) -> (StreamState, Fixture) {
    let writer = Writer::new(9);
    let header = Header { schema: with_schema.then(|| schema_id().to_string()), ..writer.header() };
    let genesis = writer.genesis(header, Some(content()));
    let state = genesis.apply_genesis(tile, ctx).expect("genesis applies");
    let update = writer.update(&state, Header::default(), five_ops());
    (state, update)
}

fn apply(c: &mut Criterion) {
    let ctx = MemoryContext::new().with(schema_id(), schema());
    let mut group = c.benchmark_group("tile_apply_data");
    group.throughput(Throughput::Elements(1));
    for with_schema in [false, true] {
        let tile = Tile::new();
        let (state, update) = setup(&tile, &ctx, with_schema);
        let label = if with_schema { "schema" } else { "no_schema" };
        group.bench_with_input(BenchmarkId::new("5_op_patch", label), &with_schema, |b, _| {
            b.iter_batched_ref(
                || update.commit(),
                |commit| {
                    tile.apply_data(black_box(&state), black_box(commit), &ctx).expect("applies")
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, apply);
criterion_main!(benches);
