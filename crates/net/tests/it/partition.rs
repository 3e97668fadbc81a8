//! A partition with conflicting writes on each side, anchored at different times, converges
//! after healing to the branch the conflict rule picks (the earlier anchor).

use std::sync::Arc;

use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::test_utils::{add, anchor, genesis, signer};
use ceramic_storage::Storage;

use crate::harness::{config, eventually, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partitioned_nodes_converge_on_the_earlier_anchor() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let a = start(config("partition", vec![]), &chain).await;
    let b = start(config("partition", a.addrs()), &chain).await;
    let c = start(config("partition", [a.addrs(), b.addrs()].concat()), &chain).await;
    a.wait_topic_peers(2).await;
    b.wait_topic_peers(2).await;
    c.wait_topic_peers(2).await;

    let author = signer(3);
    let (stream, g) = genesis(&author, "partition", None, &[]);
    a.write(&g);
    for node in [&b, &c] {
        node.net.load(&stream).await.expect("loads");
        node.storage.pin(&stream).expect("pins");
    }

    // Cut A off from B and C.
    for node in [&b, &c] {
        a.net.block(node.net.peer_id()).await.unwrap();
        node.net.block(a.net.peer_id()).await.unwrap();
    }
    let (a_net, b_net, c_net) = (a.net.clone(), b.net.clone(), c.net.clone());
    eventually("A cut off", || {
        let (a_net, b_net) = (a_net.clone(), b_net.clone());
        async move {
            a_net.peers().await.unwrap().is_empty()
                && !b_net.peers().await.unwrap().contains(&a_net.peer_id())
        }
    })
    .await;

    // Side A: a write anchored late. Side B+C: a write anchored early.
    let a1 = a.write(&add(&author, &stream, g.cid, 1)).tip();
    let a_tip = a.write(&anchor(&chain, &stream, a1, 2_000)).tip();
    let b1 = b.write(&add(&author, &stream, g.cid, 2)).tip();
    let b_tip = b.write(&anchor(&chain, &stream, b1, 1_000)).tip();
    c.wait_tip(&stream, b_tip).await;
    assert_eq!(a.tip(&stream), Some(a_tip), "A did not hear of B's side");

    // Heal, then every node syncs the stream with the network (js: load with SYNC_ALWAYS).
    for node in [&b, &c] {
        a.net.unblock(node.net.peer_id()).await.unwrap();
        node.net.unblock(a.net.peer_id()).await.unwrap();
        for addr in node.addrs() {
            a.net.dial(addr).await.unwrap();
        }
    }
    a.wait_topic_peers(2).await;
    b.wait_topic_peers(2).await;
    c.wait_topic_peers(2).await;
    let _ = c_net;
    for node in [&a, &b, &c] {
        let state = node.net.sync(&stream).await.expect("syncs");
        assert_eq!(state.stream_id(), stream);
    }
    for node in [&a, &b, &c] {
        node.wait_tip(&stream, b_tip).await;
        assert_eq!(node.engine.load(&stream).unwrap().current_content()["n"], 2);
    }
    assert!(a.net.stats().tips_applied >= 1, "A switched to B's branch");
}
