//! The `ceramic` binary end to end: JSON out, typed errors as `{"error"}` with exit status 1.

use std::time::Duration;

use ceramic_testkit::{Finished, Program};
use serde_json::Value;

/// Runs `ceramic <args>`; killed if it has not finished within a minute.
fn ceramic(args: &[&str]) -> Finished {
    Program::new(env!("CARGO_BIN_EXE_ceramic"))
        .args(args)
        .echo(false)
        .run(Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn json_ok(args: &[&str]) -> Value {
    let out = ceramic(args);
    assert!(out.status.success(), "{args:?}: {}", out.stderr);
    serde_json::from_str(&out.stdout).expect("JSON on stdout")
}

fn json_err(args: &[&str]) -> String {
    let out = ceramic(args);
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
    let err: Value = serde_json::from_str(&out.stderr).expect("JSON on stderr");
    err["error"].as_str().expect("an error message").to_string()
}

const TILE: &str = "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s";
const SEED: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

#[test]
fn inspects_stream_and_commit_ids() {
    let v = json_ok(&["inspect", TILE]);
    assert_eq!(v["kind"], "StreamID");
    assert_eq!(v["type_name"], "tile");
    assert_eq!(v["genesis"], "bagcqcerakszw2vsovxznyp5gfnpdj4cqm2xiv76yd24wkjewhhykovorwo6a");
    let c = json_ok(&["inspect", &format!("/ceramic/{TILE}?commit=0")]);
    assert_eq!(c["id"], "k3y52l7qbv1frxwipl4hp7e6jlu4f6u8upm2xv0irmedfkm5cnutmezzi3u7mytj4");
    assert_eq!(c["is_genesis"], true);
    let from_hex = json_ok(&["inspect", "--hex", v["bytes"].as_str().unwrap()]);
    assert_eq!(from_hex["id"], TILE);
}

#[test]
fn reports_bad_ids_as_json_errors() {
    assert!(json_err(&["inspect", "kjzl6"]).contains("not a StreamID"));
    assert!(json_err(&["inspect", "--hex", "ce01000185"]).contains("input ended"));
    assert!(json_err(&["inspect", &format!("{TILE} ")]).contains("invalid stream reference"));
    assert!(json_err(&["inspect", "--hex", "zz"]).contains("not hex"));
}

#[test]
fn makes_the_did_key_js_makes_for_a_seed() {
    // crates/did/testdata/js-didkey.json, key-did-provider-ed25519 with this seed.
    let v = json_ok(&["did", "from-seed", "--seed", SEED]);
    assert_eq!(v["did"], "did:key:z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd");
    let g = json_ok(&["did", "generate", "--key-type", "secp256k1"]);
    let again = json_ok(&[
        "did",
        "from-seed",
        "--key-type",
        "secp256k1",
        "--seed",
        g["seed"].as_str().unwrap(),
    ]);
    assert_eq!(again["did"], g["did"]);
    assert!(json_err(&["did", "from-seed", "--seed", "abcd"]).contains("seed"));
}

#[test]
fn signs_then_decodes_a_genesis_commit() {
    let did = json_ok(&["did", "from-seed", "--seed", SEED])["did"].as_str().unwrap().to_string();
    let payload = format!(
        r#"{{"header":{{"controllers":["{did}"],"unique":"GrSeMLsVcyyUgs6U"}},"data":{{"count":1,"title":"hello"}}}}"#
    );
    let dir = tempfile::tempdir().unwrap();
    let seed_file = dir.path().join("seed");
    std::fs::write(&seed_file, SEED).unwrap();
    let signed =
        json_ok(&["sign", "--seed-file", seed_file.to_str().unwrap(), "--payload", &payload]);
    // The same commit as js-tile.json "ed25519-simple-content" genesis.
    assert_eq!(signed["cid"], "bagcqcerar53hazv2depoutumggndcz4j4tipadrywpijvephbzctcg7dyv5a");
    assert_eq!(
        signed["tileStreamId"],
        "kjzl6cwe1jw148ult6kf3ub9ce4uwcz4pa8c7gd7wn7u9i6vqootnvh0ccx6flm"
    );

    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
    let envelope = b64.decode(signed["envelopeBlock"].as_str().unwrap()).unwrap();
    let payload_block = b64.decode(signed["linkedBlock"].as_str().unwrap()).unwrap();
    let env_file = dir.path().join("envelope.hex");
    std::fs::write(&env_file, hex::encode(&envelope)).unwrap();
    let decoded = json_ok(&["decode", "--hex", env_file.to_str().unwrap()]);
    assert_eq!(decoded["kind"], "envelope");
    assert_eq!(decoded["link"], signed["jws"]["link"]);
    let payload_file = dir.path().join("payload.bin");
    std::fs::write(&payload_file, &payload_block).unwrap();
    let decoded = json_ok(&["decode", payload_file.to_str().unwrap()]);
    assert_eq!(decoded["kind"], "genesis");
    assert_eq!(decoded["value"]["data"]["title"], "hello");
}

#[test]
fn decodes_a_car_and_refuses_a_tampered_one() {
    // crates/codecs/testdata/js-car.json: a CAR written by @ipld/car.
    let vectors: Value =
        serde_json::from_str(include_str!("../../../crates/codecs/testdata/js-car.json")).unwrap();
    let car_hex = vectors["cases"][0]["expected"]["car_hex"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tile.car.hex");
    std::fs::write(&file, car_hex).unwrap();
    let v = json_ok(&["decode", "--car", "--hex", file.to_str().unwrap()]);
    assert_eq!(v["roots"][0], vectors["cases"][0]["input"]["roots"][0]);
    assert!(!v["blocks"].as_array().unwrap().is_empty());

    let mut bytes = hex::decode(car_hex).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&file, hex::encode(bytes)).unwrap();
    assert!(
        json_err(&["decode", "--car", "--hex", file.to_str().unwrap()])
            .contains("does not match its CID")
    );
}

#[test]
fn refuses_a_block_that_is_not_canonical() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.hex");
    // {"b": 1, "a": 2}: keys out of order.
    std::fs::write(&file, "a2616201616102").unwrap();
    assert!(json_err(&["decode", "--hex", file.to_str().unwrap()]).contains("dag-cbor"));
}
