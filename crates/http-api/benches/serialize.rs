//! `serialize`: the HTTP API's per-commit conversion work, outside the engine. `parse_apply`
//! reads a `POST /api/v0/commits` body as `@ceramicnetwork/http-client` sends it (a signed Tile
//! update with a 5-operation JSON patch as a `DagJWSResult`: base64url JWS, base64 linkedBlock)
//! into blocks, rebuilding and strictly re-decoding the dag-jose envelope and hash-checking the
//! payload; `to_json` serializes the stored blocks back for `GET /api/v0/commits`.
//!
//! Run: `cargo bench -p ceramic-http-api --bench serialize`.

use std::hint::black_box;

use ceramic_codecs::{Cid, DataCommit, Header, Payload};
use ceramic_did::{KeySigner, KeyType, sign_commit};
use ceramic_doctype::json_to_ipld;
use ceramic_http_api::commit::to_json;
use ceramic_http_api::request::parse_apply;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;

fn bench(c: &mut Criterion) {
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[7; 32]).expect("seed");
    let genesis = ceramic_codecs::cid_of(0x71, b"bench genesis");
    let patch = json!([
        {"op": "replace", "path": "/title", "value": "bench title"},
        {"op": "add", "path": "/count", "value": 42},
        {"op": "add", "path": "/tags/-", "value": "c"},
        {"op": "remove", "path": "/old"},
        {"op": "add", "path": "/nested", "value": {"a": [1, 2, 3], "b": "text"}}
    ]);
    let payload = Payload::Data(DataCommit {
        id: genesis,
        prev: genesis,
        header: Some(Header::default()),
        data: Some(json_to_ipld(&patch).expect("json")),
    });
    let signed = sign_commit(&signer, &payload).expect("signs");
    let stream =
        ceramic_streamid::StreamId::new(ceramic_streamid::StreamType::TILE, genesis).expect("id");
    let body = json!({
        "streamId": stream.to_string(),
        "commit": signed.to_dag_jws_result(),
        "opts": {"anchor": true, "publish": true, "sync": 0}
    })
    .to_string()
    .into_bytes();
    let blocks = [signed.envelope_block().clone(), signed.payload_block().clone()];
    let lookup = |cid: &Cid| blocks.iter().find(|b| b.cid() == cid).map(|b| b.data().to_vec());

    let mut group = c.benchmark_group("serialize");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_apply", |b| {
        b.iter_batched(
            || body.clone(),
            |body| black_box(parse_apply(&body).expect("parses")),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("to_json", |b| {
        b.iter(|| black_box(to_json(signed.envelope_block().cid(), lookup).expect("serializes")))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
