//! The commits js-ceramic's `TileDocument` (stream-tile 6.4.0) made in
//! `crates/did/testdata/js-tile.json` apply, and give the content and metadata the JS client
//! asked for.

use ceramic_codecs::Payload;
use ceramic_did::{KeyResolver, verify_commit};
use ceramic_doctype::{Commit, Metadata, SignatureStatus, StreamState};
use ceramic_doctype_tile::Tile;
use ceramic_doctype_tile::test_utils::{MemoryContext, data_state, genesis_state};
use ceramic_streamid::CommitId;
use serde_json::{Value, json};

fn vectors() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../did/testdata/js-tile.json");
    let text = std::fs::read_to_string(path).expect("js-tile.json is readable");
    let file: Value = serde_json::from_str(&text).expect("js-tile.json is JSON");
    file["cases"].as_array().expect("cases").clone()
}

/// Verifies a JS commit the way the engine does and returns (envelope CID, payload, signer).
fn verified(name: &str, commit: &Value) -> (ceramic_codecs::Cid, Payload, String) {
    let envelope = hex::decode(commit["envelope_hex"].as_str().unwrap()).unwrap();
    let payload = hex::decode(commit["payload_hex"].as_str().unwrap()).unwrap();
    let verified = verify_commit(&KeyResolver, &envelope, &payload)
        .unwrap_or_else(|e| panic!("{name}: JS commit does not verify: {e}"));
    let cid = commit["envelope_cid"].as_str().unwrap().parse().unwrap();
    assert_eq!(Payload::decode(&payload).unwrap(), *verified.payload(), "{name}");
    (cid, verified.payload().clone(), verified.did().to_owned())
}

/// The schema tile the "ed25519-with-schema" case names. The vector does not carry the schema's
/// content; this one accepts every content of that case (JS did, since it wrote them).
fn context(case: &Value) -> MemoryContext {
    let ctx = MemoryContext::new();
    match case["input"]["metadata"]["schema"].as_str() {
        Some(schema) => ctx.with(
            schema.parse::<CommitId>().unwrap(),
            json!({
                "type": "object",
                "properties": {"name": {"type": "string"}, "v": {"type": "integer"}},
                "required": ["name"]
            }),
        ),
        None => ctx,
    }
}

fn metadata_json(metadata: &Metadata) -> Value {
    Value::Object(metadata.clone())
}

#[test]
fn js_tile_commits_apply_with_the_content_js_asked_for() {
    let tile = Tile::new();
    let cases = vectors();
    assert!(cases.len() >= 6);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let ctx = context(case);
        let expected = &case["expected"];

        let (cid, payload, signer) = verified(name, &expected["genesis"]);
        assert_eq!(signer, expected["did"].as_str().unwrap(), "{name}");
        let commit = Commit {
            cid,
            payload: &payload,
            signer: Some(&signer),
            capability: None,
            timestamp: None,
        };
        let mut state: StreamState = genesis_state(&tile, &commit, &ctx)
            .unwrap_or_else(|e| panic!("{name}: genesis rejected: {e}"));
        assert_eq!(state.content(), &case["input"]["content"], "{name}: genesis content");
        assert_eq!(
            metadata_json(state.metadata()),
            expected["genesis"]["payload_dagjson"]["header"],
            "{name}: genesis metadata is the header"
        );
        assert_eq!(state.signature(), SignatureStatus::Signed, "{name}");
        assert_eq!(state.stream_id().to_string(), expected["genesis"]["stream_id"], "{name}");

        let mut metadata = metadata_json(state.metadata());
        let inputs = case["input"]["updates"].as_array().unwrap();
        let commits = expected["updates"].as_array().unwrap();
        assert_eq!(inputs.len(), commits.len(), "{name}");
        for (i, (input, update)) in inputs.iter().zip(commits).enumerate() {
            let (cid, payload, signer) = verified(name, update);
            let commit = Commit {
                cid,
                payload: &payload,
                signer: Some(&signer),
                capability: None,
                timestamp: None,
            };
            state = data_state(&tile, &state, &commit, &ctx)
                .unwrap_or_else(|e| panic!("{name}: update {i} rejected: {e}"));
            assert_eq!(state.current_content(), &input["content"], "{name}: content after {i}");
            if let Some(changes) = input["metadata"].as_object() {
                for (k, v) in changes {
                    metadata[k] = v.clone();
                }
            }
            assert_eq!(
                metadata_json(state.current_metadata()),
                metadata,
                "{name}: metadata after {i}"
            );
            assert_eq!(state.log().len(), i + 2, "{name}");
            assert_eq!(state.tip(), cid, "{name}");
        }
    }
}

#[test]
fn the_handed_over_controller_signs_next() {
    // After "ed25519-controller-change", only the new controller may write.
    let case = vectors()
        .into_iter()
        .find(|c| c["name"] == "ed25519-controller-change")
        .expect("case present");
    let tile = Tile::new();
    let ctx = context(&case);
    let expected = &case["expected"];
    let (cid, payload, signer) = verified("handover", &expected["genesis"]);
    let commit =
        Commit { cid, payload: &payload, signer: Some(&signer), capability: None, timestamp: None };
    let mut state = genesis_state(&tile, &commit, &ctx).unwrap();
    for update in expected["updates"].as_array().unwrap() {
        let (cid, payload, signer) = verified("handover", update);
        let commit = Commit {
            cid,
            payload: &payload,
            signer: Some(&signer),
            capability: None,
            timestamp: None,
        };
        state = data_state(&tile, &state, &commit, &ctx).unwrap();
    }
    let new_controller =
        case["input"]["updates"][1]["metadata"]["controllers"][0].as_str().unwrap();
    assert_eq!(state.controller(), Some(new_controller));

    let seed =
        hex::decode(case["input"]["updates"][1]["new_controller_seed"].as_str().unwrap()).unwrap();
    let second = ceramic_doctype_tile::test_utils::Writer::from_signer(
        ceramic_did::KeySigner::from_seed(ceramic_did::KeyType::Ed25519, &seed).unwrap(),
    );
    assert_eq!(second.did(), new_controller);
    let first = ceramic_doctype_tile::test_utils::Writer::from_signer(
        ceramic_did::KeySigner::from_seed(
            ceramic_did::KeyType::Ed25519,
            &hex::decode(case["input"]["seed"].as_str().unwrap()).unwrap(),
        )
        .unwrap(),
    );
    let patch = json!([{"op": "add", "path": "/x", "value": 1}]);
    let by_first = first.update(&state, Default::default(), patch.clone());
    assert!(by_first.apply_data(&tile, &state, &ctx).is_err());
    let by_second = second.update(&state, Default::default(), patch);
    let state = by_second.apply_data(&tile, &state, &ctx).unwrap();
    assert_eq!(state.current_content(), &json!({"owner": "second", "x": 1}));
}
