//! The [`Chain`] trait every anchoring chain implements (the in-process [`crate::DevChain`],
//! Ethereum in `ceramic-anchor-eth`), the [`Chains`] router that verifies a proof on the chain
//! it names, and a cache of verified proofs.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::{AnchorError, AnchorVerifier, ChainError};
use ceramic_codecs::{AnchorProof, Cid};

/// A blockchain the anchor service can put Merkle roots on and nodes can check proofs against.
///
/// Calls block (a chain client waits for the network): call them from a blocking thread
/// (`tokio::task::spawn_blocking`), never from an async task.
pub trait Chain: Send + Sync + fmt::Debug {
    /// The chain's CAIP-2 id, e.g. `eip155:1337` or `inmemory:12345`.
    fn chain_id(&self) -> &str;

    /// The `txType` written into proofs of roots this chain anchors: `Some("f(bytes32)")` for
    /// the v1 anchor contract, `None` for raw (v0) transactions and the dev chain.
    fn tx_type(&self) -> Option<&str>;

    /// Puts `root` on the chain and waits until the transaction is included; returns the
    /// transaction's hash as an eth-tx CID ([`crate::tx_hash_cid`]).
    ///
    /// # Errors
    /// [`ChainError::Unavailable`] when the chain cannot be reached or refuses the transaction;
    /// [`ChainError::NoSigner`] for a chain configured only to verify;
    /// [`ChainError::UnsupportedRoot`] for a root the chain's transaction form cannot carry.
    fn anchor_root(&self, root: &Cid) -> Result<Cid, ChainError>;

    /// Checks that the proof's transaction is on this chain and carries its root by this
    /// chain's rules; returns the block timestamp (unix seconds).
    ///
    /// # Errors
    /// A [`ChainError`] saying which rule the proof breaks.
    fn check_proof(&self, proof: &AnchorProof) -> Result<u64, ChainError>;
}

/// The engine's error for a proof a chain did not confirm.
pub(crate) fn to_anchor_error(proof: &AnchorProof, error: &ChainError) -> AnchorError {
    AnchorError::Chain {
        chain_id: proof.chain_id.clone(),
        tx_hash: Box::new(proof.tx_hash),
        reason: error.to_string(),
    }
}

/// The chains a node accepts proofs from, by chain id, with a cache of confirmed proofs so that
/// loading a log again does not ask the chain again. Only successes are cached: a transaction
/// that is not mined yet may be later. It is the engine's [`AnchorVerifier`].
#[derive(Debug, Default)]
pub struct Chains {
    chains: HashMap<String, Arc<dyn Chain>>,
    cache: Mutex<HashMap<ProofKey, u64>>,
}

/// What a cached confirmation is for: chain id, transaction, root and `txType`.
type ProofKey = (String, Cid, Cid, Option<String>);

/// At most this many confirmed proofs are cached; the cache is cleared when it is full.
const CACHE_LIMIT: usize = 100_000;

impl Chains {
    /// No chains: every proof is refused as [`ChainError::UnsupportedChain`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `chain` under its [`Chain::chain_id`], replacing one with the same id.
    #[must_use]
    pub fn with(mut self, chain: Arc<dyn Chain>) -> Self {
        self.chains.insert(chain.chain_id().to_owned(), chain);
        self
    }

    /// The chain with this id.
    pub fn get(&self, chain_id: &str) -> Option<&Arc<dyn Chain>> {
        self.chains.get(chain_id)
    }

    /// The ids of the chains, sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<_> = self.chains.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// How many confirmed proofs are cached.
    pub fn cached(&self) -> usize {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Checks `proof` on the chain it names (from the cache if it was confirmed before).
    ///
    /// # Errors
    /// [`ChainError::UnsupportedChain`], or the chain's own error.
    pub fn check(&self, proof: &AnchorProof) -> Result<u64, ChainError> {
        let key = (proof.chain_id.clone(), proof.tx_hash, proof.root, proof.tx_type.clone());
        if let Some(timestamp) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(*timestamp);
        }
        let chain = self
            .chains
            .get(&proof.chain_id)
            .ok_or_else(|| ChainError::UnsupportedChain(proof.chain_id.clone()))?;
        let timestamp = chain.check_proof(proof)?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key, timestamp);
        Ok(timestamp)
    }
}

impl AnchorVerifier for Chains {
    fn verify(&self, proof: &AnchorProof) -> Result<u64, AnchorError> {
        self.check(proof).map_err(|e| to_anchor_error(proof, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DevChain, ManualClock};
    use ceramic_codecs::cid_of;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the proofs it is asked about, and confirms them on a dev chain.
    #[derive(Debug)]
    struct Counting(DevChain, AtomicUsize);

    impl Chain for Counting {
        fn chain_id(&self) -> &str {
            self.0.chain_id()
        }
        fn tx_type(&self) -> Option<&str> {
            None
        }
        fn anchor_root(&self, root: &Cid) -> Result<Cid, ChainError> {
            self.0.anchor_root(root)
        }
        fn check_proof(&self, proof: &AnchorProof) -> Result<u64, ChainError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.check(proof)
        }
    }

    #[test]
    fn routes_by_chain_id_and_caches_only_successes() {
        let counting =
            Arc::new(Counting(DevChain::with_clock(Arc::new(ManualClock::new(7))), 0.into()));
        let chains = Chains::new().with(counting.clone());
        assert_eq!(chains.ids(), vec!["inmemory:12345".to_owned()]);
        let root = cid_of(0x71, b"root");
        let tx_hash = counting.anchor_root(&root).unwrap();
        let proof = AnchorProof { chain_id: "inmemory:12345".into(), root, tx_hash, tx_type: None };
        assert_eq!(chains.check(&proof), Ok(7));
        assert_eq!(chains.verify(&proof).unwrap(), 7);
        assert_eq!(counting.1.load(Ordering::SeqCst), 1, "second check came from the cache");
        assert_eq!(chains.cached(), 1);

        let forged = AnchorProof { root: cid_of(0x71, b"other"), ..proof.clone() };
        assert!(matches!(chains.check(&forged), Err(ChainError::RootMismatch { .. })));
        assert!(chains.check(&forged).is_err(), "failures are not cached");
        assert_eq!(counting.1.load(Ordering::SeqCst), 3);

        let elsewhere = AnchorProof { chain_id: "eip155:1".into(), ..proof };
        assert_eq!(chains.check(&elsewhere), Err(ChainError::UnsupportedChain("eip155:1".into())));
        assert!(matches!(chains.verify(&elsewhere), Err(AnchorError::Chain { .. })));
    }
}
