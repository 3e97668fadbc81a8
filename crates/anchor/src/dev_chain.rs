//! An in-process chain for development and tests (chain id `inmemory:12345`, the id js-ceramic's
//! in-memory anchor service uses): sending a root mines a block holding one transaction, and the
//! chain verifies proofs against what it mined.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use ceramic_codecs::{AnchorProof, Cid};
use sha3::{Digest, Keccak256};

use crate::{AnchorError, AnchorVerifier, Chain, ChainError, tx_hash_cid};

/// The dev chain's CAIP-2 id (js:packages/core/src/initialization/anchoring.ts, network
/// `inmemory`).
pub const DEV_CHAIN_ID: &str = "inmemory:12345";

/// Where the dev chain gets block timestamps from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time, in unix seconds.
    fn now(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        // A clock before 1970 reads as 0.
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock showing `now` (unix seconds).
    pub fn new(now: u64) -> Self {
        ManualClock(AtomicU64::new(now))
    }

    /// Sets the time.
    pub fn set(&self, now: u64) {
        self.0.store(now, Ordering::SeqCst);
    }

    /// Moves the time forward by `seconds` (saturating).
    pub fn advance(&self, seconds: u64) {
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| Some(t.saturating_add(seconds)));
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A mined dev-chain transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transaction {
    /// Its hash, as an eth-tx CID ([`tx_hash_cid`]).
    pub tx_hash: Cid,
    /// The root it carries.
    pub root: Cid,
    /// The block it is in (the first block is 1).
    pub block_number: u64,
    /// The block's timestamp, in unix seconds.
    pub timestamp: u64,
}

#[derive(Debug, Default)]
struct Ledger {
    transactions: HashMap<Cid, Transaction>,
    height: u64,
    last_timestamp: u64,
}

/// An in-process chain: every [`DevChain::send`] mines one block with one transaction. It is
/// the [`AnchorVerifier`] of nodes that anchor on it. Shared between threads behind a lock
/// (recovered if a panicking thread poisoned it: the ledger is only changed by whole inserts).
#[derive(Debug)]
pub struct DevChain {
    clock: Arc<dyn Clock>,
    ledger: RwLock<Ledger>,
}

impl Default for DevChain {
    fn default() -> Self {
        Self::new()
    }
}

impl DevChain {
    /// A chain with the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// A chain whose blocks take their timestamps from `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        DevChain { clock, ledger: RwLock::new(Ledger::default()) }
    }

    /// The chain id, [`DEV_CHAIN_ID`].
    pub fn chain_id(&self) -> &'static str {
        DEV_CHAIN_ID
    }

    /// Mines a block holding a transaction that carries `root`, and returns the transaction's
    /// hash. The block's timestamp is the clock's time, or the previous block's if the clock
    /// went back (block times never decrease). The hash is keccak-256 over a domain tag, the
    /// block number and the root's bytes, so each send gives a new transaction.
    pub fn send(&self, root: Cid) -> Cid {
        let now = self.clock.now();
        let mut ledger = self.ledger.write().unwrap_or_else(|e| e.into_inner());
        ledger.height += 1;
        ledger.last_timestamp = ledger.last_timestamp.max(now);
        let mut hasher = Keccak256::new();
        hasher.update(b"ceramic-rs dev chain tx");
        hasher.update(ledger.height.to_be_bytes());
        hasher.update(root.to_bytes());
        let tx_hash = tx_hash_cid(hasher.finalize().into());
        let transaction = Transaction {
            tx_hash,
            root,
            block_number: ledger.height,
            timestamp: ledger.last_timestamp,
        };
        ledger.transactions.insert(tx_hash, transaction);
        tx_hash
    }

    /// The transaction with this hash, if the chain has it.
    pub fn transaction(&self, tx_hash: &Cid) -> Option<Transaction> {
        self.ledger.read().unwrap_or_else(|e| e.into_inner()).transactions.get(tx_hash).copied()
    }

    /// How many blocks have been mined.
    pub fn height(&self) -> u64 {
        self.ledger.read().unwrap_or_else(|e| e.into_inner()).height
    }

    /// Checks that `proof` names this chain and a transaction on it carrying `proof.root`, and
    /// returns the transaction's block timestamp. `txType` is not checked: the dev chain has no
    /// v0/v1 history.
    ///
    /// # Errors
    /// [`ChainError::WrongChain`], [`ChainError::UnknownTransaction`],
    /// [`ChainError::RootMismatch`].
    pub fn check(&self, proof: &AnchorProof) -> Result<u64, ChainError> {
        if proof.chain_id != DEV_CHAIN_ID {
            return Err(ChainError::WrongChain {
                expected: DEV_CHAIN_ID.into(),
                got: proof.chain_id.clone(),
            });
        }
        let transaction = self
            .transaction(&proof.tx_hash)
            .ok_or(ChainError::UnknownTransaction(Box::new(proof.tx_hash)))?;
        if transaction.root != proof.root {
            return Err(ChainError::RootMismatch {
                tx_hash: Box::new(proof.tx_hash),
                recorded: Box::new(transaction.root),
                proof: Box::new(proof.root),
            });
        }
        Ok(transaction.timestamp)
    }
}

impl AnchorVerifier for DevChain {
    /// [`DevChain::check`], its error carried as the engine's [`AnchorError::Chain`].
    fn verify(&self, proof: &AnchorProof) -> Result<u64, AnchorError> {
        self.check(proof).map_err(|e| crate::chain::to_anchor_error(proof, &e))
    }
}

impl Chain for DevChain {
    fn chain_id(&self) -> &str {
        DEV_CHAIN_ID
    }

    fn tx_type(&self) -> Option<&str> {
        None
    }

    fn anchor_root(&self, root: &Cid) -> Result<Cid, ChainError> {
        Ok(self.send(*root))
    }

    fn check_proof(&self, proof: &AnchorProof) -> Result<u64, ChainError> {
        self.check(proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ceramic_codecs::cid_of;

    fn proof(chain: &DevChain, root: Cid, tx_hash: Cid) -> AnchorProof {
        AnchorProof { chain_id: chain.chain_id().into(), root, tx_hash, tx_type: None }
    }

    #[test]
    fn confirms_what_it_mined_at_the_clock_time() {
        let clock = Arc::new(ManualClock::new(1_700_000_000));
        let chain = DevChain::with_clock(clock.clone());
        let root = cid_of(0x71, b"root");
        let first = chain.send(root);
        clock.advance(60);
        let second = chain.send(root);
        assert_ne!(first, second);
        assert_eq!(chain.height(), 2);
        assert_eq!(chain.check(&proof(&chain, root, first)), Ok(1_700_000_000));
        assert_eq!(chain.verify(&proof(&chain, root, second)).unwrap(), 1_700_000_060);
        let tx = chain.transaction(&second).unwrap();
        assert_eq!((tx.block_number, tx.root), (2, root));
        assert!(crate::eth_tx_hash(&second).is_ok());
    }

    #[test]
    fn block_times_never_decrease() {
        let clock = Arc::new(ManualClock::new(100));
        let chain = DevChain::with_clock(clock.clone());
        chain.send(cid_of(0x71, b"a"));
        clock.set(50);
        let tx = chain.send(cid_of(0x71, b"b"));
        assert_eq!(chain.transaction(&tx).unwrap().timestamp, 100);
    }

    #[test]
    fn rejects_unknown_transactions_other_roots_and_other_chains() {
        let chain = DevChain::new();
        let root = cid_of(0x71, b"root");
        let tx = chain.send(root);
        let other = cid_of(0x71, b"other");
        assert!(matches!(
            chain.check(&proof(&chain, other, tx)),
            Err(ChainError::RootMismatch { .. })
        ));
        let unknown = tx_hash_cid([0; 32]);
        assert_eq!(
            chain.check(&proof(&chain, root, unknown)),
            Err(ChainError::UnknownTransaction(Box::new(unknown)))
        );
        let mut elsewhere = proof(&chain, root, tx);
        elsewhere.chain_id = "eip155:1".into();
        assert!(matches!(chain.check(&elsewhere), Err(ChainError::WrongChain { .. })));
        match chain.verify(&elsewhere) {
            Err(AnchorError::Chain { reason, .. }) => assert!(reason.contains("eip155:1")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn is_shared_between_threads() {
        let chain = Arc::new(DevChain::new());
        let handles: Vec<_> = (0..4u8)
            .map(|t| {
                let chain = chain.clone();
                std::thread::spawn(move || {
                    (0..25u8).map(|i| chain.send(cid_of(0x71, &[t, i]))).collect::<Vec<_>>()
                })
            })
            .collect();
        let txs: Vec<Cid> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
        assert_eq!(chain.height(), 100);
        assert!(txs.iter().all(|tx| chain.transaction(tx).is_some()));
    }
}
