//! [`EthChain`]: the [`Chain`] of an Ethereum JSON-RPC endpoint — sends anchor transactions
//! (v1 contract calls or v0 raw self-sends) and checks proofs by js-ceramic's
//! `ethereum-anchor-validator` rules (`specs/anchoring.md` "Ethereum").

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ceramic_anchor::{
    ANCHOR_CONTRACT, Chain, ChainError, TX_TYPE_V1, eth_tx_hash, root_from_v0_calldata,
    root_from_v1_calldata, root_to_v0_calldata, root_to_v1_calldata, tx_hash_cid, v1_threshold,
};
use ceramic_codecs::{AnchorProof, Cid};
use k256::ecdsa::SigningKey;

use crate::json::{Block, Receipt, Transaction};
use crate::rpc::Rpc;
use crate::tx::{Address, Eip1559, address_of, to_hex};
use crate::{Error, Result, RpcError};

/// The creation bytecode of `contract/CeramicAnchorServiceV2.sol`, compiled by
/// `cargo xtask contract` (solc 0.8.24) and committed as hex.
const CONTRACT_BYTECODE: &str = include_str!("../contract/CeramicAnchorServiceV2.bin");

/// The creation bytecode of the minimal anchor contract (`anchorDagCbor(bytes32)`, emitting
/// `DidAnchor(address indexed, bytes32)`), for deploying it on a development chain.
pub fn anchor_contract_bytecode() -> Vec<u8> {
    hex::decode(CONTRACT_BYTECODE.trim()).expect("the committed bytecode is hex (xtask checks it)")
}

/// Parses an address written as `0x` and 40 hex digits (any case).
///
/// # Errors
/// [`Error::InvalidAddress`].
pub fn parse_address(text: &str) -> Result<Address> {
    let invalid = || Error::InvalidAddress(text.to_owned());
    let digits = text.strip_prefix("0x").ok_or_else(invalid)?;
    hex::decode(digits).ok().and_then(|b| b.try_into().ok()).ok_or_else(invalid)
}

/// Parses a secp256k1 private key written as 64 hex digits, with or without `0x`.
///
/// # Errors
/// [`Error::InvalidKey`].
pub fn parse_private_key(text: &str) -> Result<SigningKey> {
    let digits = text.trim().strip_prefix("0x").unwrap_or(text.trim());
    let bytes = hex::decode(digits).map_err(|_| Error::InvalidKey("not hex"))?;
    if bytes.len() != 32 {
        return Err(Error::InvalidKey("not 32 bytes"));
    }
    SigningKey::from_slice(&bytes).map_err(|_| Error::InvalidKey("not a secp256k1 scalar"))
}

/// How to reach and use one Ethereum chain. Built with [`Config::new`] and the `with_*`
/// methods.
#[derive(Clone)]
pub struct Config {
    rpc_url: String,
    chain_id: u64,
    contract: Option<Address>,
    signer: Option<SigningKey>,
    threshold: Option<u64>,
    poll_interval: Duration,
    receipt_timeout: Duration,
    request_timeout: Duration,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key itself, nor the URL's path (which may hold an API key).
        let shown = self.rpc_url.split('/').take(3).collect::<Vec<_>>().join("/");
        f.debug_struct("Config")
            .field("rpc_url", &shown)
            .field("chain_id", &self.chain_id)
            .field("contract", &self.contract.map(|a| to_hex(&a)))
            .field("signer", &self.signer.as_ref().map(|k| to_hex(&address_of(k.verifying_key()))))
            .field("threshold", &self.threshold)
            .field("poll_interval", &self.poll_interval)
            .field("receipt_timeout", &self.receipt_timeout)
            .finish()
    }
}

impl Config {
    /// Chain `eip155:<chain_id>` at `rpc_url`, verifying only (no key), v1 anchors to
    /// [`ANCHOR_CONTRACT`], the chain's [`v1_threshold`], receipts polled every 2 s for up to
    /// 10 minutes, each request limited to 30 s.
    pub fn new(rpc_url: impl Into<String>, chain_id: u64) -> Self {
        Config {
            rpc_url: rpc_url.into(),
            chain_id,
            contract: Some(ANCHOR_CONTRACT),
            signer: None,
            threshold: v1_threshold(&format!("eip155:{chain_id}")),
            poll_interval: Duration::from_secs(2),
            receipt_timeout: Duration::from_secs(600),
            request_timeout: Duration::from_secs(30),
        }
    }

    /// Anchors go to the contract at `address` (v1, `txType` `f(bytes32)`), and proofs after the
    /// threshold must be calls to it.
    #[must_use]
    pub fn with_contract(mut self, address: Address) -> Self {
        self.contract = Some(address);
        self
    }

    /// Anchors are legacy (v0) raw transactions to the sender's own address carrying the root's
    /// bytes, as the CAS sent before contracts (no `txType`). Proofs after the threshold must
    /// still be v1 calls to [`ANCHOR_CONTRACT`], so a v0 chain should have a threshold above its
    /// blocks ([`Config::with_threshold`]).
    #[must_use]
    pub fn v0(mut self) -> Self {
        self.contract = None;
        self
    }

    /// Signs anchor transactions with `key` (nodes that only verify need none).
    #[must_use]
    pub fn with_signer(mut self, key: SigningKey) -> Self {
        self.signer = Some(key);
        self
    }

    /// The block after which anchors must be v1 calls to the contract (`None`: never).
    #[must_use]
    pub fn with_threshold(mut self, threshold: Option<u64>) -> Self {
        self.threshold = threshold;
        self
    }

    /// How often to ask for the receipt of a sent transaction, and for how long.
    #[must_use]
    pub fn with_receipt_polling(mut self, interval: Duration, timeout: Duration) -> Self {
        self.poll_interval = interval;
        self.receipt_timeout = timeout;
        self
    }

    /// The time limit of one JSON-RPC request.
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
}

/// An Ethereum chain reached over JSON-RPC: the [`Chain`] the anchor service sends roots to and
/// nodes check proofs against (through [`ceramic_anchor::Chains`], which caches confirmed
/// proofs). Every call blocks on the network.
#[derive(Debug)]
pub struct EthChain {
    rpc: Rpc,
    chain_id: String,
    numeric_chain_id: u64,
    contract: Option<Address>,
    signer: Option<(SigningKey, Address)>,
    threshold: Option<u64>,
    poll_interval: Duration,
    receipt_timeout: Duration,
    /// Held while a transaction is built and sent, so that concurrent sends take distinct
    /// nonces.
    sending: Mutex<()>,
}

impl EthChain {
    /// Connects as an anchoring chain, the way nodes and the anchor service are configured:
    /// `eip155:<chain_id>` at `rpc_url`, v1 anchors to `contract` (raw v0 transactions without
    /// one), paid by the hex `private_key_hex`, other settings as [`Config::new`].
    ///
    /// # Errors
    /// A bad address or key, and as [`EthChain::connect`].
    pub fn connect_signing(
        rpc_url: &str,
        chain_id: u64,
        contract: Option<&str>,
        private_key_hex: &str,
    ) -> Result<Self> {
        let config =
            Config::new(rpc_url, chain_id).with_signer(parse_private_key(private_key_hex)?);
        let config = match contract {
            Some(address) => config.with_contract(parse_address(address)?),
            None => config.v0(),
        };
        Self::connect(config)
    }

    /// Connects: asks the RPC for its chain id, which must be the configured one.
    ///
    /// # Errors
    /// [`Error::ChainIdMismatch`], [`Error::Rpc`].
    pub fn connect(config: Config) -> Result<Self> {
        let rpc = Rpc::new(&config.rpc_url, config.request_timeout);
        let got = rpc.chain_id()?;
        if got != config.chain_id {
            return Err(Error::ChainIdMismatch { expected: config.chain_id, got });
        }
        Ok(EthChain {
            rpc,
            chain_id: format!("eip155:{}", config.chain_id),
            numeric_chain_id: config.chain_id,
            contract: config.contract,
            signer: config.signer.map(|key| {
                let address = address_of(key.verifying_key());
                (key, address)
            }),
            threshold: config.threshold,
            poll_interval: config.poll_interval,
            receipt_timeout: config.receipt_timeout,
            sending: Mutex::new(()),
        })
    }

    /// The address anchors are sent from, if this chain has a key.
    pub fn sender(&self) -> Option<Address> {
        self.signer.as_ref().map(|(_, address)| *address)
    }

    /// How many JSON-RPC calls this chain has made.
    pub fn rpc_calls(&self) -> u64 {
        self.rpc.calls()
    }

    /// The block with this number (`eth_getBlockByNumber`), if the chain has it.
    ///
    /// # Errors
    /// [`ChainError::Unavailable`].
    pub fn block(&self, number: u64) -> Result<Option<Block>, ChainError> {
        self.rpc.block_by_number(&format!("{number:#x}")).map_err(|e| self.unavailable(e))
    }

    /// The receipt of the transaction with this hash (`eth_getTransactionReceipt`), once mined.
    ///
    /// # Errors
    /// [`ChainError::Unavailable`].
    pub fn receipt(&self, hash: &[u8; 32]) -> Result<Option<Receipt>, ChainError> {
        self.rpc.receipt(hash).map_err(|e| self.unavailable(e))
    }

    /// The transaction with this hash (`eth_getTransactionByHash`), if the chain has it.
    ///
    /// # Errors
    /// [`ChainError::Unavailable`].
    pub fn transaction(&self, hash: &[u8; 32]) -> Result<Option<Transaction>, ChainError> {
        self.rpc.transaction(hash).map_err(|e| self.unavailable(e))
    }

    fn unavailable(&self, error: impl fmt::Display) -> ChainError {
        ChainError::Unavailable { chain_id: self.chain_id.clone(), reason: error.to_string() }
    }

    /// Signs and sends a transaction from this chain's key to `to` (`None` creates a contract)
    /// with `data`, and waits for its receipt, which it returns whatever its status:
    /// [`EthChain::submit_transaction`] then [`EthChain::wait_for_receipt`].
    ///
    /// # Errors
    /// Those of the two steps.
    pub fn send_transaction(
        &self,
        to: Option<Address>,
        data: Vec<u8>,
        gas_limit: Option<u64>,
    ) -> Result<Receipt, ChainError> {
        let hash = self.submit_transaction(to, data, gas_limit)?;
        self.wait_for_receipt(&hash)
    }

    /// Signs and sends a transaction from this chain's key to `to` (`None` creates a contract)
    /// with `data`; returns its hash without waiting for it to be mined. The gas limit is
    /// `gas_limit`, or the node's estimate plus a fifth; the nonce is the sender's pending count
    /// and the fees are twice the latest base fee plus the node's suggested priority fee.
    ///
    /// # Errors
    /// [`ChainError::NoSigner`]; [`ChainError::Unavailable`] when the node refuses the
    /// transaction or reports another hash than ours.
    pub fn submit_transaction(
        &self,
        to: Option<Address>,
        data: Vec<u8>,
        gas_limit: Option<u64>,
    ) -> Result<[u8; 32], ChainError> {
        let (key, from) =
            self.signer.as_ref().ok_or_else(|| ChainError::NoSigner(self.chain_id.clone()))?;
        let _sending = self.sending.lock().unwrap_or_else(|e| e.into_inner());
        let rpc = |e: RpcError| self.unavailable(e);
        let gas_limit = match gas_limit {
            Some(gas) => gas,
            None => {
                let estimate = self.rpc.estimate_gas(from, to.as_ref(), &data).map_err(rpc)?;
                estimate.saturating_add(estimate / 5)
            }
        };
        let latest = self
            .rpc
            .block_by_number("latest")
            .map_err(rpc)?
            .ok_or_else(|| self.unavailable("no latest block"))?;
        let base_fee = latest
            .base_fee_per_gas
            .ok_or_else(|| self.unavailable("the latest block has no base fee (pre-London)"))?;
        let tip = self.rpc.max_priority_fee().map_err(rpc)?;
        let tx = Eip1559 {
            chain_id: self.numeric_chain_id,
            nonce: self.rpc.nonce(from).map_err(rpc)?,
            max_priority_fee_per_gas: tip,
            max_fee_per_gas: base_fee.saturating_mul(2).saturating_add(tip),
            gas_limit,
            to,
            value: 0,
            data,
        };
        let signed = tx.sign(key);
        let reported = self.rpc.send_raw(&signed.raw).map_err(rpc)?;
        if reported != signed.hash {
            return Err(self.unavailable(format!(
                "the node reports hash {} for transaction {}",
                to_hex(&reported),
                to_hex(&signed.hash)
            )));
        }
        Ok(signed.hash)
    }

    /// Polls for the receipt of `hash` every poll interval until the receipt timeout.
    ///
    /// # Errors
    /// [`ChainError::Unavailable`] when the node cannot be asked, answers with the receipt of
    /// another transaction, or has not mined it in time.
    pub fn wait_for_receipt(&self, hash: &[u8; 32]) -> Result<Receipt, ChainError> {
        let deadline = Instant::now() + self.receipt_timeout;
        loop {
            if let Some(receipt) = self.rpc.receipt(hash).map_err(|e| self.unavailable(e))? {
                if receipt.transaction_hash != *hash {
                    return Err(self.unavailable(format!(
                        "asked for the receipt of {}, got {}",
                        to_hex(hash),
                        to_hex(&receipt.transaction_hash)
                    )));
                }
                return Ok(receipt);
            }
            if Instant::now() >= deadline {
                return Err(self.unavailable(format!(
                    "transaction {} not mined after {:?}",
                    to_hex(hash),
                    self.receipt_timeout
                )));
            }
            std::thread::sleep(self.poll_interval);
        }
    }

    /// Deploys the minimal anchor contract ([`anchor_contract_bytecode`]) from this chain's key
    /// and returns its address: for development chains (anvil), where no contract exists.
    ///
    /// # Errors
    /// Those of [`EthChain::send_transaction`], and [`ChainError::Unavailable`] if the creation
    /// reverted or its receipt names no contract.
    pub fn deploy_contract(&self) -> Result<Address, ChainError> {
        let receipt = self.send_transaction(None, anchor_contract_bytecode(), None)?;
        if receipt.status != Some(true) {
            return Err(self.unavailable("the contract creation reverted"));
        }
        receipt.contract_address.ok_or_else(|| self.unavailable("the receipt names no contract"))
    }

    fn invalid(&self, proof: &AnchorProof, reason: impl Into<String>) -> ChainError {
        ChainError::InvalidTransaction { tx_hash: Box::new(proof.tx_hash), reason: reason.into() }
    }
}

impl Chain for EthChain {
    fn chain_id(&self) -> &str {
        &self.chain_id
    }

    fn tx_type(&self) -> Option<&str> {
        self.contract.map(|_| TX_TYPE_V1)
    }

    /// Sends the root (v1: `anchorDagCbor(digest)` to the contract; v0: `0x0f || root` to the
    /// sender's own address), waits until it is mined, and requires status 1.
    fn anchor_root(&self, root: &Cid) -> Result<Cid, ChainError> {
        let (to, data) = match self.contract {
            Some(contract) => {
                let calldata = root_to_v1_calldata(root)
                    .map_err(|_| ChainError::UnsupportedRoot(Box::new(*root)))?;
                (contract, calldata.to_vec())
            }
            None => {
                let sender =
                    self.sender().ok_or_else(|| ChainError::NoSigner(self.chain_id.clone()))?;
                (sender, root_to_v0_calldata(root))
            }
        };
        let receipt = self.send_transaction(Some(to), data, None)?;
        if receipt.status != Some(true) {
            return Err(self.unavailable(format!(
                "anchor transaction {} reverted",
                to_hex(&receipt.transaction_hash)
            )));
        }
        Ok(tx_hash_cid(receipt.transaction_hash))
    }

    /// js-ceramic's `validateChainInclusion`, plus a succeeded receipt: the transaction must be
    /// mined on this chain, carry `proof.root` in the calldata form `txType` names, and — in a
    /// block after the threshold — be a v1 call to the contract. Returns the block timestamp.
    fn check_proof(&self, proof: &AnchorProof) -> Result<u64, ChainError> {
        if proof.chain_id != self.chain_id {
            return Err(ChainError::WrongChain {
                expected: self.chain_id.clone(),
                got: proof.chain_id.clone(),
            });
        }
        let hash = eth_tx_hash(&proof.tx_hash).map_err(|e| self.invalid(proof, e.to_string()))?;
        let tx = self
            .transaction(&hash)?
            .ok_or_else(|| ChainError::UnknownTransaction(Box::new(proof.tx_hash)))?;
        if tx.hash != hash {
            return Err(self.unavailable(format!(
                "asked for transaction {}, got {}",
                to_hex(&hash),
                to_hex(&tx.hash)
            )));
        }
        let v1 = match proof.tx_type.as_deref() {
            Some(TX_TYPE_V1) => true,
            None | Some("raw") => false,
            Some(other) => return Err(self.invalid(proof, format!("unknown txType {other:?}"))),
        };
        let recorded =
            if v1 { root_from_v1_calldata(&tx.input) } else { root_from_v0_calldata(&tx.input) }
                .map_err(|e| self.invalid(proof, format!("calldata carries no root: {e}")))?;
        if recorded != proof.root {
            return Err(ChainError::RootMismatch {
                tx_hash: Box::new(proof.tx_hash),
                recorded: Box::new(recorded),
                proof: Box::new(proof.root),
            });
        }
        // The receipt says whether and where the transaction was mined. anvil (and an RPC
        // behind a load balancer) can serve the receipt while the transaction lookup still
        // shows it pending, so the block comes from the receipt, and a transaction lookup that
        // names another block is refused.
        let receipt = self
            .rpc
            .receipt(&hash)
            .map_err(|e| self.unavailable(e))?
            .ok_or_else(|| self.invalid(proof, "not mined yet"))?;
        if receipt.transaction_hash != hash {
            return Err(self.unavailable("the receipt is for another transaction"));
        }
        let (block_hash, block_number) = (receipt.block_hash, receipt.block_number);
        if tx.block_hash.is_some_and(|h| h != block_hash)
            || tx.block_number.is_some_and(|n| n != block_number)
        {
            return Err(self.unavailable("the transaction and its receipt name different blocks"));
        }
        if self.threshold.is_some_and(|threshold| block_number > threshold) {
            if !v1 {
                return Err(self.invalid(
                    proof,
                    format!("block {block_number} is after the v1 threshold, txType must be {TX_TYPE_V1}"),
                ));
            }
            let contract = self.contract.unwrap_or(ANCHOR_CONTRACT);
            if tx.to != Some(contract) {
                return Err(self.invalid(
                    proof,
                    format!(
                        "sent to the wrong contract: {} (expected {})",
                        tx.to.map_or("nothing (a creation)".into(), |a| to_hex(&a)),
                        to_hex(&contract)
                    ),
                ));
            }
        }
        match receipt.status {
            Some(true) => {}
            Some(false) => return Err(self.invalid(proof, "the transaction reverted")),
            None => return Err(self.invalid(proof, "the receipt has no status (pre-Byzantium)")),
        }
        let block =
            self.rpc.block_by_hash(&block_hash).map_err(|e| self.unavailable(e))?.ok_or_else(
                || self.unavailable(format!("block {} not found", to_hex(&block_hash))),
            )?;
        if block.hash != block_hash || block.number != block_number {
            return Err(self.unavailable("the block does not match the transaction"));
        }
        Ok(block.timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses_and_keys() {
        assert_eq!(
            parse_address("0x231055A0852D67C7107Ad0d0DFeab60278fE6AdC").unwrap(),
            ANCHOR_CONTRACT
        );
        assert!(matches!(parse_address("231055a0"), Err(Error::InvalidAddress(_))));
        assert!(matches!(parse_address("0x2310"), Err(Error::InvalidAddress(_))));
        let key = parse_private_key(
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\n",
        )
        .unwrap();
        assert_eq!(
            to_hex(&address_of(key.verifying_key())),
            "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
        );
        assert!(matches!(parse_private_key("0x12"), Err(Error::InvalidKey("not 32 bytes"))));
        assert!(matches!(parse_private_key(&"0".repeat(64)), Err(Error::InvalidKey(_))));
        assert!(matches!(parse_private_key("zz"), Err(Error::InvalidKey("not hex"))));
    }

    #[test]
    fn config_defaults_follow_the_chain_and_hide_the_key() {
        let config = Config::new("https://rpc.example/v3/SECRET", 1);
        assert_eq!(config.threshold, Some(16_688_195));
        assert_eq!(config.contract, Some(ANCHOR_CONTRACT));
        assert_eq!(Config::new("http://x", 424_242).threshold, None);
        let key = parse_private_key(&"11".repeat(32)).unwrap();
        let shown = format!("{:?}", config.with_signer(key));
        assert!(!shown.contains("SECRET") && !shown.contains(&"11".repeat(32)), "{shown}");
    }

    #[test]
    fn the_committed_bytecode_calls_anchor_dag_cbor() {
        let code = anchor_contract_bytecode();
        assert!(code.windows(4).any(|w| w == ceramic_anchor::ANCHOR_SELECTOR));
    }

    #[test]
    fn an_unreachable_rpc_is_a_typed_error() {
        // Port 9 (discard) on loopback: nothing listens there in the test environment.
        let config =
            Config::new("http://127.0.0.1:9", 1337).with_request_timeout(Duration::from_secs(5));
        match EthChain::connect(config) {
            Err(Error::Rpc(RpcError::Transport { method, .. })) => {
                assert_eq!(method, "eth_chainId")
            }
            other => panic!("{other:?}"),
        }
    }
}
