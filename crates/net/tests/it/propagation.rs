//! Updates reach the nodes that follow a stream; a node that never saw a stream loads it.

use std::sync::Arc;

use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::test_utils::{add, anchor, genesis, signer};
use ceramic_storage::Storage;

use crate::harness::{config, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_on_a_is_applied_on_b_and_c() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let a = start(config("propagation", vec![]), &chain).await;
    let b = start(config("propagation", a.addrs()), &chain).await;
    let c = start(config("propagation", a.addrs()), &chain).await;
    a.wait_topic_peers(2).await;
    b.wait_topic_peers(1).await;
    c.wait_topic_peers(1).await;

    let author = signer(1);
    let (stream, g) = genesis(&author, "propagation", None, &[]);
    a.write(&g);
    // B and C have never seen the stream: they load it from the network and pin it.
    for node in [&b, &c] {
        let state = node.net.load(&stream).await.expect("loads from A");
        assert_eq!(state.tip(), g.cid);
        node.storage.pin(&stream).expect("pins");
    }

    let mut tip = g.cid;
    for k in 1..=3 {
        let made = add(&author, &stream, tip, k);
        tip = a.write(&made).tip();
        b.wait_tip(&stream, tip).await;
        c.wait_tip(&stream, tip).await;
    }
    for node in [&b, &c] {
        assert_eq!(node.engine.load(&stream).unwrap().current_content()["n"], 6);
        assert!(node.net.stats().tips_applied >= 3, "{:?}", node.net.stats());
        assert_eq!(node.net.stats().bad_blocks, 0);
    }
    assert!(a.net.stats().updates_published >= 4, "{:?}", a.net.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_started_later_loads_a_stream_it_never_saw() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let a = start(config("late", vec![]), &chain).await;
    let author = signer(2);
    let (stream, g) = genesis(&author, "late", None, &[]);
    let mut tip = a.write(&g).tip();
    for k in 1..=5 {
        tip = a.write(&add(&author, &stream, tip, k)).tip();
    }
    // An anchor in the log: its proof and Merkle path blocks are fetched too.
    tip = a.write(&anchor(&chain, &stream, tip, 1_000)).tip();
    tip = a.write(&add(&author, &stream, tip, 10)).tip();

    let d = start(config("late", a.addrs()), &chain).await;
    d.wait_topic_peers(1).await;
    assert!(d.engine.load(&stream).is_err(), "D has never seen the stream");
    let state = d.net.load(&stream).await.expect("D loads it from A");
    assert_eq!(state.tip(), tip);
    assert_eq!(state.log().len(), 8);
    assert_eq!(state.current_content()["n"], 25);
    assert_eq!(d.tip(&stream), Some(tip), "stored");
    assert!(d.net.stats().blocks_fetched >= 16, "{:?}", d.net.stats());
    assert!(a.net.stats().responses_sent >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_pinned_applies_updates_only_once_pinned() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let a = start(config("pinned", vec![]), &chain).await;
    let b =
        start(config("pinned", a.addrs()).with_follow(ceramic_net::Follow::Pinned), &chain).await;
    a.wait_topic_peers(1).await;
    b.wait_topic_peers(1).await;
    let author = signer(7);
    let (stream, g) = genesis(&author, "pinned", None, &[]);
    a.write(&g);
    b.net.load(&stream).await.expect("loads");

    // Stored but not pinned: the UPDATE is skipped.
    let skipped = b.net.stats().updates_skipped;
    let t1 = a.write(&add(&author, &stream, g.cid, 1)).tip();
    let b_net = b.net.clone();
    crate::harness::eventually("skipped", || {
        let b_net = b_net.clone();
        async move { b_net.stats().updates_skipped > skipped }
    })
    .await;
    assert_eq!(b.tip(&stream), Some(g.cid));

    // Pinned: the next UPDATE is applied (with the commit it builds on).
    b.storage.pin(&stream).expect("pins");
    let t2 = a.write(&add(&author, &stream, t1, 2)).tip();
    b.wait_tip(&stream, t2).await;
    assert_eq!(b.engine.load(&stream).unwrap().current_content()["n"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_nodes_send_keepalives_that_peers_accept() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let mut quick = config("keepalive", vec![]);
    quick.keepalive = std::time::Duration::from_millis(200);
    let a = start(quick, &chain).await;
    let b = start(config("keepalive", a.addrs()), &chain).await;
    b.wait_topic_peers(1).await;
    let b_net = b.net.clone();
    crate::harness::eventually("a keepalive", || {
        let b_net = b_net.clone();
        async move { b_net.stats().messages_received > 0 }
    })
    .await;
    assert!(a.net.stats().keepalives_sent >= 1);
    let stats = b.net.stats();
    assert_eq!((stats.malformed, stats.updates_received, stats.queries_received), (0, 0, 0));
}
