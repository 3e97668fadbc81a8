//! Anchoring end to end on a real Ethereum node (anvil from `tools/anvil`, the anchor contract
//! deployed from its committed bytecode): 1,000 anchor requests go through the anchor service
//! into one transaction; the 1,000 anchor commits from its witness CARs apply through the
//! engine, whose verifier checks each proof on the chain (then from its cache) and stamps the
//! block timestamp; and a fork whose branches were anchored at different times resolves to the
//! earlier-anchored branch on every node, whichever branch the node had.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use ceramic_anchor::{Chains, Witness, eth_tx_hash};
use ceramic_anchor_eth::EthChain;
use ceramic_anchor_eth::test_utils::Anvil;
use ceramic_anchor_service::{
    Cas, CasBuilder, MemoryStore as CasMemory, NewRequest, Policy, Status,
};
use ceramic_codecs::Cid;
use ceramic_doctype::{AnchorStatus, Registry};
use ceramic_engine::memory::RecordingPublisher;
use ceramic_engine::test_utils::{ADDER, Adder, Made, add, genesis, signer};
use ceramic_engine::{Engine, TipOutcome};
use ceramic_storage::{MapSource, MemoryStorage};

/// A node's engine (the test doctype, memory store) whose anchor verifier is `chains`.
fn engine(chains: &Arc<Chains>) -> Engine {
    let registry = Registry::new().with(Adder).expect("one doctype");
    Engine::new(
        Arc::new(MemoryStorage::new()),
        registry,
        chains.clone(),
        Arc::new(RecordingPublisher::default()),
    )
}

/// An anchor service on `chain` that batches only when told to.
fn cas(chain: Arc<EthChain>) -> Cas {
    let policy = Policy {
        min_streams: usize::MAX,
        max_delay: Duration::from_secs(24 * 3600),
        ..Policy::default()
    };
    CasBuilder::new(Arc::new(CasMemory::new()), chain).with_policy(policy).open().expect("opens")
}

/// The anchor commit the service made for `cid`, with its blocks (from the witness CAR).
fn anchor_commit(cas: &Cas, cid: &Cid) -> (Witness, Made) {
    let record = cas.get(cid).expect("reads").expect("stored");
    assert_eq!(record.status, Status::Completed, "{record:?}");
    let witness = Witness::from_car(record.witness_car.as_deref().expect("a witness")).unwrap();
    let made = Made { cid: witness.cid(), blocks: witness.blocks().to_vec() };
    (witness, made)
}

/// The timestamp of the block holding `tx_hash`.
fn block_time(chain: &EthChain, tx_hash: &Cid) -> u64 {
    // From the receipt: anvil can serve a just-mined transaction's receipt while
    // eth_getTransactionByHash still shows it pending (no blockNumber yet).
    let receipt = chain.receipt(&eth_tx_hash(tx_hash).unwrap()).unwrap().expect("mined");
    chain.block(receipt.block_number).unwrap().expect("a block").timestamp
}

#[test]
fn a_thousand_requests_one_transaction_and_every_proof_verifies_on_anvil() {
    let anvil = Anvil::start();
    let (chain, _contract) = anvil.chain_with_contract();
    let chain = Arc::new(chain);
    let chains = Arc::new(Chains::new().with(chain.clone()));
    let node = engine(&chains);
    let cas = cas(chain.clone());

    // 1,000 streams, each with a genesis and one update; the update is anchored.
    let author = signer(1);
    let mut tips = Vec::new();
    for i in 0..1_000 {
        let (stream, g) = genesis(&author, &format!("s{i}"), None, &[]);
        node.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
        let update = add(&author, &stream, g.cid, 1);
        node.apply_commit(ADDER, update.cid, &update.blocks).unwrap();
        let request = NewRequest { stream_id: stream, cid: update.cid, timestamp: None };
        assert!(cas.request(&request).unwrap().created);
        tips.push((stream, update.cid));
    }
    let outcome = cas.trigger().unwrap().expect("a batch was made");
    assert_eq!(outcome.requests.len(), 1_000);

    let calls_before = chain.rpc_calls();
    let mut tx_hashes = HashSet::new();
    let mut timestamp = None;
    for (stream, tip) in &tips {
        let (witness, commit) = anchor_commit(&cas, tip);
        assert_eq!(witness.commit().prev, *tip);
        tx_hashes.insert(witness.proof().tx_hash);
        let state = node.apply_commit(ADDER, commit.cid, &commit.blocks).unwrap();
        assert_eq!(state.stream_id(), *stream);
        assert_eq!(state.anchor_status(), AnchorStatus::Anchored);
        assert_eq!(state.tip(), commit.cid);
        let stamped = state.log().last().unwrap().timestamp.expect("stamped");
        assert_eq!(*timestamp.get_or_insert(stamped), stamped);
        // The stamp covers the anchored update too.
        assert_eq!(state.log()[1].timestamp, Some(stamped));
    }
    // One proof check (transaction, receipt, block); the other 999 came from the cache.
    let calls = chain.rpc_calls() - calls_before;
    assert!(calls <= 3, "{calls} RPC calls");
    assert_eq!(chains.cached(), 1);
    assert_eq!(tx_hashes.len(), 1, "one transaction for the whole batch");
    let tx_hash = tx_hashes.into_iter().next().unwrap();
    assert_eq!(timestamp, Some(block_time(&chain, &tx_hash)), "the block's timestamp");
}

#[test]
fn the_earlier_anchored_branch_wins_on_every_node() {
    let anvil = Anvil::start();
    let (chain, _contract) = anvil.chain_with_contract();
    let chain = Arc::new(chain);
    let chains = Arc::new(Chains::new().with(chain.clone()));
    let cas = cas(chain.clone());
    let author = signer(2);
    let (stream, g) = genesis(&author, "fork", None, &[]);
    // Two writers extend the genesis differently; branch B is longer.
    let a1 = add(&author, &stream, g.cid, 1);
    let b1 = add(&author, &stream, g.cid, 10);
    let b2 = add(&author, &stream, b1.cid, 20);

    // A is anchored first, B in a later block (at least a second later).
    cas.request(&NewRequest { stream_id: stream, cid: a1.cid, timestamp: None }).unwrap();
    cas.trigger().unwrap().expect("batch A");
    let (witness_a, anchor_a) = anchor_commit(&cas, &a1.cid);
    let time_a = block_time(&chain, &witness_a.proof().tx_hash);
    let anchored_b_later = || {
        cas.request(&NewRequest { stream_id: stream, cid: b2.cid, timestamp: None }).unwrap();
        cas.trigger().unwrap().expect("batch B");
        anchor_commit(&cas, &b2.cid)
    };
    std::thread::sleep(Duration::from_millis(1_100));
    let (witness_b, anchor_b) = anchored_b_later();
    let time_b = block_time(&chain, &witness_b.proof().tx_hash);
    assert!(time_a < time_b, "{time_a} < {time_b}");

    let mut peer = MapSource::default();
    for made in [&g, &a1, &anchor_a, &b1, &b2, &anchor_b] {
        peer.extend(&made.blocks);
    }
    // Node 1 had branch B (anchored later) and hears A's anchor: A wins.
    let node1 = engine(&chains);
    for made in [&g, &b1, &b2, &anchor_b] {
        node1.apply_commit(ADDER, made.cid, &made.blocks).unwrap();
    }
    match node1.handle_tip(&stream, anchor_a.cid, &peer).unwrap() {
        TipOutcome::Accepted(state) => assert_eq!(state.tip(), anchor_a.cid),
        other => panic!("{other:?}"),
    }
    // Node 2 had branch A and hears B's anchor: A stays.
    let node2 = engine(&chains);
    for made in [&g, &a1, &anchor_a] {
        node2.apply_commit(ADDER, made.cid, &made.blocks).unwrap();
    }
    assert!(matches!(
        node2.handle_tip(&stream, anchor_b.cid, &peer).unwrap(),
        TipOutcome::Unchanged
    ));
    // Node 3 hears both, in either order, from nothing.
    let node3 = engine(&chains);
    node3.handle_tip(&stream, anchor_b.cid, &peer).unwrap();
    node3.handle_tip(&stream, anchor_a.cid, &peer).unwrap();
    for node in [&node1, &node2, &node3] {
        let state = node.load(&stream).unwrap();
        assert_eq!(state.tip(), anchor_a.cid);
        assert_eq!(state.log().last().unwrap().timestamp, Some(time_a));
    }
}
