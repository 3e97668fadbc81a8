//! A blocking Ethereum JSON-RPC client over HTTP(S): one POST per call, a fresh request id per
//! call, the answer read by [`crate::parse_response`] with a body size limit.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::RpcError;
use crate::json::{Block, Receipt, Transaction, parse_response};
use crate::tx::{Address, to_hex};

/// The largest response body read (8 MiB): a block with its transaction hashes is far smaller.
const MAX_BODY_BYTES: u64 = 8 << 20;

/// A JSON-RPC endpoint.
pub(crate) struct Rpc {
    url: String,
    agent: ureq::Agent,
    next_id: AtomicU64,
    calls: AtomicU64,
}

impl fmt::Debug for Rpc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry an API key in its path or query: show only its scheme and host.
        let shown = self.url.split('/').take(3).collect::<Vec<_>>().join("/");
        f.debug_struct("Rpc").field("url", &shown).field("calls", &self.calls()).finish()
    }
}

impl Rpc {
    /// A client for `url` whose every request (connect, send, read) must finish in `timeout`.
    pub(crate) fn new(url: &str, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .new_agent();
        Rpc { url: url.to_owned(), agent, next_id: AtomicU64::new(1), calls: AtomicU64::new(0) }
    }

    /// How many calls were made.
    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Calls `method` with `params`; returns its `result` (possibly `null`).
    pub(crate) fn call(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let transport = |reason: String| RpcError::Transport { method: method.into(), reason };
        let mut response = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send(body.to_string())
            .map_err(|e| transport(e.to_string()))?;
        let status = response.status();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_vec()
            .map_err(|e| transport(e.to_string()))?;
        // Nodes answer JSON-RPC errors with 200, some with 4xx/5xx and a JSON-RPC body: read the
        // body when it parses, else report the status.
        match parse_response(&bytes, method, Some(id)) {
            Err(RpcError::NotJson(_)) if !status.is_success() => {
                Err(transport(format!("HTTP {status}")))
            }
            other => other,
        }
    }

    /// `eth_chainId`.
    pub(crate) fn chain_id(&self) -> Result<u64, RpcError> {
        let value = self.call("eth_chainId", json!([]))?;
        quantity_result("eth_chainId", &value, 64).map(|v| v as u64)
    }

    /// `eth_getTransactionByHash`; `None` when the node does not know it.
    pub(crate) fn transaction(&self, hash: &[u8; 32]) -> Result<Option<Transaction>, RpcError> {
        let value = self.call("eth_getTransactionByHash", json!([to_hex(hash)]))?;
        if value.is_null() { Ok(None) } else { Transaction::from_json(&value).map(Some) }
    }

    /// `eth_getTransactionReceipt`; `None` while not mined.
    pub(crate) fn receipt(&self, hash: &[u8; 32]) -> Result<Option<Receipt>, RpcError> {
        let value = self.call("eth_getTransactionReceipt", json!([to_hex(hash)]))?;
        if value.is_null() { Ok(None) } else { Receipt::from_json(&value).map(Some) }
    }

    /// `eth_getBlockByHash` (without transactions); `None` when unknown.
    pub(crate) fn block_by_hash(&self, hash: &[u8; 32]) -> Result<Option<Block>, RpcError> {
        let value = self.call("eth_getBlockByHash", json!([to_hex(hash), false]))?;
        if value.is_null() { Ok(None) } else { Block::from_json(&value).map(Some) }
    }

    /// `eth_getBlockByNumber` (without transactions) for a number or a tag (`"latest"`).
    pub(crate) fn block_by_number(&self, number: &str) -> Result<Option<Block>, RpcError> {
        let value = self.call("eth_getBlockByNumber", json!([number, false]))?;
        if value.is_null() { Ok(None) } else { Block::from_json(&value).map(Some) }
    }

    /// `eth_getTransactionCount(address, "pending")`: the next nonce.
    pub(crate) fn nonce(&self, address: &Address) -> Result<u64, RpcError> {
        let value = self.call("eth_getTransactionCount", json!([to_hex(address), "pending"]))?;
        quantity_result("eth_getTransactionCount", &value, 64).map(|v| v as u64)
    }

    /// `eth_maxPriorityFeePerGas`.
    pub(crate) fn max_priority_fee(&self) -> Result<u128, RpcError> {
        let value = self.call("eth_maxPriorityFeePerGas", json!([]))?;
        quantity_result("eth_maxPriorityFeePerGas", &value, 128)
    }

    /// `eth_estimateGas` of a call from `from` to `to` (or a creation) with `data`.
    pub(crate) fn estimate_gas(
        &self,
        from: &Address,
        to: Option<&Address>,
        data: &[u8],
    ) -> Result<u64, RpcError> {
        let mut call = json!({"from": to_hex(from), "data": to_hex(data)});
        if let Some(to) = to {
            call["to"] = json!(to_hex(to));
        }
        let value = self.call("eth_estimateGas", json!([call]))?;
        quantity_result("eth_estimateGas", &value, 64).map(|v| v as u64)
    }

    /// `eth_sendRawTransaction`; returns the hash the node reports.
    pub(crate) fn send_raw(&self, raw: &[u8]) -> Result<[u8; 32], RpcError> {
        let value = self.call("eth_sendRawTransaction", json!([to_hex(raw)]))?;
        let field = |problem| RpcError::Field {
            object: "eth_sendRawTransaction",
            field: "result",
            problem,
        };
        let text = value.as_str().ok_or(field(crate::FieldProblem::NotString))?;
        let bytes = crate::json::data(text).map_err(field)?;
        let got = bytes.len();
        bytes.try_into().map_err(|_| field(crate::FieldProblem::Length { expected: 32, got }))
    }
}

/// A result that is a single quantity of at most `bits` bits.
fn quantity_result(method: &'static str, value: &Value, bits: u32) -> Result<u128, RpcError> {
    let field = |problem| RpcError::Field { object: method, field: "result", problem };
    let text = value.as_str().ok_or(field(crate::FieldProblem::NotString))?;
    crate::json::quantity(text, bits).map_err(field)
}
