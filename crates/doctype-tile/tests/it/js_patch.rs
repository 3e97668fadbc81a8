//! Our [`diff`] against fast-json-patch 3.1.1 `compare()` (`testdata/js-patch-compare.json`),
//! and [`update_payload`] against `TileDocument#makeCommit` (stream-tile 6.4.0), the signed
//! update commit byte for byte (`testdata/js-patch-commits.json`).

use ceramic_codecs::Payload;
use ceramic_did::{KeySigner, KeyType, Signer as _, sign_commit};
use ceramic_doctype::{Genesis, SignatureStatus, StreamState, metadata_from_header};
use ceramic_doctype_tile::{GenesisOptions, Operation, diff, genesis_payload, update_payload};
use ceramic_streamid::{StreamId, StreamType};
use serde_json::{Value, json};

fn cases(file: &str) -> Vec<Value> {
    let path = format!("{}/testdata/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    doc["cases"].as_array().expect("cases").clone()
}

fn ops_json(old: &Value, new: &Value) -> Value {
    Value::Array(diff(old, new).into_iter().map(Operation::into_json).collect())
}

/// `patch` applied as our nodes apply patches (RFC 6902, strictly), or `None` if it fails.
fn applied(old: &Value, patch: &Value) -> Option<Value> {
    let patch: json_patch::Patch = serde_json::from_value(patch.clone()).ok()?;
    let mut doc = old.clone();
    json_patch::patch(&mut doc, &patch).ok()?;
    Some(doc)
}

/// Equal as JS values: numbers by value (`1` and `1.0` are one JS number), key order ignored.
fn js_same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| js_same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| js_same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn diff_is_fast_json_patch_compare() {
    let cases = cases("js-patch-compare.json");
    assert!(cases.len() >= 400, "{} cases", cases.len());
    let (mut exact, mut replaced) = (0, 0);
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let (old, new) = (&case["input"]["old"], &case["input"]["new"]);
        let ours = ops_json(old, new);
        assert!(
            applied(old, &ours).is_some_and(|doc| js_same(&doc, new)),
            "{name}: our patch {ours} does not turn the old value into the new one"
        );
        let expected = &case["expected"];
        let js_gives_new = expected
            .get("operations")
            .and_then(|ops| applied(old, ops))
            .is_some_and(|doc| js_same(&doc, new));
        if js_gives_new {
            assert_eq!(ours, expected["operations"], "{name}: not compare()'s operations");
            exact += 1;
        } else {
            // Only roots other than two objects or two arrays, where compare() writes a patch
            // that does not give `new` (or throws): one root replace instead.
            assert!(name.starts_with("root-"), "{name}: compare()'s patch does not give new");
            let fallback = if js_same(old, new) {
                json!([])
            } else {
                json!([{"op": "replace", "path": "", "value": new}])
            };
            assert_eq!(ours, fallback, "{name}: expected the root replace");
            replaced += 1;
        }
        if !name.starts_with("root-") {
            assert_eq!(expected["applies_to_new"], true, "{name}: JS's own apply");
        }
    }
    assert!(exact >= 420, "{exact} cases equal to compare()");
    assert!(replaced >= 10, "{replaced} root cases where compare() is wrong");
}

fn signer(case: &Value) -> KeySigner {
    let key_type = match case["input"]["key_type"].as_str() {
        Some("ed25519") => KeyType::Ed25519,
        Some("secp256k1") => KeyType::Secp256k1,
        other => panic!("unknown key type {other:?}"),
    };
    let seed = hex::decode(case["input"]["seed"].as_str().expect("seed")).expect("hex seed");
    KeySigner::from_seed(key_type, &seed).expect("valid seed")
}

#[test]
fn update_commits_are_byte_identical_to_tile_document() {
    let cases = cases("js-patch-commits.json");
    assert!(cases.len() >= 50, "{} cases", cases.len());
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let (input, expected) = (&case["input"], &case["expected"]);
        let signer = signer(case);
        assert_eq!(signer.did(), expected["did"], "{name}");

        // The genesis as TileDocument.makeGenesis wrote it.
        let options = GenesisOptions {
            unique: input["unique"].as_str().map(str::to_owned),
            ..GenesisOptions::default()
        };
        let genesis = genesis_payload(signer.did(), Some(&input["old"]), &options).expect(name);
        let signed = sign_commit(&signer, &genesis).expect(name);
        let genesis_cid = *signed.envelope_block().cid();
        let js_genesis = &expected["genesis"];
        assert_eq!(hex::encode(signed.payload_block().data()), js_genesis["payload_hex"], "{name}");
        assert_eq!(
            hex::encode(signed.envelope_block().data()),
            js_genesis["envelope_hex"],
            "{name}"
        );
        assert_eq!(genesis_cid.to_string(), js_genesis["envelope_cid"], "{name}: genesis");

        // The state a client reads from a node: the genesis content, in the order the JS node
        // holds it (as the vector lists it).
        let Payload::Genesis(g) = &genesis else { panic!("{name}: not a genesis") };
        let stream = StreamId::new(StreamType::TILE, genesis_cid).expect(name);
        assert_eq!(stream.to_string(), expected["stream_id"], "{name}");
        let state = StreamState::from_genesis(
            stream,
            None,
            Genesis::new(
                input["old"].clone(),
                metadata_from_header(&g.header),
                SignatureStatus::Signed,
            ),
        );

        let payload = update_payload(&state, &input["new"]).expect(name);
        let Payload::Data(data) = &payload else { panic!("{name}: not a data commit") };
        let ops = ceramic_doctype::ipld_to_json(data.data.as_ref().expect("data")).expect(name);
        assert_eq!(ops, expected["operations"], "{name}: operations");
        let signed = sign_commit(&signer, &payload).expect(name);
        let update = &expected["update"];
        assert_eq!(hex::encode(signed.payload_block().data()), update["payload_hex"], "{name}");
        assert_eq!(signed.payload_block().cid().to_string(), update["payload_cid"], "{name}");
        assert_eq!(hex::encode(signed.envelope_block().data()), update["envelope_hex"], "{name}");
        assert_eq!(signed.envelope_block().cid().to_string(), update["envelope_cid"], "{name}");
    }
}

#[test]
fn a_null_content_is_an_empty_patch_as_in_js() {
    // TileDocument#makeCommit: `if (newContent == null) newContent = this.content`.
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[7; 32]).expect("seed");
    let genesis = genesis_payload(signer.did(), Some(&json!({"a": 1})), &GenesisOptions::default())
        .expect("genesis");
    let cid = *sign_commit(&signer, &genesis).expect("signs").envelope_block().cid();
    let Payload::Genesis(g) = &genesis else { unreachable!("a genesis") };
    let state = StreamState::from_genesis(
        StreamId::new(StreamType::TILE, cid).expect("stream"),
        None,
        Genesis::new(json!({"a": 1}), metadata_from_header(&g.header), SignatureStatus::Signed),
    );
    let Payload::Data(data) = update_payload(&state, &Value::Null).expect("payload") else {
        unreachable!("a data commit")
    };
    assert_eq!(
        ceramic_doctype::ipld_to_json(data.data.as_ref().expect("data")).unwrap(),
        json!([])
    );
}
