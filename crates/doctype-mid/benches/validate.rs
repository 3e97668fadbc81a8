//! `mid`: the MID doctype validating a create (genesis with content) and an update (a 3-operation
//! JSON patch) of a `list` document against a Model with a 10-property schema (formats, a
//! pattern, bounds), the Model served from memory. `cached`: the compiled schema is kept per
//! Model commit, as on a node; `uncached` (cache capacity 0): the Model is parsed and its schema
//! compiled on every commit, which is what the cache saves. Signatures are the engine's and are
//! not in the timed path.
//!
//! Run: `cargo bench -p ceramic-doctype-mid --bench validate`.

#![allow(missing_docs)]

use std::collections::HashMap;
use std::hint::black_box;

use ceramic_codecs::{Block, Codec, DataCommit, GenesisCommit, Header, Payload, Unique};
use ceramic_doctype::{Commit, Context, ContextError, Doctype, StreamState, json_to_ipld};
use ceramic_doctype_mid::ModelInstanceDocument;
use ceramic_doctype_model::{META_MODEL, Model};
use ceramic_streamid::{CommitId, StreamId, StreamType};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};

const ALICE: &str = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";

struct Streams(HashMap<StreamId, StreamState>);

impl Context for Streams {
    fn load_content(&self, id: &CommitId) -> Result<Value, ContextError> {
        Err(ContextError::NotFound(*id))
    }
    fn load_state(&self, stream: &StreamId) -> Result<Option<StreamState>, ContextError> {
        Ok(self.0.get(stream).cloned())
    }
}

fn definition() -> Value {
    json!({
        "version": "2.0", "name": "Bench", "interface": false, "implements": [],
        "accountRelation": {"type": "list"},
        "immutableFields": ["created"],
        "schema": {
            "type": "object", "additionalProperties": false,
            "required": ["title", "created"],
            "properties": {
                "title": {"type": "string", "maxLength": 200},
                "body": {"type": "string", "maxLength": 10000},
                "created": {"type": "string", "format": "date-time"},
                "author": {"type": "string", "format": "email"},
                "url": {"type": "string", "format": "uri"},
                "slug": {"type": "string", "pattern": "^[a-z0-9-]+$"},
                "score": {"type": "integer", "minimum": 0, "maximum": 100},
                "ratio": {"type": "number"},
                "public": {"type": "boolean"},
                "tags": {"type": "array", "maxItems": 10, "items": {"type": "string", "maxLength": 20}}
            }
        }
    })
}

fn content() -> Value {
    json!({
        "title": "A post", "body": "Some text ".repeat(20), "created": "2024-05-06T07:08:09Z",
        "author": "a@example.org", "url": "https://example.org/a", "slug": "a-post",
        "score": 42, "ratio": 0.5, "public": true, "tags": ["a", "b", "c"]
    })
}

fn cid_of(payload: &Payload) -> ceramic_codecs::Cid {
    *Block::encode(Codec::DagCbor, payload).expect("encodes").cid()
}

fn setup() -> (Streams, Payload, StreamId) {
    let payload = Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![ALICE.into()]),
            model: Some(META_MODEL.to_vec().into()),
            sep: Some("model".into()),
            ..Header::default()
        },
        data: Some(json_to_ipld(&definition()).expect("json")),
    });
    let cid = cid_of(&payload);
    let commit =
        Commit { cid, payload: &payload, signer: Some(ALICE), capability: None, timestamp: None };
    let mut ctx = Streams(HashMap::new());
    let genesis = Model.apply_genesis(&commit, &ctx).expect("valid model");
    let model = StreamId::new(StreamType::MODEL, cid).expect("id");
    ctx.0.insert(model, StreamState::from_genesis(model, None, genesis));
    let mid_genesis = Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![ALICE.into()]),
            model: Some(model.to_bytes().into()),
            sep: Some("model".into()),
            unique: Some(Unique::Bytes(vec![1; 12])),
            ..Header::default()
        },
        data: Some(json_to_ipld(&content()).expect("json")),
    });
    (ctx, mid_genesis, model)
}

fn bench(c: &mut Criterion) {
    let (ctx, genesis_payload, _) = setup();
    let gcid = cid_of(&genesis_payload);
    let genesis_commit = Commit {
        cid: gcid,
        payload: &genesis_payload,
        signer: Some(ALICE),
        capability: None,
        timestamp: None,
    };
    let patch = json!([
        {"op": "replace", "path": "/title", "value": "An edited post"},
        {"op": "replace", "path": "/score", "value": 43},
        {"op": "add", "path": "/tags/-", "value": "d"}
    ]);
    let mut group = c.benchmark_group("mid");
    group.throughput(Throughput::Elements(1));
    for (label, capacity) in [("cached", 500), ("uncached", 0)] {
        let mid = ModelInstanceDocument::with_cache_capacity(capacity);
        let genesis = mid.apply_genesis(&genesis_commit, &ctx).expect("valid genesis");
        let state = StreamState::from_genesis(
            StreamId::new(StreamType::MID, gcid).expect("id"),
            None,
            genesis,
        );
        let update = Payload::Data(DataCommit {
            id: gcid,
            prev: state.tip(),
            header: None,
            data: Some(json_to_ipld(&patch).expect("json")),
        });
        let ucid = cid_of(&update);
        let update_commit = Commit {
            cid: ucid,
            payload: &update,
            signer: Some(ALICE),
            capability: None,
            timestamp: None,
        };
        group.bench_function(format!("create/{label}"), |b| {
            b.iter(|| black_box(mid.apply_genesis(black_box(&genesis_commit), &ctx).expect("ok")))
        });
        group.bench_function(format!("update/{label}"), |b| {
            b.iter(|| {
                black_box(mid.apply_data(black_box(&state), &update_commit, &ctx).expect("ok"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
