//! Reading Ethereum JSON-RPC answers into typed values: the response envelope, hex quantities
//! and byte data, and the transaction, block and receipt objects (only the fields anchoring
//! uses). Every answer is untrusted: anything malformed is a typed [`RpcError`], never a panic.
//! Each type also writes itself back as JSON ([`Transaction::to_json`], …), which the property
//! tests and the fuzz target use to check that reading is exact.

use serde_json::{Map, Value, json};

use crate::tx::{Address, to_hex};
use crate::{FieldProblem, RpcError};

/// The most calldata a transaction may carry for us to read it (1 MiB): more than any block's
/// gas allows today.
pub const MAX_DATA_BYTES: usize = 1 << 20;

/// The `result` of a JSON-RPC response body to request `id` (`None`: any id).
///
/// # Errors
/// [`RpcError::NotJson`], [`RpcError::Envelope`], [`RpcError::IdMismatch`], and
/// [`RpcError::Remote`] for an `error` member.
pub fn parse_response(body: &[u8], method: &str, id: Option<u64>) -> Result<Value, RpcError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| RpcError::NotJson(e.to_string()))?;
    let Value::Object(mut object) = value else {
        return Err(RpcError::Envelope("not an object"));
    };
    if let Some(expected) = id {
        match object.get("id") {
            Some(Value::Number(n)) if n.as_u64() == Some(expected) => {}
            Some(other) => {
                return Err(RpcError::IdMismatch { expected, got: other.to_string() });
            }
            None => return Err(RpcError::Envelope("no id")),
        }
    }
    if let Some(error) = object.get("error").filter(|e| !e.is_null()) {
        let code = error.get("code").and_then(Value::as_i64);
        let message = error.get("message").and_then(Value::as_str);
        let (Some(code), Some(message)) = (code, message) else {
            return Err(RpcError::Envelope("error without a numeric code and a message"));
        };
        return Err(RpcError::Remote { method: method.into(), code, message: message.into() });
    }
    object.remove("result").ok_or(RpcError::Envelope("neither result nor error"))
}

/// Reads fields of one JSON object, naming the object in its errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields<'a> {
    object: &'static str,
    map: Option<&'a Map<String, Value>>,
}

impl<'a> Fields<'a> {
    /// The fields of `value`; if it is not an object every field reads as
    /// [`FieldProblem::NotString`].
    pub(crate) fn of(object: &'static str, value: &'a Value) -> Self {
        Fields { object, map: value.as_object() }
    }

    fn error(&self, field: &'static str, problem: FieldProblem) -> RpcError {
        RpcError::Field { object: self.object, field, problem }
    }

    /// The string value of `field`; `Ok(None)` when absent or null.
    fn string(&self, field: &'static str) -> Result<Option<&'a str>, RpcError> {
        let Some(map) = self.map else { return Err(self.error(field, FieldProblem::NotString)) };
        match map.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.error(field, FieldProblem::NotString)),
        }
    }

    fn required(&self, field: &'static str) -> Result<&'a str, RpcError> {
        self.string(field)?.ok_or_else(|| self.error(field, FieldProblem::Missing))
    }

    /// A quantity of at most `bits` bits, if present.
    fn quantity_opt(&self, field: &'static str, bits: u32) -> Result<Option<u128>, RpcError> {
        self.string(field)?.map(|s| quantity(s, bits).map_err(|p| self.error(field, p))).transpose()
    }

    /// A `u64` quantity, if present.
    pub(crate) fn u64_opt(&self, field: &'static str) -> Result<Option<u64>, RpcError> {
        // quantity() checked the value fits 64 bits.
        Ok(self.quantity_opt(field, 64)?.map(|v| v as u64))
    }

    /// A required `u64` quantity.
    pub(crate) fn u64(&self, field: &'static str) -> Result<u64, RpcError> {
        self.u64_opt(field)?.ok_or_else(|| self.error(field, FieldProblem::Missing))
    }

    /// A `u128` quantity (fees, balances), if present.
    pub(crate) fn u128_opt(&self, field: &'static str) -> Result<Option<u128>, RpcError> {
        self.quantity_opt(field, 128)
    }

    /// Byte data of exactly `N` bytes, if present.
    pub(crate) fn fixed_opt<const N: usize>(
        &self,
        field: &'static str,
    ) -> Result<Option<[u8; N]>, RpcError> {
        let Some(text) = self.string(field)? else { return Ok(None) };
        let bytes = data(text).map_err(|p| self.error(field, p))?;
        let got = bytes.len();
        bytes
            .try_into()
            .map(Some)
            .map_err(|_| self.error(field, FieldProblem::Length { expected: N, got }))
    }

    /// Required byte data of exactly `N` bytes.
    pub(crate) fn fixed<const N: usize>(&self, field: &'static str) -> Result<[u8; N], RpcError> {
        self.fixed_opt(field)?.ok_or_else(|| self.error(field, FieldProblem::Missing))
    }

    /// Required byte data of any length up to [`MAX_DATA_BYTES`].
    pub(crate) fn data(&self, field: &'static str) -> Result<Vec<u8>, RpcError> {
        data(self.required(field)?).map_err(|p| self.error(field, p))
    }
}

/// A JSON-RPC quantity: `0x` and hex digits without leading zeros (`0x0` for zero), at most
/// `bits` bits.
///
/// # Errors
/// [`FieldProblem::NoPrefix`], [`FieldProblem::NotCanonical`], [`FieldProblem::NotHex`],
/// [`FieldProblem::TooLarge`].
pub fn quantity(text: &str, bits: u32) -> Result<u128, FieldProblem> {
    let digits = text.strip_prefix("0x").ok_or(FieldProblem::NoPrefix)?;
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
        return Err(FieldProblem::NotCanonical);
    }
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FieldProblem::NotHex);
    }
    // 4 bits per digit; the first digit is not 0, so this bounds the value.
    if digits.len() > bits.div_ceil(4) as usize {
        return Err(FieldProblem::TooLarge(bits));
    }
    let value = u128::from_str_radix(digits, 16).map_err(|_| FieldProblem::NotHex)?;
    if bits < 128 && value >> bits != 0 {
        return Err(FieldProblem::TooLarge(bits));
    }
    Ok(value)
}

/// JSON-RPC byte data: `0x` and an even number of hex digits, at most [`MAX_DATA_BYTES`].
///
/// # Errors
/// [`FieldProblem::NoPrefix`], [`FieldProblem::DataTooLong`], [`FieldProblem::NotHex`].
pub fn data(text: &str) -> Result<Vec<u8>, FieldProblem> {
    let digits = text.strip_prefix("0x").ok_or(FieldProblem::NoPrefix)?;
    if digits.len() > 2 * MAX_DATA_BYTES {
        return Err(FieldProblem::DataTooLong(MAX_DATA_BYTES));
    }
    hex::decode(digits).map_err(|_| FieldProblem::NotHex)
}

/// A quantity as JSON-RPC writes it.
pub(crate) fn to_quantity(value: u128) -> String {
    format!("{value:#x}")
}

/// A transaction as `eth_getTransactionByHash` returns it (the fields anchoring reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Its hash.
    pub hash: [u8; 32],
    /// The block it is in; `None` while pending.
    pub block_hash: Option<[u8; 32]>,
    /// The number of that block; `None` while pending.
    pub block_number: Option<u64>,
    /// The sender.
    pub from: Address,
    /// The recipient; `None` for a contract creation.
    pub to: Option<Address>,
    /// The calldata (`input`).
    pub input: Vec<u8>,
}

impl Transaction {
    /// Reads a transaction object. A mined transaction must have both `blockHash` and
    /// `blockNumber`, a pending one neither.
    ///
    /// # Errors
    /// [`RpcError::Field`] for a missing or malformed field.
    pub fn from_json(value: &Value) -> Result<Self, RpcError> {
        let f = Fields::of("transaction", value);
        let tx = Transaction {
            hash: f.fixed("hash")?,
            block_hash: f.fixed_opt("blockHash")?,
            block_number: f.u64_opt("blockNumber")?,
            from: f.fixed("from")?,
            to: f.fixed_opt("to")?,
            input: f.data("input")?,
        };
        if tx.block_hash.is_some() != tx.block_number.is_some() {
            let field = if tx.block_hash.is_some() { "blockNumber" } else { "blockHash" };
            return Err(f.error(field, FieldProblem::Missing));
        }
        Ok(tx)
    }

    /// The JSON object [`Transaction::from_json`] reads back.
    pub fn to_json(&self) -> Value {
        json!({
            "hash": to_hex(&self.hash),
            "blockHash": self.block_hash.map(|h| to_hex(&h)),
            "blockNumber": self.block_number.map(|n| to_quantity(n.into())),
            "from": to_hex(&self.from),
            "to": self.to.map(|a| to_hex(&a)),
            "input": to_hex(&self.input),
        })
    }
}

/// A block header as `eth_getBlockByHash` / `eth_getBlockByNumber` return it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Its hash.
    pub hash: [u8; 32],
    /// Its number.
    pub number: u64,
    /// Its timestamp (unix seconds).
    pub timestamp: u64,
    /// The EIP-1559 base fee; `None` before the London fork.
    pub base_fee_per_gas: Option<u128>,
}

impl Block {
    /// Reads a block object.
    ///
    /// # Errors
    /// [`RpcError::Field`] for a missing or malformed field.
    pub fn from_json(value: &Value) -> Result<Self, RpcError> {
        let f = Fields::of("block", value);
        Ok(Block {
            hash: f.fixed("hash")?,
            number: f.u64("number")?,
            timestamp: f.u64("timestamp")?,
            base_fee_per_gas: f.u128_opt("baseFeePerGas")?,
        })
    }

    /// The JSON object [`Block::from_json`] reads back.
    pub fn to_json(&self) -> Value {
        json!({
            "hash": to_hex(&self.hash),
            "number": to_quantity(self.number.into()),
            "timestamp": to_quantity(self.timestamp.into()),
            "baseFeePerGas": self.base_fee_per_gas.map(to_quantity),
        })
    }
}

/// A receipt as `eth_getTransactionReceipt` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The transaction's hash.
    pub transaction_hash: [u8; 32],
    /// The block it is in.
    pub block_hash: [u8; 32],
    /// The number of that block.
    pub block_number: u64,
    /// Whether it succeeded (`status` 1) or reverted (0); `None` for pre-Byzantium receipts,
    /// which have no status.
    pub status: Option<bool>,
    /// The contract a creation made.
    pub contract_address: Option<Address>,
}

impl Receipt {
    /// Reads a receipt object.
    ///
    /// # Errors
    /// [`RpcError::Field`] for a missing or malformed field, or a status other than 0 or 1.
    pub fn from_json(value: &Value) -> Result<Self, RpcError> {
        let f = Fields::of("receipt", value);
        let status = match f.u64_opt("status")? {
            None => None,
            Some(0) => Some(false),
            Some(1) => Some(true),
            Some(other) => {
                return Err(f.error("status", FieldProblem::Unexpected(other.to_string())));
            }
        };
        Ok(Receipt {
            transaction_hash: f.fixed("transactionHash")?,
            block_hash: f.fixed("blockHash")?,
            block_number: f.u64("blockNumber")?,
            status,
            contract_address: f.fixed_opt("contractAddress")?,
        })
    }

    /// The JSON object [`Receipt::from_json`] reads back.
    pub fn to_json(&self) -> Value {
        json!({
            "transactionHash": to_hex(&self.transaction_hash),
            "blockHash": to_hex(&self.block_hash),
            "blockNumber": to_quantity(self.block_number.into()),
            "status": self.status.map(|s| to_quantity(s.into())),
            "contractAddress": self.contract_address.map(|a| to_hex(&a)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quantities_are_canonical_hex() {
        assert_eq!(quantity("0x0", 64), Ok(0));
        assert_eq!(quantity("0x539", 64), Ok(1337));
        assert_eq!(quantity("0xffffffffffffffff", 64), Ok(u64::MAX.into()));
        assert_eq!(quantity("0x10000000000000000", 64), Err(FieldProblem::TooLarge(64)));
        assert_eq!(quantity("0x01", 64), Err(FieldProblem::NotCanonical));
        assert_eq!(quantity("0x", 64), Err(FieldProblem::NotCanonical));
        assert_eq!(quantity("539", 64), Err(FieldProblem::NoPrefix));
        assert_eq!(quantity("0x5g", 64), Err(FieldProblem::NotHex));
        assert_eq!(quantity("0x+5", 64), Err(FieldProblem::NotHex));
        assert_eq!(
            quantity(&format!("0x{}", "f".repeat(33)), 128),
            Err(FieldProblem::TooLarge(128))
        );
        assert_eq!(quantity(&format!("0x{}", "f".repeat(32)), 128), Ok(u128::MAX));
    }

    #[test]
    fn data_is_even_hex_with_a_prefix() {
        assert_eq!(data("0x"), Ok(vec![]));
        assert_eq!(data("0x0f01"), Ok(vec![0x0f, 0x01]));
        assert_eq!(data("0x0f0"), Err(FieldProblem::NotHex));
        assert_eq!(data("0f01"), Err(FieldProblem::NoPrefix));
    }

    #[test]
    fn envelopes_give_the_result_or_a_typed_error() {
        let ok = br#"{"jsonrpc":"2.0","id":7,"result":"0x539"}"#;
        assert_eq!(parse_response(ok, "eth_chainId", Some(7)), Ok(json!("0x539")));
        assert!(matches!(
            parse_response(ok, "eth_chainId", Some(8)),
            Err(RpcError::IdMismatch { expected: 8, .. })
        ));
        let null = br#"{"jsonrpc":"2.0","id":1,"result":null}"#;
        assert_eq!(parse_response(null, "m", Some(1)), Ok(Value::Null));
        let err = br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"nonce too low"}}"#;
        assert_eq!(
            parse_response(err, "eth_sendRawTransaction", Some(1)),
            Err(RpcError::Remote {
                method: "eth_sendRawTransaction".into(),
                code: -32000,
                message: "nonce too low".into()
            })
        );
        assert!(matches!(parse_response(b"[1]", "m", None), Err(RpcError::Envelope(_))));
        assert!(matches!(parse_response(b"{\"id\":1}", "m", Some(1)), Err(RpcError::Envelope(_))));
        assert!(matches!(parse_response(b"<html>", "m", None), Err(RpcError::NotJson(_))));
        let bad_error = br#"{"id":1,"error":{"code":"x"}}"#;
        assert!(matches!(parse_response(bad_error, "m", Some(1)), Err(RpcError::Envelope(_))));
    }

    #[test]
    fn fields_name_the_object_and_the_problem() {
        let tx = json!({"hash": "0x00", "from": "0x", "input": "0x"});
        assert_eq!(
            Transaction::from_json(&tx),
            Err(RpcError::Field {
                object: "transaction",
                field: "hash",
                problem: FieldProblem::Length { expected: 32, got: 1 }
            })
        );
        assert!(matches!(
            Block::from_json(&json!([])),
            Err(RpcError::Field { object: "block", problem: FieldProblem::NotString, .. })
        ));
        let receipt = Receipt {
            transaction_hash: [1; 32],
            block_hash: [2; 32],
            block_number: 3,
            status: Some(true),
            contract_address: None,
        };
        let mut bad = receipt.to_json();
        bad["status"] = json!("0x2");
        assert_eq!(
            Receipt::from_json(&bad),
            Err(RpcError::Field {
                object: "receipt",
                field: "status",
                problem: FieldProblem::Unexpected("2".into())
            })
        );
        let mut half_mined = Transaction {
            hash: [1; 32],
            block_hash: Some([2; 32]),
            block_number: Some(1),
            from: [3; 20],
            to: None,
            input: vec![],
        }
        .to_json();
        half_mined["blockNumber"] = Value::Null;
        assert!(matches!(
            Transaction::from_json(&half_mined),
            Err(RpcError::Field { field: "blockNumber", problem: FieldProblem::Missing, .. })
        ));
    }

    fn arb_tx() -> impl Strategy<Value = Transaction> {
        (
            any::<[u8; 32]>(),
            proptest::option::of((any::<[u8; 32]>(), any::<u64>())),
            any::<Address>(),
            proptest::option::of(any::<Address>()),
            proptest::collection::vec(any::<u8>(), 0..100),
        )
            .prop_map(|(hash, block, from, to, input)| Transaction {
                hash,
                block_hash: block.map(|b| b.0),
                block_number: block.map(|b| b.1),
                from,
                to,
                input,
            })
    }

    proptest! {
        #[test]
        fn transactions_read_back(tx in arb_tx()) {
            prop_assert_eq!(Transaction::from_json(&tx.to_json()), Ok(tx));
        }

        #[test]
        fn blocks_read_back(hash in any::<[u8; 32]>(), number in any::<u64>(),
                            timestamp in any::<u64>(), fee in proptest::option::of(any::<u128>())) {
            let block = Block { hash, number, timestamp, base_fee_per_gas: fee };
            prop_assert_eq!(Block::from_json(&block.to_json()), Ok(block));
        }

        #[test]
        fn receipts_read_back(hash in any::<[u8; 32]>(), block in any::<[u8; 32]>(), number in any::<u64>(),
                              status in proptest::option::of(any::<bool>()),
                              contract in proptest::option::of(any::<Address>())) {
            let receipt = Receipt { transaction_hash: hash, block_hash: block, block_number: number,
                                    status, contract_address: contract };
            prop_assert_eq!(Receipt::from_json(&receipt.to_json()), Ok(receipt));
        }

        #[test]
        fn quantities_read_back(value in any::<u128>()) {
            prop_assert_eq!(quantity(&to_quantity(value), 128), Ok(value));
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,80}") {
            let _ = quantity(&text, 64);
            let _ = data(&text);
            let _ = parse_response(text.as_bytes(), "m", Some(1));
            crate::fuzzing::rpc_response(text.as_bytes());
        }

        #[test]
        fn mutated_transactions_never_panic(tx in arb_tx(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let mut bytes = serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 1, "result": tx.to_json()})).unwrap();
            let i = at.index(bytes.len());
            bytes[i] = byte;
            crate::fuzzing::rpc_response(&bytes);
            crate::fuzzing::rpc_response(&bytes[..i]);
        }
    }
}
