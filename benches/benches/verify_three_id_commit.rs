//! `verify_three_id_commit`: verify a Tile update signed with a 3ID key (kid
//! `did:3:…?version-id=…#…`, ES256K) through the node's resolver stack (registry of did:key and
//! did:3 behind the `CachingResolver`; the version's keys cached, warm) and check the key's
//! rotation rules at the commit's anchor time — beside verifying the same update signed by a
//! secp256k1 did:key through the cached did:key resolver (the same algorithm). The 3ID's stream
//! is served from memory, as a node's state cache serves it. After the runs it prints the 3ID
//! path's cost over the did:key path (target < 30%).
//!
//! Run: `cargo bench -p ceramic-benches --bench verify_three_id_commit`. Figures:
//! `benches/README.md`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use ceramic_benches::{mean_ns, signed_tile_update_by};
use ceramic_codecs::Cid;
use ceramic_did::{
    At, CachingResolver, KeySigner, KeyType, Registry, Resolver, Signer, SourceError,
    ThreeIdLogEntry, ThreeIdResolver, ThreeIdSigner, ThreeIdSource, ThreeIdState,
    three_id_public_key, verify_commit,
};
use ceramic_streamid::{StreamId, StreamType};
use criterion::{Criterion, Throughput};
use serde_json::Value;

const GROUP: &str = "verify_three_id_commit";

/// One 3ID stream in memory: genesis, an update giving the keys, its anchor.
#[derive(Debug)]
struct OneThreeId {
    stream: StreamId,
    state: ThreeIdState,
}

impl ThreeIdSource for OneThreeId {
    fn load(&self, stream: &StreamId, _at: At) -> Result<Option<ThreeIdState>, SourceError> {
        Ok((*stream == self.stream).then(|| self.state.clone()))
    }
    fn legacy_document(&self, _cid: &Cid) -> Result<Option<Value>, SourceError> {
        Ok(None)
    }
}

fn cid(n: u8) -> Cid {
    ceramic_codecs::cid_of(0x71, &[n])
}

fn bench(c: &mut Criterion) {
    let did_key = KeySigner::from_seed(KeyType::Secp256k1, &[5; 32]).expect("a scalar");
    let key_signed = signed_tile_update_by(&did_key);

    let key = KeySigner::from_seed(KeyType::Secp256k1, &[6; 32]).expect("a scalar");
    let (name, value) = three_id_public_key(&key).expect("secp256k1");
    let stream = StreamId::new(StreamType::TILE, cid(0)).expect("a stream");
    let anchor = cid(2);
    let state = ThreeIdState {
        content: serde_json::json!({"publicKeys": {name: value}}),
        log: vec![
            ThreeIdLogEntry { cid: cid(0), anchor: false, timestamp: Some(1_700_000_000) },
            ThreeIdLogEntry { cid: cid(1), anchor: false, timestamp: Some(1_700_000_000) },
            ThreeIdLogEntry { cid: anchor, anchor: true, timestamp: Some(1_700_000_000) },
        ],
    };
    let source = Arc::new(OneThreeId { stream, state });
    let did = format!("did:3:{stream}");
    let signer = ThreeIdSigner::new(key, &did, Some(anchor)).expect("a 3ID signer");
    let kid = signer.kid();
    let three_signed = signed_tile_update_by(&signer);

    let resolver =
        CachingResolver::new(Registry::default().with("3", ThreeIdResolver::new(source)), 1024);
    let (key_envelope, key_payload) =
        (key_signed.envelope_block().data().to_vec(), key_signed.payload_block().data().to_vec());
    let (envelope, payload) = (
        three_signed.envelope_block().data().to_vec(),
        three_signed.payload_block().data().to_vec(),
    );
    // Warm the caches, and check both verify.
    verify_commit(&resolver, &key_envelope, &key_payload).expect("did:key commit verifies");
    verify_commit(&resolver, &envelope, &payload).expect("3ID commit verifies");
    resolver.check_key_time(&kid, Some(1_700_000_100)).expect("valid at its time");

    let mut group = c.benchmark_group(GROUP);
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("did_key_secp256k1_cached", |b| {
        b.iter(|| {
            verify_commit(&resolver, black_box(&key_envelope), black_box(&key_payload))
                .expect("valid")
        })
    });
    group.bench_function("three_id_cached", |b| {
        b.iter(|| {
            let verified =
                verify_commit(&resolver, black_box(&envelope), black_box(&payload)).expect("valid");
            resolver
                .check_key_time(&verified.signer().header.kid, Some(1_700_000_100))
                .expect("valid at its time");
            verified
        })
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
    if let (Some(key), Some(three)) =
        (mean_ns(GROUP, "did_key_secp256k1_cached"), mean_ns(GROUP, "three_id_cached"))
    {
        println!(
            "3ID verify {:.1} µs vs did:key (secp256k1) {:.1} µs: +{:.1}% (target < 30%)",
            three / 1e3,
            key / 1e3,
            100.0 * (three - key) / key
        );
    }
}
