//! Real anvil answers (`testdata/anvil-rpc.json`) read into typed values; every truncation of
//! them is the typed error `NotJson`, and every answer missing a field reads or is a typed
//! `Field` error, never a panic.

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
    let mut cuts = 0;
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let method = case["input"]["method"].as_str().unwrap();
        let body = case["input"]["body"].as_str().unwrap().as_bytes();
        // Cutting only trailing whitespace leaves the whole answer; every other cut is not JSON.
        let whole = body.trim_ascii_end().len();
        for end in 0..whole {
            let result = parse_response(&body[..end], method, None);
            assert!(
                matches!(result, Err(RpcError::NotJson(_))),
                "{name}: cut at {end} of {}: {result:?}",
                body.len()
            );
            cuts += 1;
        }
    }
    assert!(cuts > 1_000, "only {cuts} cuts: are the vectors there?");
}

#[test]
fn every_answer_missing_a_field_is_a_typed_field_error_or_reads() {
    let mut refused = 0;
    for case in cases() {
        let name = case["name"].as_str().unwrap();
        let kind = case["expected"]["kind"].as_str().unwrap();
        if !["transaction", "receipt", "block"].contains(&kind) {
            continue;
        }
        let body = case["input"]["body"].as_str().unwrap().as_bytes();
        let result = parse_response(body, "m", None).unwrap();
        for key in result.as_object().unwrap().keys() {
            let mut cut = result.clone();
            cut.as_object_mut().unwrap().remove(key);
            let read = match kind {
                "transaction" => Transaction::from_json(&cut).map(drop),
                "receipt" => Receipt::from_json(&cut).map(drop),
                _ => Block::from_json(&cut).map(drop),
            };
            match read {
                Ok(()) => {}
                Err(RpcError::Field { .. }) => refused += 1,
                Err(other) => panic!("{name} without {key}: {other:?}"),
            }
        }
    }
    assert!(refused > 0, "no field is required?");
}
