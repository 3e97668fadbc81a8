//! Fixtures and reporting helpers shared by the criterion benches in `benches/benches/`.
//!
//! Run them with `cargo xtask bench` (or `cargo bench -p ceramic-benches`); the figures we
//! quote, with command, machine and date, are in `benches/README.md`.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use ceramic_codecs::{DataCommit, Ipld, Payload};
use ceramic_did::{KeySigner, KeyType, SignedCommit, sign_commit};
use ceramic_streamid::Cid;

/// A signed Tile update like the ones real apps write: a 5-operation JSON patch over a genesis,
/// signed with an Ed25519 did:key from a fixed seed.
///
/// # Panics
/// Never for the fixed inputs used here.
pub fn signed_tile_update(seed: u8) -> (KeySigner, SignedCommit) {
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[seed; 32]).expect("32-byte seed");
    let signed = signed_tile_update_by(&signer);
    (signer, signed)
}

/// The same Tile update (a 5-operation JSON patch) signed by any signer (a secp256k1 did:key, a
/// 3ID key).
pub fn signed_tile_update_by(signer: &dyn ceramic_did::Signer) -> SignedCommit {
    let genesis: Cid =
        "bagcqcerar53hazv2depoutumggndcz4j4tipadrywpijvephbzctcg7dyv5a".parse().expect("a CID");
    let ops = serde_json::json!([
        {"op": "replace", "path": "/title", "value": "hello world, again"},
        {"op": "replace", "path": "/count", "value": 42},
        {"op": "add", "path": "/tags/-", "value": "benchmark"},
        {"op": "remove", "path": "/draft"},
        {"op": "add", "path": "/author", "value": {"name": "Ada", "url": "https://example.com/ada"}},
    ]);
    let data: Ipld = serde_ipld_dagjson_from(&ops);
    let payload = Payload::Data(DataCommit {
        id: genesis,
        prev: genesis,
        header: Some(Default::default()),
        data: Some(data),
    });
    sign_commit(signer, &payload).expect("signs")
}

fn serde_ipld_dagjson_from(value: &serde_json::Value) -> Ipld {
    // The patch holds only strings, integers and maps: a direct conversion is enough.
    match value {
        serde_json::Value::Null => Ipld::Null,
        serde_json::Value::Bool(b) => Ipld::Bool(*b),
        serde_json::Value::Number(n) => Ipld::Integer(n.as_i64().expect("integers only").into()),
        serde_json::Value::String(s) => Ipld::String(s.clone()),
        serde_json::Value::Array(a) => Ipld::List(a.iter().map(serde_ipld_dagjson_from).collect()),
        serde_json::Value::Object(o) => {
            Ipld::Map(o.iter().map(|(k, v)| (k.clone(), serde_ipld_dagjson_from(v))).collect())
        }
    }
}

/// Where criterion writes its estimates: `$CARGO_TARGET_DIR/criterion`, or the workspace's
/// `target/criterion`.
pub fn criterion_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("criterion")
}

/// The mean time, in nanoseconds, criterion estimated for `group/function` in this run, if
/// it ran (it does not in `cargo test --benches` mode).
pub fn mean_ns(group: &str, function: &str) -> Option<f64> {
    let path = criterion_dir().join(group).join(function).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["mean"]["point_estimate"].as_f64()
}
