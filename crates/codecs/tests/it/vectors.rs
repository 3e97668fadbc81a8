//! Golden vectors made by `@ipld/dag-cbor` 9.2.5 and `@ipld/car` (`cargo xtask vectors`).

use ceramic_codecs::{Block, Cid, Codec, Ipld, cid_of, decode, encode, read_car, write_car};
use serde_json::Value;

fn load(name: &str) -> Vec<Value> {
    ceramic_streamid::test_utils::load_vectors(env!("CARGO_MANIFEST_DIR"), name)
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

/// A JSON number that serde_json could only read as a lossy f64 (outside the i64/u64 ranges).
fn lossy_number(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_f64()
                && n.as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && f.abs() >= 9.007_199_254_740_992e15)
        }
        Value::Array(items) => items.iter().any(lossy_number),
        Value::Object(map) => map.values().any(lossy_number),
        _ => false,
    }
}

/// Non-canonical encodings `@ipld/dag-cbor` decodes leniently. We accept only this one, with
/// its reason; all the others must be rejected.
const ACCEPTED_LENIENT: &[(&str, &str)] = &[(
    "decode-float64-integral-1",
    "a 64-bit float with an integral value is valid DAG-CBOR and re-encodes to the same bytes; \
     JS turns it into the integer 1 only because JS numbers cannot tell 1.0 from 1",
)];

#[test]
fn dag_cbor_matches_js() {
    let cases = load("js-dagcbor.json");
    assert!(cases.len() > 50);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let input = &case["input"];
        let exp = &case["expected"];
        match input["kind"].as_str().unwrap() {
            "encode" => {
                let bytes = unhex(&exp["hex"]);
                let value: Ipld = decode(&bytes, "value").unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(encode(&value).unwrap(), bytes, "{name}: re-encoding");
                assert_eq!(
                    cid_of(0x71, &bytes).to_string(),
                    exp["cid"].as_str().unwrap(),
                    "{name}: CID"
                );
                if !lossy_number(&input["dagjson"]) {
                    let from_json: Ipld =
                        serde_ipld_dagjson::from_slice(input["dagjson"].to_string().as_bytes())
                            .unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert_eq!(
                        hex::encode(encode(&from_json).unwrap()),
                        exp["hex"].as_str().unwrap(),
                        "{name}: encoding"
                    );
                }
            }
            "js-number" => {
                // JS numbers beyond 2^53 are floats even when integral.
                let value = Ipld::Float(input["dagjson"].as_f64().unwrap());
                assert_eq!(
                    hex::encode(encode(&value).unwrap()),
                    exp["hex"].as_str().unwrap(),
                    "{name}"
                );
            }
            "decode" => {
                let value: Ipld = decode(&unhex(&input["hex"]), "value")
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                let expected = exp["dagjson"].as_u64().map(|n| Ipld::Integer(n.into()));
                assert_eq!(Some(value), expected, "{name}");
            }
            "encode-error" => {
                let value = match input["js_value"].as_str().unwrap() {
                    "NaN" => Ipld::Float(f64::NAN),
                    "Infinity" => Ipld::Float(f64::INFINITY),
                    // Rust has no `undefined`; its nearest value, a missing Option, is left out.
                    "undefined" => continue,
                    other => panic!("{name}: unknown value {other}"),
                };
                assert!(encode(&value).is_err(), "{name}: encoded");
            }
            "bad" => {
                let result = decode::<Ipld>(&unhex(&input["hex"]), "value");
                assert!(result.is_err(), "{name}: accepted {result:?}; js said {}", exp["error"]);
            }
            "js-lenient" => {
                let result = decode::<Ipld>(&unhex(&input["hex"]), "value");
                match ACCEPTED_LENIENT.iter().find(|(n, _)| *n == name) {
                    Some(_) => assert!(result.is_ok(), "{name}: {result:?}"),
                    None => assert!(
                        result.is_err(),
                        "{name}: accepted a non-canonical encoding: {result:?}"
                    ),
                }
            }
            other => panic!("{name}: unknown kind {other}"),
        }
    }
}

#[test]
fn car_files_match_js() {
    for case in load("js-car.json") {
        let name = case["name"].as_str().unwrap();
        let input = &case["input"];
        let roots: Vec<Cid> = input["roots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| Cid::try_from(r.as_str().unwrap()).unwrap())
            .collect();
        let blocks: Vec<Block> = input["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                Block::new(Cid::try_from(b["cid"].as_str().unwrap()).unwrap(), unhex(&b["hex"]))
                    .unwrap()
            })
            .collect();
        let car_bytes = unhex(&case["expected"]["car_hex"]);
        assert_eq!(
            hex::encode(write_car(&roots, &blocks).unwrap()),
            case["expected"]["car_hex"].as_str().unwrap(),
            "{name}: write"
        );
        let car = read_car(&car_bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(car.roots, roots, "{name}: roots");
        assert_eq!(car.blocks, blocks, "{name}: blocks");
        for block in &car.blocks {
            let codec = if block.cid().codec() == Codec::DagJose.code() {
                Codec::DagJose
            } else {
                Codec::DagCbor
            };
            assert_eq!(Block::from_data(codec, block.data().to_vec()).unwrap(), *block, "{name}");
        }
    }
}
