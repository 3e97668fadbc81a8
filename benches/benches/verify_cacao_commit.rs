//! `verify_cacao_commit`: a Tile commit written through a CACAO session (did-session's signing
//! path, vectors made by the real JS libraries in `crates/did/testdata/js-cacao.json`) verified
//! as the engine does — the session key's JWS (`verify_commit`, cached did:key resolver), then
//! the CACAO: block hash, decode, wallet signature (cached by CID in a warm `CacaoVerifier`),
//! audience, resources and time — for an Ethereum (EIP-191) and a Solana (Ed25519) wallet, beside
//! the plain did:key verify of the same commit in the same run. Also the cold CACAO check (a
//! fresh verifier each time: secp256k1 recovery + keccak, or Ed25519). After the runs it prints
//! each session path's overhead over the did:key verify (target: < 30 % when cached).
//!
//! Run: `cargo bench -p ceramic-benches --bench verify_cacao_commit`. Figures:
//! `benches/README.md`.

use std::hint::black_box;
use std::time::Duration;

use ceramic_benches::mean_ns;
use ceramic_did::{CacaoVerifier, CachingResolver, KeyResolver, verify_commit};
use criterion::{Criterion, Throughput};
use serde_json::Value;

const GROUP: &str = "verify_cacao_commit";

struct Vector {
    envelope: Vec<u8>,
    payload: Vec<u8>,
    cacao: Vec<u8>,
    stream: String,
    at_ms: i64,
}

fn unhex(v: &Value) -> Vec<u8> {
    let s = v.as_str().expect("hex string").as_bytes();
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex"))
        .collect()
}

fn vector(name: &str) -> Vector {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/did/testdata/js-cacao.json");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vectors")).expect("json");
    let case = file["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["name"] == name)
        .expect("case")
        .clone();
    let commit = &case["commits"][1]; // an update, as most writes are
    Vector {
        envelope: unhex(&commit["envelope_hex"]),
        payload: unhex(&commit["payload_hex"]),
        cacao: unhex(&commit["cacao_block_hex"]),
        stream: commit["stream_id"].as_str().expect("stream").to_string(),
        at_ms: case["at_time"].as_i64().expect("time") * 1000,
    }
}

fn bench(c: &mut Criterion) {
    let resolver = CachingResolver::new(KeyResolver, 1024);
    let mut group = c.benchmark_group(GROUP);
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(6));
    for (label, name) in [("ethereum", "ethereum-session"), ("solana", "solana-session")] {
        let v = vector(name);
        let warm = CacaoVerifier::default();
        let check = |verifier: &CacaoVerifier| {
            let verified = verify_commit(&resolver, black_box(&v.envelope), black_box(&v.payload))
                .expect("valid");
            verified
                .check_capability(verifier, black_box(&v.cacao), &v.stream, None, v.at_ms)
                .expect("valid")
                .expect("a session commit")
        };
        check(&warm);
        group.bench_function(format!("{label}_did_key_only"), |b| {
            b.iter(|| {
                verify_commit(&resolver, black_box(&v.envelope), black_box(&v.payload))
                    .expect("valid")
            })
        });
        group.bench_function(format!("{label}_session_cached"), |b| b.iter(|| check(&warm)));
        group.bench_function(format!("{label}_session_cold"), |b| {
            b.iter(|| check(&CacaoVerifier::new(1)))
        });
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
    for label in ["ethereum", "solana"] {
        let Some(base) = mean_ns(GROUP, &format!("{label}_did_key_only")) else { continue };
        for kind in ["cached", "cold"] {
            if let Some(ours) = mean_ns(GROUP, &format!("{label}_session_{kind}")) {
                println!(
                    "{label} session ({kind}): {:.1} µs/commit = {:.0}/s; did:key verify of the same commit {:.1} µs; overhead {:+.1}%",
                    ours / 1e3,
                    1e9 / ours,
                    base / 1e3,
                    100.0 * (ours - base) / base
                );
            }
        }
    }
}
