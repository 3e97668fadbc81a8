//! Messages helia sent us (testdata/helia-frames.json) decode to what the file says.

use ceramic_bitswap::{Message, WantType};
use serde_json::Value;

#[test]
fn decodes_messages_captured_from_helia() {
    let text = include_str!("../../testdata/helia-frames.json");
    let file: Value = serde_json::from_str(text).expect("json");
    for case in file["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().expect("name");
        let bytes = hex::decode(case["input"]["hex"].as_str().expect("hex")).expect("hex");
        let msg = Message::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let exp = &case["expected"];
        assert_eq!(msg.full, exp["full"].as_bool().expect("full"), "{name}");
        let wants = exp["wants"].as_array().expect("wants");
        assert_eq!(msg.wants.len(), wants.len(), "{name}");
        for (got, want) in msg.wants.iter().zip(wants) {
            assert_eq!(got.cid.to_string(), want["cid"].as_str().expect("cid"), "{name}");
            assert_eq!(i64::from(got.priority), want["priority"].as_i64().expect("p"), "{name}");
            assert_eq!(got.cancel, want["cancel"].as_bool().expect("cancel"), "{name}");
            let want_type = match want["want_type"].as_str() {
                Some("block") => WantType::Block,
                _ => WantType::Have,
            };
            assert_eq!(got.want_type, want_type, "{name}");
            assert_eq!(
                got.send_dont_have,
                want["send_dont_have"].as_bool().expect("sdh"),
                "{name}"
            );
        }
        let blocks = exp["blocks"].as_array().expect("blocks");
        assert_eq!(msg.blocks.len(), blocks.len(), "{name}");
        for (got, want) in msg.blocks.iter().zip(blocks) {
            assert_eq!(got.cid().to_string(), want["cid"].as_str().expect("cid"), "{name}");
            assert_eq!(hex::encode(got.data()), want["data_hex"].as_str().expect("data"), "{name}");
        }
        assert_eq!(msg.presences.len(), exp["presences"].as_array().expect("p").len(), "{name}");
        // Our encoding of the decoded message decodes to the same message.
        assert_eq!(Message::decode(&msg.encode()).expect("re-decodes"), msg, "{name}");
    }
}
