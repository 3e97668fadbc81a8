//! End to end with the engine: a signed stream's tip is anchored on anvil in a batch with other
//! requests, and its anchor commit, read from the witness CAR, is applied through
//! `Engine::apply_commit` with `Chains::with(eth)` as the engine's anchor verifier: the log
//! entry gets the Ethereum block's timestamp. A witness for a root the chain never carried is
//! refused.

use std::sync::Arc;

use ceramic_anchor::{Batch, Chain, Chains, Request, Witness, eth_tx_hash};
use ceramic_anchor_eth::test_utils::Anvil;
use ceramic_codecs::{Block, cid_of};
use ceramic_did::{KeySigner, KeyType};
use ceramic_doctype::{AnchorStatus, CommitKind, Registry};
use ceramic_engine::memory::RecordingPublisher;
use ceramic_engine::test_utils::{ADDER, Adder, add};
use ceramic_engine::{AnchorError, ApplyError, Engine};
use ceramic_storage::MemoryStorage;

/// Nine other streams' requests.
fn others() -> impl Iterator<Item = Request> {
    (0..9u8).map(|i| Request { genesis: cid_of(0x71, &[i]), tip: cid_of(0x85, &[i, 7]) })
}

#[test]
fn an_anchor_commit_on_anvil_applies_with_the_block_timestamp() {
    let anvil = Anvil::start();
    let (chain, _) = anvil.chain_with_contract();
    let chain = Arc::new(chain);
    let engine = Engine::new(
        Arc::new(MemoryStorage::new()),
        Registry::new().with(Adder).unwrap(),
        Arc::new(Chains::new().with(chain.clone())),
        Arc::new(RecordingPublisher::default()),
    );
    let author = KeySigner::from_seed(KeyType::Ed25519, &[9; 32]).unwrap();
    let (stream, g) = ceramic_engine::test_utils::genesis(&author, "eth anchor", None, &[]);
    engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let c1 = add(&author, &stream, g.cid, 4);
    engine.apply_commit(ADDER, c1.cid, &c1.blocks).unwrap();

    let mine = Request { genesis: stream.cid(), tip: c1.cid };
    let batch = Batch::new(others().chain([mine]).collect()).unwrap();
    let tx_hash = chain.anchor_root(&batch.root()).unwrap();
    let anchors = batch.finish(chain.chain_id(), tx_hash, chain.tx_type()).unwrap();
    let receipt = chain.receipt(&eth_tx_hash(&tx_hash).unwrap()).unwrap().unwrap();
    let block = chain.block(receipt.block_number).unwrap().unwrap();

    let index = anchors.anchors().iter().position(|a| *a.request() == mine).unwrap();
    let witness = Witness::from_car(&anchors.witness_car(index).unwrap()).unwrap();
    let state = engine.apply_commit(ADDER, witness.cid(), witness.blocks()).unwrap();
    assert_eq!(state.anchor_status(), AnchorStatus::Anchored);
    let last = state.log().last().unwrap();
    assert_eq!((last.kind, last.timestamp), (CommitKind::Anchor, Some(block.timestamp)));
    assert_eq!(state.anchor_proof(), Some(anchors.proof()));

    // Another batch's witness pointing at this transaction: its root is not the one carried.
    let (other_stream, g2) = ceramic_engine::test_utils::genesis(&author, "other", None, &[]);
    engine.apply_commit(ADDER, g2.cid, &g2.blocks).unwrap();
    let theirs = Request { genesis: other_stream.cid(), tip: g2.cid };
    let forged = Batch::new(others().chain([theirs]).collect())
        .unwrap()
        .finish(chain.chain_id(), tx_hash, chain.tx_type())
        .unwrap();
    let index = forged.anchors().iter().position(|a| *a.request() == theirs).unwrap();
    let blocks: Vec<Block> = forged.witness(index).unwrap().into_iter().cloned().collect();
    match engine.apply_commit(ADDER, forged.anchors()[index].cid(), &blocks).unwrap_err() {
        ApplyError::Anchor { source: AnchorError::Chain { chain_id, reason, .. }, .. } => {
            assert_eq!(chain_id, "eip155:1337");
            assert!(reason.contains("carries root"), "{reason}");
        }
        other => panic!("{other}"),
    }
}
