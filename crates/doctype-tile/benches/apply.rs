//! `apply`: the Tile doctype's `apply_data` for one signed update carrying a 5-operation JSON
//! patch, on a 20-key object, without a schema and with a schema bound to the stream (the
//! compiled validator is cached after the first call, as on a node). The signature check is the
//! engine's and is not in the timed path.
//!
//! `diff`: the patch a client writes for an edit ([`ceramic_doctype_tile::diff`], fast-json-patch
//! `compare()`'s rules), on the 22-key content with the bench's 5-operation edit, and on a
//! 1,000-key content 136 operations away (values changed, keys removed and added, arrays
//! grown); plus `update_payload` (the diff and its conversion to IPLD) for the small edit.
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

/// The content after [`five_ops`].
fn edited(content: &Value) -> Value {
    let mut new = content.clone();
    new["title"] = json!("bench, updated");
    new["field3"]["n"] = json!(33);
    new["tags"].as_array_mut().expect("tags").push(json!("c"));
    new.as_object_mut().expect("object").shift_remove("field7");
    new["created"] = json!("2024-01-02T03:04:05Z");
    new
}

/// 1,000 keys of small objects, and a copy 136 operations away.
fn large_pair() -> (Value, Value) {
    let mut old = Map::new();
    for i in 0..1_000 {
        old.insert(format!("key{i}"), json!({"n": i, "list": [i, i + 1], "s": format!("v{i}")}));
    }
    let mut new = old.clone();
    for i in (0..1_000).step_by(30) {
        new[&format!("key{i}")]["n"] = json!(-1);
        new.shift_remove(&format!("key{}", i + 1));
        new.insert(format!("new{i}"), json!({"added": true}));
        new[&format!("key{}", i + 2)]["list"].as_array_mut().expect("list").push(json!(0));
    }
    (Value::Object(old), Value::Object(new))
}

fn diff(c: &mut Criterion) {
    let mut group = c.benchmark_group("tile_diff");
    group.throughput(Throughput::Elements(1));
    let small = (content(), edited(&content()));
    assert_eq!(ceramic_doctype_tile::diff(&small.0, &small.1).len(), 5);
    let large = large_pair();
    for (label, (old, new)) in [("22_keys_5_changes", &small), ("1000_keys_136_ops", &large)] {
        group.bench_with_input(BenchmarkId::new("diff", label), &(), |b, _| {
            b.iter(|| ceramic_doctype_tile::diff(black_box(old), black_box(new)))
        });
    }
    let tile = Tile::new();
    let (state, _) = setup(&tile, &MemoryContext::new(), false);
    group.bench_with_input(BenchmarkId::new("update_payload", "22_keys_5_changes"), &(), |b, _| {
        b.iter(|| ceramic_doctype_tile::update_payload(black_box(&state), black_box(&small.1)))
    });
    group.finish();
}

criterion_group!(benches, apply, diff);
criterion_main!(benches);
