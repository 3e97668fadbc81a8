//! Body of the cargo-fuzz target `anchor_eth_rpc_response`, replayed by a unit test.

use crate::json::{Block, Receipt, Transaction, parse_response};

/// Reads `data` as a JSON-RPC response body (any id), then its `result` — and, for corpus
/// inputs that are bare objects, the whole body — as a transaction, a block and a receipt.
/// Whatever reads must write back to JSON that reads as the same value. Nothing may panic.
pub fn rpc_response(data: &[u8]) {
    let mut values = Vec::new();
    if let Ok(result) = parse_response(data, "fuzz", None) {
        values.push(result);
    }
    if let Ok(whole) = serde_json::from_slice::<serde_json::Value>(data) {
        values.push(whole);
    }
    for value in &values {
        if let Ok(tx) = Transaction::from_json(value) {
            assert_eq!(Transaction::from_json(&tx.to_json()).as_ref(), Ok(&tx));
        }
        if let Ok(block) = Block::from_json(value) {
            assert_eq!(Block::from_json(&block.to_json()).as_ref(), Ok(&block));
        }
        if let Ok(receipt) = Receipt::from_json(value) {
            assert_eq!(Receipt::from_json(&receipt.to_json()).as_ref(), Ok(&receipt));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replays_the_committed_fuzz_corpus() {
        ceramic_streamid::test_utils::replay_fuzz_corpus(
            env!("CARGO_MANIFEST_DIR"),
            &[("anchor_eth_rpc_response", super::rpc_response)],
        );
    }
}
