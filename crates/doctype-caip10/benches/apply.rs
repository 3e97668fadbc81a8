//! Applying one CAIP-10 link commit: `apply_data` on a genesis state (proof decoding, ecrecover,
//! replay guard, state copy), and its parts, `recover_address` alone and `LinkProof::verify`.
//! ecrecover (a secp256k1 point recovery plus two keccak-256) dominates.
//!
//! Run with `cargo bench -p ceramic-doctype-caip10`. Inputs are built outside the timed
//! closures from fixed keys, so runs are comparable.

use std::hint::black_box;

use ceramic_codecs::{Block, Codec, DataCommit, Payload};
use ceramic_doctype::{Commit, Context, ContextError, Doctype, StreamState};
use ceramic_doctype_caip10::{
    Caip10Link, LinkProof, eth_address, genesis_for_account, recover_address,
};
use ceramic_streamid::{CommitId, StreamId, StreamType};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use k256::ecdsa::SigningKey;

struct NoStreams;

impl Context for NoStreams {
    fn load_content(&self, id: &CommitId) -> Result<serde_json::Value, ContextError> {
        Err(ContextError::NotFound(*id))
    }
}

fn apply(c: &mut Criterion) {
    let wallet = SigningKey::from_slice(&[0x42; 32]).expect("a valid scalar");
    let account = format!("eip155:1:{}", eth_address(wallet.verifying_key()));
    let genesis = Payload::Genesis(genesis_for_account(&account).expect("a valid account"));
    let genesis_cid = *Block::encode(Codec::DagCbor, &genesis).expect("encodes").cid();
    let commit = Commit {
        cid: genesis_cid,
        payload: &genesis,
        signer: None,
        capability: None,
        timestamp: None,
    };
    let genesis = Caip10Link.apply_genesis(&commit, &NoStreams).expect("a valid genesis");
    let stream = StreamId::new(StreamType::CAIP10_LINK, genesis_cid).expect("a CIDv1");
    let state = StreamState::from_genesis(stream, None, genesis);

    let proof = LinkProof::sign_eoa(&wallet, "did:key:z6MkBenchmark", 1, 1_700_000_000);
    let update = Payload::Data(DataCommit {
        id: genesis_cid,
        prev: state.tip(),
        header: None,
        data: Some(proof.to_ipld()),
    });
    let cid = *Block::encode(Codec::DagCbor, &update).expect("encodes").cid();
    let commit = Commit { cid, payload: &update, signer: None, capability: None, timestamp: None };

    let mut group = c.benchmark_group("caip10");
    group.throughput(Throughput::Elements(1));
    group.bench_function("apply_data", |b| {
        b.iter(|| {
            let change = Caip10Link.apply_data(black_box(&state), black_box(&commit), &NoStreams);
            change.map(|change| state.with_change(cid, None, change))
        })
    });
    group.bench_function("verify_proof", |b| b.iter(|| black_box(&proof).verify()));
    group.bench_function("recover_address", |b| {
        b.iter(|| recover_address(black_box(&proof.message), black_box(&proof.signature)))
    });
    group.finish();
}

criterion_group!(benches, apply);
criterion_main!(benches);
