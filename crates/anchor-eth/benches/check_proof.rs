//! `check_proof` against a real anvil: cold (the chain is asked: transaction, receipt and
//! block, three JSON-RPC round trips over loopback HTTP) versus warm (`Chains` answers from its
//! cache of confirmed proofs).
//!
//! Run: `cargo bench -p ceramic-anchor-eth --bench check_proof` (needs `cargo xtask tools`).
use std::hint::black_box;
use std::sync::Arc;

use ceramic_anchor::{Batch, Chain, Chains, Request};
use ceramic_anchor_eth::test_utils::Anvil;
use ceramic_codecs::cid_of;
use criterion::{Criterion, criterion_group, criterion_main};

fn check_proof(c: &mut Criterion) {
    let anvil = Anvil::start();
    let (chain, _) = anvil.chain_with_contract();
    let chain = Arc::new(chain);
    let requests = (0u8..16)
        .map(|i| Request { genesis: cid_of(0x71, &[i]), tip: cid_of(0x85, &[i]) })
        .collect();
    let batch = Batch::new(requests).expect("a batch");
    let tx_hash = chain.anchor_root(&batch.root()).expect("anchored on anvil");
    let anchors = batch.finish(chain.chain_id(), tx_hash, chain.tx_type()).expect("anchors");
    let proof = anchors.proof().clone();
    let chains = Chains::new().with(chain.clone());
    chains.check(&proof).expect("the proof checks");

    let mut group = c.benchmark_group("check_proof");
    group.bench_function("cold (anvil JSON-RPC)", |b| {
        b.iter(|| chain.check_proof(black_box(&proof)).expect("the proof checks"))
    });
    group.bench_function("warm (Chains cache)", |b| {
        b.iter(|| chains.check(black_box(&proof)).expect("the proof checks"))
    });
    group.finish();
}

criterion_group!(benches, check_proof);
criterion_main!(benches);
