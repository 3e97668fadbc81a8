//! A batch anchored on anvil with `anchor_root`; every witness verifies through `Chains` with
//! the block's timestamp, from the cache the second time; v0 raw-calldata anchors.

use std::sync::Arc;

use ceramic_anchor::{
    Chain, ChainError, Chains, TX_TYPE_V1, Witness, eth_tx_hash, root_to_v0_calldata,
    root_to_v1_calldata,
};
use ceramic_anchor_eth::test_utils::Anvil;
use ceramic_anchor_eth::{EthChain, address_of};
use ceramic_engine::AnchorVerifier;

use crate::batch;

/// The block timestamp of the transaction `tx_hash`, read with `eth_getBlockByNumber`.
fn block_time(chain: &EthChain, tx_hash: &ceramic_codecs::Cid) -> (u64, u64) {
    let tx = chain.transaction(&eth_tx_hash(tx_hash).unwrap()).unwrap().expect("mined");
    let number = tx.block_number.expect("mined");
    let block = chain.block(number).unwrap().expect("the block exists");
    assert_eq!(Some(block.hash), tx.block_hash);
    (number, block.timestamp)
}

#[test]
fn every_witness_of_an_anchored_batch_verifies_with_the_block_timestamp() {
    let anvil = Anvil::start();
    let (chain, contract) = anvil.chain_with_contract();
    let chain = Arc::new(chain);
    assert_eq!((chain.chain_id(), chain.tx_type()), ("eip155:1337", Some(TX_TYPE_V1)));

    let batch = batch(200, 1);
    let root = batch.root();
    let tx_hash = chain.anchor_root(&root).unwrap();
    let anchors = batch.finish(chain.chain_id(), tx_hash, chain.tx_type()).unwrap();

    // The transaction is what the CAS sends: anchorDagCbor(digest) to the contract.
    let tx = chain.transaction(&eth_tx_hash(&tx_hash).unwrap()).unwrap().unwrap();
    assert_eq!(tx.to, Some(contract));
    assert_eq!(tx.input, root_to_v1_calldata(&root).unwrap().to_vec());
    assert_eq!(Some(tx.from), chain.sender());
    let (number, timestamp) = block_time(&chain, &tx_hash);
    assert!(number > 1, "after the eip155:1337 threshold (block 1), so v1 rules apply");

    let verifier = Chains::new().with(chain.clone());
    for (i, anchor) in anchors.anchors().iter().enumerate() {
        let witness = Witness::from_car(&anchors.witness_car(i).unwrap()).unwrap();
        assert_eq!(witness.commit(), anchor.commit());
        assert_eq!(witness.proof().root, root);
        assert_eq!(verifier.verify(witness.proof()).unwrap(), timestamp, "anchor {i}");
    }
    // All anchors of a batch share one proof: the chain was asked once, the rest were cached.
    let calls = chain.rpc_calls();
    for i in 0..anchors.anchors().len() {
        let witness = Witness::from_car(&anchors.witness_car(i).unwrap()).unwrap();
        assert_eq!(verifier.verify(witness.proof()).unwrap(), timestamp);
    }
    assert_eq!(chain.rpc_calls(), calls, "cached proofs need no RPC call");
    assert_eq!(verifier.cached(), 1);
    // The chain itself (no cache) agrees.
    assert_eq!(chain.check_proof(anchors.proof()), Ok(timestamp));
    assert!(chain.rpc_calls() > calls);
}

#[test]
fn a_cached_proof_verifies_after_the_chain_is_gone() {
    let mut anvil = Anvil::start();
    let (chain, _) = anvil.chain_with_contract();
    let chain = Arc::new(chain);
    let batch = batch(3, 2);
    let tx_hash = chain.anchor_root(&batch.root()).unwrap();
    let anchors = batch.finish(chain.chain_id(), tx_hash, chain.tx_type()).unwrap();
    let (_, timestamp) = block_time(&chain, &tx_hash);
    let verifier = Chains::new().with(chain.clone());
    assert_eq!(verifier.check(anchors.proof()), Ok(timestamp));

    anvil.stop();
    assert_eq!(verifier.check(anchors.proof()), Ok(timestamp), "answered from the cache");
    assert!(matches!(
        chain.check_proof(anchors.proof()),
        Err(ChainError::Unavailable { chain_id, .. }) if chain_id == "eip155:1337"
    ));
    let other = batch_proof_for_another_root(anchors.proof());
    assert!(matches!(verifier.check(&other), Err(ChainError::Unavailable { .. })));
}

/// The same proof with another root: not in the cache.
fn batch_proof_for_another_root(
    proof: &ceramic_codecs::AnchorProof,
) -> ceramic_codecs::AnchorProof {
    ceramic_codecs::AnchorProof { root: batch(2, 99).root(), ..proof.clone() }
}

#[test]
fn v0_raw_calldata_anchors_verify_before_the_threshold_only() {
    let anvil = Anvil::start();
    // The contract goes into block 1, so the v0 anchor lands after the default threshold.
    let (v1, _) = anvil.chain_with_contract();
    let v0 = EthChain::connect(anvil.config().v0().with_threshold(Some(1_000))).unwrap();
    assert_eq!(v0.tx_type(), None);
    let batch = batch(5, 3);
    let root = batch.root();
    let tx_hash = v0.anchor_root(&root).unwrap();

    // The old CAS's self-send: to its own address, data 0x0f || root bytes.
    let tx = v0.transaction(&eth_tx_hash(&tx_hash).unwrap()).unwrap().unwrap();
    let sender = address_of(ceramic_anchor_eth::test_utils::dev_key().verifying_key());
    assert_eq!((tx.from, tx.to), (sender, Some(sender)));
    assert_eq!(tx.input, root_to_v0_calldata(&root));

    let anchors = batch.finish(v0.chain_id(), tx_hash, v0.tx_type()).unwrap();
    assert_eq!(anchors.proof().tx_type, None);
    let (number, timestamp) = block_time(&v0, &tx_hash);
    assert!(number > 1 && number <= 1_000, "block {number}");
    let v0 = Arc::new(v0);
    let verifier = Chains::new().with(v0.clone());
    for i in 0..anchors.anchors().len() {
        let witness = Witness::from_car(&anchors.witness_car(i).unwrap()).unwrap();
        assert_eq!(verifier.verify(witness.proof()).unwrap(), timestamp);
    }
    // "raw" is the other name of v0.
    let raw =
        ceramic_codecs::AnchorProof { tx_type: Some("raw".into()), ..anchors.proof().clone() };
    assert_eq!(v0.check_proof(&raw), Ok(timestamp));

    // With the default eip155:1337 threshold (block 1) the same transaction is too late for v0.
    match v1.check_proof(anchors.proof()) {
        Err(ChainError::InvalidTransaction { tx_hash: hash, reason }) => {
            assert_eq!(*hash, tx_hash);
            assert!(reason.contains("after the v1 threshold"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}
