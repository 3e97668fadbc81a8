//! An in-process chain for development and tests (chain id `inmemory:12345`, the id js-ceramic's
//! in-memory anchor service uses): sending a root mines a block holding one transaction, and the
//! chain verifies proofs against what it mined.
//!
//! A chain opened on a file ([`DevChain::open`]) keeps its blocks there, one line per block
//! (`<height> <timestamp> <root CID>`; a transaction's hash is recomputed from its height and
//! root), so anchors made on it verify after a restart. Other processes may open the same file
//! to verify: a transaction they do not know makes them read the blocks appended since. Only
//! one process may mine on a file (two miners would write the same heights; the second one's
//! blocks are then refused as corrupt).

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
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

impl Ledger {
    /// Adds block `height + 1` holding `root` at `timestamp`.
    fn push(&mut self, root: Cid, timestamp: u64) -> Cid {
        self.height += 1;
        self.last_timestamp = self.last_timestamp.max(timestamp);
        let tx_hash = tx_hash_of(self.height, &root);
        let transaction = Transaction {
            tx_hash,
            root,
            block_number: self.height,
            timestamp: self.last_timestamp,
        };
        self.transactions.insert(tx_hash, transaction);
        tx_hash
    }
}

/// keccak-256 over a domain tag, the block number and the root's bytes.
fn tx_hash_of(height: u64, root: &Cid) -> Cid {
    let mut hasher = Keccak256::new();
    hasher.update(b"ceramic-rs dev chain tx");
    hasher.update(height.to_be_bytes());
    hasher.update(root.to_bytes());
    tx_hash_cid(hasher.finalize().into())
}

/// Why a dev chain's file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevChainError {
    /// Reading or writing the file failed.
    #[error("dev chain file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not the next block.
    #[error("dev chain file {path}, block {height}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The block the line should hold.
        height: u64,
        /// What is wrong.
        reason: &'static str,
    },
}

/// The file of a persistent dev chain, and how much of it the ledger holds.
#[derive(Debug)]
struct Journal {
    path: PathBuf,
    file: File,
    read_to: u64,
}

impl Journal {
    fn io(&self, source: std::io::Error) -> DevChainError {
        DevChainError::Io { path: self.path.clone(), source }
    }

    /// Reads the whole lines appended since the last read into `ledger`; returns how many
    /// bytes follow them (a line being written, or torn by a crash).
    fn catch_up(&mut self, ledger: &mut Ledger) -> Result<u64, DevChainError> {
        self.file.seek(SeekFrom::Start(self.read_to)).map_err(|e| self.io(e))?;
        let mut text = Vec::new();
        self.file.read_to_end(&mut text).map_err(|e| self.io(e))?;
        let complete = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        for line in text[..complete].split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let height = ledger.height + 1;
            let corrupt =
                |reason| DevChainError::Corrupt { path: self.path.clone(), height, reason };
            let (number, timestamp, root) =
                parse_line(line).ok_or_else(|| corrupt("not `<height> <timestamp> <root CID>`"))?;
            if number != height {
                return Err(corrupt("the block numbers do not follow each other"));
            }
            if timestamp < ledger.last_timestamp {
                return Err(corrupt("the block time goes back"));
            }
            ledger.push(root, timestamp);
        }
        self.read_to += complete as u64;
        Ok((text.len() - complete) as u64)
    }

    /// Appends block `height` and syncs it to disk.
    fn append(&mut self, height: u64, timestamp: u64, root: &Cid) -> Result<(), DevChainError> {
        let line = format!("{height} {timestamp} {root}\n");
        self.file.write_all(line.as_bytes()).map_err(|e| self.io(e))?;
        self.file.sync_data().map_err(|e| self.io(e))?;
        self.read_to += line.len() as u64;
        Ok(())
    }
}

/// `<height> <timestamp> <root CID>`.
fn parse_line(line: &[u8]) -> Option<(u64, u64, Cid)> {
    let text = std::str::from_utf8(line).ok()?;
    let mut fields = text.split(' ');
    let height = fields.next()?.parse().ok()?;
    let timestamp = fields.next()?.parse().ok()?;
    let root = Cid::try_from(fields.next()?).ok()?;
    fields.next().is_none().then_some((height, timestamp, root))
}

/// An in-process chain: every [`DevChain::send`] mines one block with one transaction. It is
/// the [`AnchorVerifier`] of nodes that anchor on it. Shared between threads behind a lock
/// (recovered if a panicking thread poisoned it: the ledger is only changed by whole inserts).
#[derive(Debug)]
pub struct DevChain {
    clock: Arc<dyn Clock>,
    ledger: RwLock<Ledger>,
    /// The file of a persistent chain (locked after `ledger`, never before).
    journal: Option<Mutex<Journal>>,
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
        DevChain { clock, ledger: RwLock::new(Ledger::default()), journal: None }
    }

    /// A chain whose blocks are kept in the file at `path` (created if absent), with the
    /// system clock: every block already in it is read now. A line torn by a crash at the end
    /// is cut off.
    ///
    /// # Errors
    /// [`DevChainError::Io`], and [`DevChainError::Corrupt`] naming the first block whose line
    /// is not the next block.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, DevChainError> {
        Self::open_with_clock(path, Arc::new(SystemClock))
    }

    /// [`DevChain::open`] with block times from `clock`.
    ///
    /// # Errors
    /// As [`DevChain::open`].
    pub fn open_with_clock(
        path: impl AsRef<Path>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, DevChainError> {
        let path = path.as_ref().to_path_buf();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|source| DevChainError::Io { path: path.clone(), source })?;
        let mut journal = Journal { path, file, read_to: 0 };
        let mut ledger = Ledger::default();
        if journal.catch_up(&mut ledger)? > 0 {
            let read_to = journal.read_to;
            journal.file.set_len(read_to).map_err(|e| journal.io(e))?;
        }
        Ok(DevChain { clock, ledger: RwLock::new(ledger), journal: Some(Mutex::new(journal)) })
    }

    /// The file the chain keeps its blocks in, if it is persistent.
    pub fn path(&self) -> Option<PathBuf> {
        let journal = self.journal.as_ref()?;
        Some(journal.lock().unwrap_or_else(|e| e.into_inner()).path.clone())
    }

    /// Mines a block holding `root`; on a persistent chain the block is on disk first. When it
    /// cannot be written, `durable` refuses the send (`Err`, nothing mined); otherwise the
    /// block is kept in memory only (`Ok` with the error).
    fn mine(
        &self,
        root: Cid,
        durable: bool,
    ) -> Result<(Cid, Option<DevChainError>), DevChainError> {
        let now = self.clock.now();
        let mut ledger = self.ledger.write().unwrap_or_else(|e| e.into_inner());
        let mut failed = None;
        if let Some(journal) = &self.journal {
            let mut journal = journal.lock().unwrap_or_else(|e| e.into_inner());
            let written = journal.catch_up(&mut ledger).and_then(|_| {
                let timestamp = ledger.last_timestamp.max(now);
                journal.append(ledger.height + 1, timestamp, &root)
            });
            match written {
                Err(e) if durable => return Err(e),
                Err(e) => failed = Some(e),
                Ok(()) => {}
            }
        }
        Ok((ledger.push(root, now), failed))
    }

    /// Reads blocks other processes appended to the file (a persistent chain only); whether
    /// there were any.
    fn refresh(&self) -> bool {
        let Some(journal) = &self.journal else { return false };
        let mut ledger = self.ledger.write().unwrap_or_else(|e| e.into_inner());
        let before = ledger.height;
        let mut journal = journal.lock().unwrap_or_else(|e| e.into_inner());
        let _ = journal.catch_up(&mut ledger);
        ledger.height > before
    }

    /// The chain id, [`DEV_CHAIN_ID`].
    pub fn chain_id(&self) -> &'static str {
        DEV_CHAIN_ID
    }

    /// Mines a block holding a transaction that carries `root`, and returns the transaction's
    /// hash. The block's timestamp is the clock's time, or the previous block's if the clock
    /// went back (block times never decrease). The hash is keccak-256 over a domain tag, the
    /// block number and the root's bytes, so each send gives a new transaction.
    ///
    /// On a persistent chain a block that cannot be written to the file is kept in memory
    /// only (lost at restart); [`Chain::anchor_root`] refuses to mine then.
    pub fn send(&self, root: Cid) -> Cid {
        let mined = self.mine(root, false);
        // Not durable: `mine` returns the error with the block instead of failing.
        mined.map_or_else(|_| tx_hash_of(self.height(), &root), |(tx_hash, _)| tx_hash)
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
            .or_else(|| self.refresh().then(|| self.transaction(&proof.tx_hash)).flatten())
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
        self.mine(*root, true).map(|(tx_hash, _)| tx_hash).map_err(|e| ChainError::Unavailable {
            chain_id: DEV_CHAIN_ID.into(),
            reason: e.to_string(),
        })
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
    fn a_persistent_chain_verifies_its_anchors_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev-chain");
        let clock = Arc::new(ManualClock::new(1_700_000_000));
        let (a, b) = (cid_of(0x71, b"a"), cid_of(0x71, b"b"));
        let chain = DevChain::open_with_clock(&path, clock.clone()).unwrap();
        let first = chain.anchor_root(&a).unwrap();
        clock.advance(5);
        let second = chain.anchor_root(&b).unwrap();
        drop(chain);
        let reopened = DevChain::open(&path).unwrap();
        assert_eq!(reopened.height(), 2);
        assert_eq!(reopened.check(&proof(&reopened, a, first)), Ok(1_700_000_000));
        assert_eq!(reopened.check(&proof(&reopened, b, second)), Ok(1_700_000_005));
        assert!(matches!(
            reopened.check(&proof(&reopened, a, second)),
            Err(ChainError::RootMismatch { .. })
        ));
        // Mining goes on from block 3; an in-memory chain knows none of these.
        let third = reopened.anchor_root(&a).unwrap();
        assert_eq!(reopened.transaction(&third).unwrap().block_number, 3);
        assert!(DevChain::new().check(&proof(&reopened, a, first)).is_err());
    }

    #[test]
    fn another_process_reads_new_blocks_on_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev-chain");
        let miner = DevChain::open(&path).unwrap();
        let reader = DevChain::open(&path).unwrap();
        let root = cid_of(0x71, b"late");
        let tx = miner.anchor_root(&root).unwrap();
        assert_eq!(reader.height(), 0);
        assert!(reader.check(&proof(&reader, root, tx)).is_ok(), "read on the miss");
        assert_eq!(reader.height(), 1);
        let unknown = tx_hash_cid([1; 32]);
        assert!(matches!(
            reader.check(&proof(&reader, root, unknown)),
            Err(ChainError::UnknownTransaction(_))
        ));
    }

    #[test]
    fn a_torn_last_line_is_cut_and_a_corrupt_line_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev-chain");
        let root = cid_of(0x71, b"r");
        let tx = DevChain::open(&path).unwrap().anchor_root(&root).unwrap();
        let good = std::fs::read(&path).unwrap();
        let mut torn = good.clone();
        torn.extend_from_slice(b"2 17000");
        std::fs::write(&path, &torn).unwrap();
        let chain = DevChain::open(&path).unwrap();
        assert_eq!(chain.height(), 1);
        assert_eq!(std::fs::read(&path).unwrap(), good, "the torn line is cut off");
        let next = chain.anchor_root(&root).unwrap();
        drop(chain);
        let chain = DevChain::open(&path).unwrap();
        assert!(chain.transaction(&tx).is_some() && chain.transaction(&next).is_some());
        drop(chain);
        for (text, height, reason) in [
            (format!("1 5 {root}\n3 6 {root}\n"), 2, "follow"),
            (format!("1 5 {root}\n2 4 {root}\n"), 2, "goes back"),
            ("1 5 not-a-cid\n".to_owned(), 1, "<root CID>"),
            (format!("1 5 {root} extra\n"), 1, "<root CID>"),
        ] {
            std::fs::write(&path, text.as_bytes()).unwrap();
            match DevChain::open(&path) {
                Err(e @ DevChainError::Corrupt { height: h, .. }) => {
                    assert_eq!(h, height, "{text}");
                    assert!(e.to_string().contains(reason), "{e}");
                    assert!(e.to_string().contains("dev-chain"), "{e}");
                }
                other => panic!("{text}: {other:?}"),
            }
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
