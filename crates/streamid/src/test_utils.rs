//! Proptest strategies for ids, and test helpers shared with the crates above (golden-vector
//! files, fuzz-corpus replay), behind the feature `test-utils`.

use cid::Cid;
use cid::multihash::Multihash;
use proptest::prelude::*;

use crate::{CommitId, StreamId, StreamRef, StreamType};

/// Any CIDv1 with a codec seen in Ceramic (dag-cbor, dag-jose, raw, eth-tx) or an arbitrary one,
/// and a sha2-256, keccak-256 or identity multihash.
pub fn arb_cid() -> impl Strategy<Value = Cid> {
    let codec = prop_oneof![Just(0x71u64), Just(0x85), Just(0x55), Just(0x93), any::<u64>()];
    let hash = prop_oneof![
        prop::array::uniform32(any::<u8>()).prop_map(|d| (0x12u64, d.to_vec())),
        prop::array::uniform32(any::<u8>()).prop_map(|d| (0x1b, d.to_vec())),
        prop::collection::vec(any::<u8>(), 0..=64).prop_map(|d| (0x00, d)),
    ];
    (codec, hash).prop_map(|(codec, (code, digest))| {
        let hash = Multihash::<64>::wrap(code, &digest).expect("digest is at most 64 bytes");
        Cid::new_v1(codec, hash)
    })
}

/// A registered stream type most of the time, any code otherwise.
pub fn arb_stream_type() -> impl Strategy<Value = StreamType> {
    prop_oneof![4 => 0u64..5, 1 => any::<u64>()].prop_map(StreamType::new)
}

/// Any StreamID.
pub fn arb_stream_id() -> impl Strategy<Value = StreamId> {
    (arb_stream_type(), arb_cid())
        .prop_map(|(t, cid)| StreamId::new(t, cid).expect("arb_cid makes CIDv1"))
}

/// Any CommitID, at the genesis about a quarter of the time.
pub fn arb_commit_id() -> impl Strategy<Value = CommitId> {
    (arb_stream_id(), prop::option::weighted(0.75, arb_cid())).prop_map(|(id, commit)| match commit
    {
        Some(commit) => id.at_commit(commit).expect("arb_cid makes CIDv1"),
        None => id.genesis_commit_id(),
    })
}

/// Any StreamRef.
pub fn arb_stream_ref() -> impl Strategy<Value = StreamRef> {
    prop_oneof![
        arb_stream_id().prop_map(StreamRef::Stream),
        arb_commit_id().prop_map(StreamRef::Commit)
    ]
}

/// The cases of a golden-vector file `<manifest_dir>/testdata/<name>` (a JSON object with a
/// `source` and `cases`), checking that it names its source.
///
/// # Panics
/// When the file is missing or malformed: this is for tests.
pub fn load_vectors(manifest_dir: &str, name: &str) -> Vec<serde_json::Value> {
    let path = std::path::Path::new(manifest_dir).join("testdata").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let file: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    assert!(file["source"].is_string(), "{name} does not name its source");
    file["cases"].as_array().unwrap_or_else(|| panic!("{name} has no cases")).clone()
}

/// A cargo-fuzz target: its name and the body it runs on each input.
pub type FuzzTarget<'a> = (&'a str, fn(&[u8]));

/// Replays every file of `fuzz/corpus/<target>/` through each target's body, so that normal
/// test runs cover the committed corpus on stable.
///
/// # Panics
/// When a corpus is missing or empty, or a body panics: this is for tests.
pub fn replay_fuzz_corpus(manifest_dir: &str, targets: &[FuzzTarget<'_>]) {
    let root = std::path::Path::new(manifest_dir).join("../../fuzz/corpus");
    for (target, body) in targets {
        let dir = root.join(target);
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{dir:?}: {e}")).path();
            body(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}")));
            count += 1;
        }
        assert!(count > 0, "the corpus of {target} is empty");
    }
}
