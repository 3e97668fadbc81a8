//! `verify_signed_commit`: decode a dag-jose envelope and its payload block, check that the
//! payload hashes to the envelope's link, resolve the did:key and verify the Ed25519 signature —
//! beside a raw Ed25519 verify of the same signing input with an already-decoded key, in the
//! same run. After the runs it prints our rate as a percentage of the raw rate (target ≥ 70%).
//!
//! Run: `cargo xtask bench -- verify_signed_commit` (or `cargo bench -p ceramic-benches --bench
//! verify_signed_commit`). Figures: `benches/README.md`.

use std::hint::black_box;
use std::time::Duration;

use ceramic_benches::{mean_ns, signed_tile_update};
use ceramic_did::{CachingResolver, KeyResolver, verify_commit};
use criterion::{Criterion, Throughput};

const GROUP: &str = "verify_signed_commit";

fn bench(c: &mut Criterion) {
    let (signer, signed) = signed_tile_update(7);
    let envelope = signed.envelope_block().data().to_vec();
    let payload = signed.payload_block().data().to_vec();
    let jws = signed.jws();
    let input = jws.signing_input(0).expect("one signature");
    let signature =
        ed25519_dalek::Signature::from_slice(&jws.signatures[0].signature).expect("64 bytes");
    let ceramic_did::PublicKey::Ed25519(key) = signer.did_key().public_key().clone() else {
        unreachable!("an Ed25519 signer")
    };
    let cached = CachingResolver::new(KeyResolver, 1024);

    let mut group = c.benchmark_group(GROUP);
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("raw_ed25519_verify", |b| {
        b.iter(|| key.verify_strict(black_box(&input), black_box(&signature)).expect("valid"))
    });
    group.bench_function("verify_signed_commit", |b| {
        b.iter(|| {
            verify_commit(&KeyResolver, black_box(&envelope), black_box(&payload)).expect("valid")
        })
    });
    group.bench_function("verify_signed_commit_cached_key", |b| {
        b.iter(|| verify_commit(&cached, black_box(&envelope), black_box(&payload)).expect("valid"))
    });
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
    let raw = mean_ns(GROUP, "raw_ed25519_verify");
    for name in ["verify_signed_commit", "verify_signed_commit_cached_key"] {
        if let (Some(raw), Some(ours)) = (raw, mean_ns(GROUP, name)) {
            println!(
                "{name}: {:.1} µs/commit = {:.0} commits/s; raw verify {:.1} µs = {:.0}/s; ratio {:.1}% of the raw rate",
                ours / 1e3,
                1e9 / ours,
                raw / 1e3,
                1e9 / raw,
                100.0 * raw / ours
            );
        }
    }
}
