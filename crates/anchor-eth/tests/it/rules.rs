//! The rules of `check_proof` (js-ceramic's validateChainInclusion plus the receipt status),
//! each broken by a real transaction on anvil.

use std::sync::Arc;
use std::time::Duration;

use ceramic_anchor::{
    ANCHOR_CONTRACT, Chain, ChainError, Chains, TX_TYPE_V1, eth_tx_hash, root_to_v1_calldata,
    tx_hash_cid,
};
use ceramic_anchor_eth::test_utils::{Anvil, dev_key_1};
use ceramic_anchor_eth::{EthChain, address_of};
use ceramic_codecs::{AnchorProof, cid_of};
use ceramic_engine::AnchorVerifier;

use crate::batch;

/// A v1 proof of `root` in transaction `tx_hash` on anvil.
fn proof(root: ceramic_codecs::Cid, tx_hash: ceramic_codecs::Cid) -> AnchorProof {
    AnchorProof { chain_id: "eip155:1337".into(), root, tx_hash, tx_type: Some(TX_TYPE_V1.into()) }
}

fn reason(result: Result<u64, ChainError>) -> String {
    match result {
        Err(ChainError::InvalidTransaction { reason, .. }) => reason,
        other => panic!("expected InvalidTransaction, got {other:?}"),
    }
}

#[test]
fn rejects_a_root_the_transaction_does_not_carry() {
    let anvil = Anvil::start();
    let (chain, _) = anvil.chain_with_contract();
    let root = batch(4, 10).root();
    let tx_hash = chain.anchor_root(&root).unwrap();
    let other = batch(4, 11).root();
    assert_eq!(
        chain.check_proof(&proof(other, tx_hash)),
        Err(ChainError::RootMismatch {
            tx_hash: Box::new(tx_hash),
            recorded: Box::new(root),
            proof: Box::new(other),
        })
    );
    // Read as v0, v1 calldata carries no root at all.
    let as_v0 = AnchorProof { tx_type: None, ..proof(root, tx_hash) };
    assert!(reason(chain.check_proof(&as_v0)).contains("carries no root"));
    let unknown_type = AnchorProof { tx_type: Some("f(bytes)".into()), ..proof(root, tx_hash) };
    assert!(reason(chain.check_proof(&unknown_type)).contains("unknown txType"));
    assert_eq!(chain.check_proof(&proof(root, tx_hash)).map(|_| ()), Ok(()));
}

#[test]
fn rejects_unknown_transactions_and_hashes_that_are_not_eth_tx_cids() {
    let anvil = Anvil::start();
    let (chain, _) = anvil.chain_with_contract();
    let root = batch(1, 12).root();
    let unknown = tx_hash_cid([7; 32]);
    assert_eq!(
        chain.check_proof(&proof(root, unknown)),
        Err(ChainError::UnknownTransaction(Box::new(unknown)))
    );
    let not_a_tx = cid_of(0x71, b"not a transaction");
    assert!(reason(chain.check_proof(&proof(root, not_a_tx))).contains("eth-tx"));
}

#[test]
fn rejects_proofs_for_other_chains() {
    let anvil = Anvil::start();
    let (chain, _) = anvil.chain_with_contract();
    let chain = Arc::new(chain);
    let root = batch(2, 13).root();
    let tx_hash = chain.anchor_root(&root).unwrap();
    let mainnet = AnchorProof { chain_id: "eip155:1".into(), ..proof(root, tx_hash) };
    assert_eq!(
        chain.check_proof(&mainnet),
        Err(ChainError::WrongChain { expected: "eip155:1337".into(), got: "eip155:1".into() })
    );
    let chains = Chains::new().with(chain.clone());
    assert_eq!(chains.check(&mainnet), Err(ChainError::UnsupportedChain("eip155:1".into())));
    assert!(chains.verify(&mainnet).is_err());
    assert!(chains.verify(&proof(root, tx_hash)).is_ok());
}

#[test]
fn after_the_threshold_rejects_calls_to_another_address() {
    let anvil = Anvil::start();
    let (chain, contract) = anvil.chain_with_contract();
    let root = batch(3, 14).root();
    // The right calldata, sent to an ordinary account instead of the contract.
    let elsewhere = address_of(dev_key_1().verifying_key());
    let calldata = root_to_v1_calldata(&root).unwrap().to_vec();
    let receipt = chain.send_transaction(Some(elsewhere), calldata, None).unwrap();
    assert_eq!(receipt.status, Some(true));
    let tx_hash = tx_hash_cid(receipt.transaction_hash);
    let why = reason(chain.check_proof(&proof(root, tx_hash)));
    assert!(why.contains("sent to the wrong contract"), "{why}");
    assert!(why.contains(&hex::encode(contract)), "{why}");

    // Before a threshold (none here) the address is not checked, as js-ceramic.
    let lenient =
        EthChain::connect(anvil.config().with_contract(contract).with_threshold(None)).unwrap();
    assert!(lenient.check_proof(&proof(root, tx_hash)).is_ok());
}

#[test]
fn rejects_a_reverted_transaction() {
    let anvil = Anvil::start();
    let (chain, contract) = anvil.chain_with_contract();
    let root = batch(3, 15).root();
    let calldata = root_to_v1_calldata(&root).unwrap().to_vec();
    // Enough gas to be accepted (21,000 + calldata, and the EIP-7623 calldata floor), too
    // little for the contract to emit its event: the call runs out of gas and reverts.
    let receipt = chain.send_transaction(Some(contract), calldata, Some(22_600)).unwrap();
    assert_eq!(receipt.status, Some(false), "the call must revert for this test to mean anything");
    let tx_hash = tx_hash_cid(receipt.transaction_hash);
    // The calldata carries the root and goes to the contract; only the status is wrong.
    let tx = chain.transaction(&eth_tx_hash(&tx_hash).unwrap()).unwrap().unwrap();
    assert_eq!(tx.to, Some(contract));
    let why = reason(chain.check_proof(&proof(root, tx_hash)));
    assert!(why.contains("reverted"), "{why}");
}

#[test]
fn rejects_a_transaction_that_is_not_mined_yet() {
    let anvil = Anvil::start_with(&["--no-mining"]);
    let config = anvil.config().with_threshold(None);
    let chain = EthChain::connect(config.clone()).unwrap();
    let root = batch(2, 16).root();
    let calldata = root_to_v1_calldata(&root).unwrap().to_vec();
    let hash = chain.submit_transaction(Some(ANCHOR_CONTRACT), calldata, Some(100_000)).unwrap();
    let pending = chain.transaction(&hash).unwrap().expect("anvil knows the pending transaction");
    assert_eq!(pending.block_number, None);
    let why = reason(chain.check_proof(&proof(root, tx_hash_cid(hash))));
    assert!(why.contains("not mined"), "{why}");

    // The anchor service gives up waiting after its receipt timeout.
    let impatient = EthChain::connect(
        config.with_receipt_polling(Duration::from_millis(10), Duration::from_millis(200)),
    )
    .unwrap();
    match impatient.anchor_root(&root) {
        Err(ChainError::Unavailable { reason, .. }) => {
            assert!(reason.contains("not mined"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}
