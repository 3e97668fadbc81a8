//! Serialized commits against the JS golden vectors (`crates/did/testdata`, made by the pinned
//! `@ceramicnetwork/*` packages), and round-trip properties.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use ceramic_codecs::{Block, Cid, Codec, Payload, Unique};
use ceramic_http_api::commit::{from_json, to_json};
use ceramic_http_api::test_utils::{arb_js_payload, arb_signed_blocks};
use ceramic_streamid::test_utils::load_vectors;
use proptest::prelude::*;
use serde_json::{Value, json};

const DID_CRATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../did");

fn lookup(blocks: &[Block]) -> impl Fn(&Cid) -> Option<Vec<u8>> + '_ {
    |cid| blocks.iter().find(|b| b.cid() == cid).map(|b| b.data().to_vec())
}

fn hex(value: &Value) -> Vec<u8> {
    hex_decode(value.as_str().expect("hex string"))
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Every signed commit of `js-tile.json` (genesis and updates) as the `DagJWSResult` the JS
/// client sends: it reads to exactly the JS envelope and payload blocks, and our serialization
/// of those blocks is that same JSON.
#[test]
fn signed_js_commits_read_to_the_js_blocks_and_serialize_back() {
    for case in load_vectors(DID_CRATE, "js-tile.json") {
        let name = case["name"].as_str().unwrap();
        let expected = &case["expected"];
        let commits = std::iter::once(&expected["genesis"])
            .chain(expected["updates"].as_array().unwrap().iter());
        for (i, commit) in commits.enumerate() {
            let payload = hex(&commit["payload_hex"]);
            let container = json!({
                "jws": commit["jws"],
                "linkedBlock": STANDARD_NO_PAD.encode(&payload),
            });
            let read = from_json(&container).unwrap_or_else(|e| panic!("{name}[{i}]: {e}"));
            assert_eq!(read.cid().to_string(), commit["envelope_cid"], "{name}[{i}]");
            assert_eq!(read.payload_cid().to_string(), commit["payload_cid"], "{name}[{i}]");
            assert_eq!(read.blocks()[0].data(), hex(&commit["envelope_hex"]), "{name}[{i}]");
            assert_eq!(read.blocks()[1].data(), payload, "{name}[{i}]");
            let back = to_json(read.cid(), lookup(read.blocks())).unwrap();
            assert_eq!(back, container, "{name}[{i}]");
        }
    }
}

/// The unsigned genesis commits of `js-unsigned.json` in their JSON form read to the JS
/// payload block. The one with a text `unique` is js's own quirk: `deserializeCommit` turns a
/// base64 `unique` into bytes (and `serializeCommit` cannot send a text one), so it reads to
/// another block, as in js.
#[test]
fn unsigned_js_genesis_commits_read_to_the_js_blocks() {
    for case in load_vectors(DID_CRATE, "js-unsigned.json") {
        let name = case["name"].as_str().unwrap();
        let expected = &case["expected"];
        let json = &expected["payload_dagjson"];
        let read = from_json(json).unwrap_or_else(|e| panic!("{name}: {e}"));
        if json["header"].get("unique").is_some() {
            let Payload::Genesis(genesis) = Payload::decode(read.blocks()[0].data()).unwrap()
            else {
                panic!("{name}: not a genesis")
            };
            assert!(matches!(genesis.header.unique, Some(Unique::Bytes(_))), "{name}");
            continue;
        }
        assert_eq!(read.cid().to_string(), expected["payload_cid"], "{name}");
        assert_eq!(read.blocks()[0].data(), hex(&expected["payload_hex"]), "{name}");
        assert_eq!(to_json(read.cid(), lookup(read.blocks())).unwrap(), *json, "{name}");
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,10}".prop_map(Value::from),
        prop_oneof![
            Just("jws"),
            Just("linkedBlock"),
            Just("payload"),
            Just("signatures"),
            Just("link"),
            Just("header"),
            Just("data"),
            Just("id"),
            Just("prev"),
            Just("unique"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("jws".to_string()),
                    Just("linkedBlock".to_string()),
                    Just("payload".to_string()),
                    Just("signatures".to_string()),
                    Just("signature".to_string()),
                    Just("protected".to_string()),
                    Just("link".to_string()),
                    Just("header".to_string()),
                    Just("data".to_string()),
                    Just("id".to_string()),
                    Just("prev".to_string()),
                    "[a-z]{1,4}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// An unsigned commit's block, serialized and read back, is the same block.
    #[test]
    fn unsigned_commits_round_trip(payload in arb_js_payload()) {
        let block = Block::encode(Codec::DagCbor, &payload).unwrap();
        let json = to_json(block.cid(), lookup(std::slice::from_ref(&block))).unwrap();
        let read = from_json(&json).unwrap();
        prop_assert_eq!(read.cid(), block.cid());
        prop_assert_eq!(read.blocks(), std::slice::from_ref(&block));
        prop_assert!(!read.is_signed());
    }

    /// A signed commit's two blocks, serialized as a `DagJWSResult` and read back, are the
    /// same blocks.
    #[test]
    fn signed_commits_round_trip((envelope, payload) in arb_signed_blocks()) {
        let blocks = [envelope.clone(), payload.clone()];
        let json = to_json(envelope.cid(), lookup(&blocks)).unwrap();
        let read = from_json(&json).unwrap();
        prop_assert_eq!(read.cid(), envelope.cid());
        prop_assert_eq!(read.payload_cid(), payload.cid());
        prop_assert_eq!(read.blocks(), &blocks[..]);
    }

    /// Any JSON is read without a panic; what reads, serializes back to the same commit.
    #[test]
    fn any_json_reads_without_panic(value in arb_json()) {
        if let Ok(read) = from_json(&value)
            && let Ok(json) = to_json(read.cid(), lookup(read.blocks()))
        {
            let again = from_json(&json).unwrap();
            prop_assert_eq!(again.cid(), read.cid());
        }
    }
}
