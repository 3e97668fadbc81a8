//! Kademlia provider records: a node that shares no pubsub peer with the holder of a stream
//! finds it as the provider of the stream's genesis CID, connects, and loads the stream.

use std::sync::Arc;

use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::test_utils::{genesis, signer};

use crate::harness::{TIMEOUT, config, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_finds_the_provider_of_a_stream_through_kademlia() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    // B is on another topic: it relays no Ceramic message between A and D, only the DHT.
    let b = start(config("providers-other", vec![]), &chain).await;
    let a = start(config("providers", b.addrs()), &chain).await;
    let d = start(config("providers", b.addrs()), &chain).await;
    let author = signer(10);
    let (stream, g) = genesis(&author, "providers", None, &[]);
    a.write(&g); // announced: A provides the genesis CID on the DHT

    assert!(d.net.topic_peers().await.unwrap().is_empty(), "D has no pubsub peer");
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let state = loop {
        match d.net.load(&stream).await {
            Ok(state) => break state,
            // A's provider record may not have reached B yet.
            Err(e) => assert!(tokio::time::Instant::now() < deadline, "never loaded: {e}"),
        }
    };
    assert_eq!(state.tip(), g.cid);
    assert!(d.net.peers().await.unwrap().contains(&a.net.peer_id()), "D connected to A");
}
