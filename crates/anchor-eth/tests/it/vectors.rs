//! Real anvil answers (`testdata/anvil-rpc.json`) read into typed values; every truncation of
//! them is a typed error, never a panic.

use ceramic_anchor::{ANCHOR_CONTRACT, root_from_v0_calldata, root_from_v1_calldata};
use ceramic_anchor_eth::{Block, Receipt, RpcError, Transaction, parse_response, quantity};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/anvil-rpc.json");
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(file["source"].is_string());
    file["cases"].as_array().unwrap().clone()
}

#[test]
fn reads_every_anvil_answer() {
    const ROOT: &str = "bafyreigs2yqh2olnwzrsykyt6gvgsabk7hu5e7gtmjrkobq25af5x3y7be";
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let method = case["input"]["method"].as_str().unwrap();
        let body = case["input"]["body"].as_str().unwrap().as_bytes();
        let param = &case["input"]["params"][0];
        let kind = case["expected"]["kind"].as_str().unwrap();
        let result = parse_response(body, method, None);
        match kind {
            "quantity" => {
                let value = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(quantity(value.as_str().unwrap(), 64).is_ok(), "{name}");
            }
            "null" => assert_eq!(result, Ok(Value::Null), "{name}"),
            "error" => {
                assert!(matches!(result, Err(RpcError::Remote { .. })), "{name}: {result:?}")
            }
            "transaction" => {
                let tx = Transaction::from_json(&result.unwrap())
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(
                    format!("0x{}", hex::encode(tx.hash)),
                    param.as_str().unwrap(),
                    "{name}"
                );
                assert!(tx.block_number.is_some() && tx.block_hash.is_some(), "{name}: mined");
                let root = if tx.to == Some(ANCHOR_CONTRACT) {
                    root_from_v1_calldata(&tx.input)
                } else {
                    root_from_v0_calldata(&tx.input)
                };
                assert_eq!(root.unwrap().to_string(), ROOT, "{name}");
            }
            "receipt" => {
                let receipt =
                    Receipt::from_json(&result.unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(receipt.status, Some(true), "{name}");
                assert_eq!(
                    format!("0x{}", hex::encode(receipt.transaction_hash)),
                    param.as_str().unwrap()
                );
            }
            "block" => {
                let block =
                    Block::from_json(&result.unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"));
                // anvil ran with --timestamp 1700000000.
                assert!(block.timestamp >= 1_700_000_000, "{name}: {}", block.timestamp);
                assert!(block.base_fee_per_gas.is_some(), "{name}");
            }
            other => panic!("{name}: unknown kind {other}"),
        }
    }
}

#[test]
fn every_truncated_answer_is_a_typed_error() {
    for case in cases() {
        let body = case["input"]["body"].as_str().unwrap().as_bytes();
        for end in 0..body.len() {
            let Ok(result) = parse_response(&body[..end], "m", None) else { continue };
            // Cut JSON never parses as a whole object; if it somehow did, reading must not panic.
            let _ = (Transaction::from_json(&result), Block::from_json(&result));
            let _ = Receipt::from_json(&result);
        }
    }
}
