//! Misbehaving peers: malformed, oversized and flooding publishers are dropped, rate limited and
//! banned while the node keeps serving others; blocks that do not match their CID are refused;
//! tips that do not lead to the stream's genesis are dropped once and not retried.

use std::sync::Arc;
use std::time::Instant;

use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::test_utils::{add, genesis, signer};
use ceramic_net::message::{Query, Update};
use ceramic_net::{MAX_MESSAGE_SIZE, Message, query_id};
use ceramic_storage::Storage;

use crate::harness::{config, eventually, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flooding_and_malformed_peer_is_banned_while_a_serves_b() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let a_config = config("bad", vec![]).with_ban_thresholds(10, 50);
    let a = start(a_config, &chain).await;
    let b = start(config("bad", a.addrs()), &chain).await;
    let m = start(config("bad", a.addrs()), &chain).await;
    a.wait_topic_peers(2).await;
    m.wait_topic_peers(1).await;

    let author = signer(4);
    let (stream, g) = genesis(&author, "bad", None, &[]);
    a.write(&g);

    // M floods A with QUERYs for a stream A has.
    let started = Instant::now();
    let query = Message::Query(Query { id: query_id(&stream), stream });
    for _ in 0..40 {
        m.net.publish(query.clone()).await.expect("published");
    }
    let a_net = a.net.clone();
    eventually("queries received", || {
        let a_net = a_net.clone();
        async move { a_net.stats().queries_received >= 40 }
    })
    .await;
    let stats = a.net.stats();
    let seconds = started.elapsed().as_secs() + 1;
    assert!(stats.rate_limited > 0, "{stats:?}");
    assert!(
        stats.responses_sent <= 10 * seconds,
        "answered {} in {seconds} s",
        stats.responses_sent
    );

    // Then malformed and oversized messages.
    m.net.publish_raw(vec![b'x'; MAX_MESSAGE_SIZE + 1]).await.expect("published");
    // Twelve, over A's threshold of ten: A may ban M before the last ones, and then M has no
    // peer left on the topic to publish to (`NoPeersSubscribedToTopic`); the ban is checked below.
    for i in 0..12 {
        if m.net.publish_raw(format!("{{\"typ\":{i}").into_bytes()).await.is_err() {
            break;
        }
    }
    eventually("M banned", || {
        let a_net = a_net.clone();
        async move { a_net.stats().peers_banned >= 1 }
    })
    .await;
    let stats = a.net.stats();
    assert_eq!(stats.oversized, 1, "{stats:?}");
    assert_eq!(stats.malformed + stats.oversized, 10, "banned at the threshold: {stats:?}");
    let m_id = m.net.peer_id();
    eventually("M disconnected from A", || {
        let a_net = a_net.clone();
        async move { !a_net.peers().await.unwrap().contains(&m_id) }
    })
    .await;

    // A still serves B: B loads the stream and follows an update.
    let state = b.net.load(&stream).await.expect("B loads from A");
    assert_eq!(state.tip(), g.cid);
    let tip = a.write(&add(&author, &stream, g.cid, 1)).tip();
    b.wait_tip(&stream, tip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_that_do_not_match_their_cid_are_refused() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let liar = start(config("corrupt", vec![]), &chain).await;
    let b = start(config("corrupt", liar.addrs()), &chain).await;
    b.wait_topic_peers(1).await;
    liar.wait_topic_peers(1).await;
    let author = signer(5);
    let (stream, g) = genesis(&author, "corrupt", None, &[]);
    liar.write(&g);
    liar.net.serve_corrupt_blocks(true).await.unwrap();

    let err = b.net.load(&stream).await.expect_err("nothing valid to load");
    assert!(matches!(err, ceramic_net::Error::NotFound(_)), "{err}");
    let stats = b.net.stats();
    assert!(stats.bad_blocks >= 1, "{stats:?}");
    assert_eq!(stats.blocks_fetched, 0, "{stats:?}");
    assert!(b.storage.state(&stream).unwrap().is_none());
    assert_eq!(b.storage.stats().unwrap().blocks, 0, "no corrupt block stored");
    // Bitswap, B's fallback, was handed the same corrupt bytes by the liar and refused them.
    let liar_bitswap = liar.net.bitswap_stats().await.unwrap().expect("bitswap is on");
    assert!(liar_bitswap.corrupt_stored_blocks >= 1, "{liar_bitswap:?}");
    assert_eq!(liar_bitswap.blocks_sent, 0, "{liar_bitswap:?}");

    // Served honestly, the same stream loads.
    liar.net.serve_corrupt_blocks(false).await.unwrap();
    assert_eq!(b.net.load(&stream).await.expect("loads").tip(), g.cid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tip_not_leading_to_the_genesis_is_dropped_once() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let a = start(config("foreign", vec![]), &chain).await;
    let b = start(config("foreign", a.addrs()), &chain).await;
    a.wait_topic_peers(1).await;
    b.wait_topic_peers(1).await;
    let author = signer(6);
    let (stream, g) = genesis(&author, "foreign-1", None, &[]);
    let (other, other_g) = genesis(&author, "foreign-2", None, &[]);
    a.write(&g);
    a.write(&other_g);
    let foreign_tip = a.write(&add(&author, &other, other_g.cid, 7)).tip();
    b.net.load(&stream).await.expect("loads");

    // A claims that a commit of another stream is this stream's tip, twice.
    let lie = Message::Update(Update { stream, tip: foreign_tip, model: None });
    a.net.publish(lie.clone()).await.expect("published");
    let b_net = b.net.clone();
    eventually("rejected", || {
        let b_net = b_net.clone();
        async move { b_net.stats().tips_rejected >= 1 }
    })
    .await;
    a.net.publish(lie).await.expect("published");
    eventually("skipped", || {
        let b_net = b_net.clone();
        async move { b_net.stats().updates_skipped >= 1 }
    })
    .await;
    assert_eq!(b.net.stats().tips_rejected, 1, "not retried");
    assert_eq!(b.tip(&stream), Some(g.cid), "B's state unchanged");
}
