//! Interop with an independently written libp2p: a js-libp2p 3 gossipsub peer
//! (`tools/helia-gossip/peer.mjs`, run with the npm-installed Node 22 through
//! `ceramic_testkit`) and our node exchange Ceramic pubsub messages on one topic, both ways:
//! its UPDATE reaches us, our UPDATE reaches it, and its QUERY for a stream we have gets our
//! RESPONSE.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::test_utils::{genesis, signer};
use ceramic_net::message::Update;
use ceramic_net::{Message, Multiaddr, query_id};
use ceramic_testkit::{Error, Process, tools};

use crate::harness::{TIMEOUT, config, start};

/// The JS peer; killed on drop.
struct JsPeer {
    process: Process,
}

impl JsPeer {
    async fn start(topic: &str) -> (JsPeer, Multiaddr) {
        let program =
            tools::node_script("helia-gossip", "peer.mjs", &["node_modules/@libp2p/gossipsub"])
                .unwrap_or_else(|e| panic!("{e}"))
                .arg(topic)
                .stdin();
        let (process, addr) = program
            .start_async("ADDR ", TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("the JS peer prints its address: {e}"));
        (JsPeer { process }, addr.parse().expect("a multiaddr"))
    }

    fn publish(&mut self, line: &str) {
        self.process.write_line(line).expect("writes to the JS peer");
    }

    /// The rest of the next line starting with `prefix`, within `wait`.
    async fn next_line_with(&mut self, prefix: &str, wait: Duration) -> Option<String> {
        match self.process.wait_for_prefix_async(prefix, wait).await {
            Ok(rest) => Some(rest),
            Err(Error::Timeout { .. }) => None,
            Err(e) => panic!("the JS peer exited: {e}"),
        }
    }

    /// Waits for a received message equal to `expected` (JSON), re-running `again` each second.
    async fn expect_message(&mut self, expected: &serde_json::Value, mut again: impl AsyncFnMut()) {
        let deadline = Instant::now() + TIMEOUT;
        again().await;
        loop {
            assert!(Instant::now() < deadline, "the JS peer never received {expected}");
            if let Some(got) = self.next_line_with("GOT ", Duration::from_secs(1)).await {
                let got: serde_json::Value = serde_json::from_str(&got).expect("JSON");
                if &got == expected {
                    return;
                }
            } else {
                again().await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_libp2p_peer_and_our_node_exchange_ceramic_messages() {
    let topic = "/ceramic/inmemory-interop";
    let (mut js, addr) = JsPeer::start(topic).await;
    let chain = Arc::new(FakeAnchorVerifier::default());
    let ours = start(config("unused", vec![addr]).with_topic(topic), &chain).await;
    ours.wait_topic_peers(1).await;

    // JS → us: an UPDATE (for a stream we do not follow: received, parsed, skipped).
    let author = signer(8);
    let (stream, g) = genesis(&author, "interop", None, &[]);
    let (other, other_g) = genesis(&author, "interop-2", None, &[]);
    let js_update = Message::Update(Update { stream: other, tip: other_g.cid, model: None });
    let js_update = String::from_utf8(js_update.encode()).expect("UTF-8");
    let net = ours.net.clone();
    let deadline = Instant::now() + TIMEOUT;
    'received: loop {
        assert!(Instant::now() < deadline, "our node never received the JS UPDATE");
        js.publish(&js_update);
        let _ = js.next_line_with("SENT ", Duration::from_secs(5)).await;
        for _ in 0..50 {
            if net.stats().updates_received > 0 {
                break 'received;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_eq!(net.stats().malformed, 0);

    // Us → JS: the UPDATE a local write publishes, exactly as js-ceramic encodes it.
    ours.write(&g);
    let expected =
        serde_json::json!({"typ": 0, "stream": stream.to_string(), "tip": g.cid.to_string()});
    let update = Message::Update(Update { stream, tip: g.cid, model: None });
    js.expect_message(&expected, async || {
        let _ = net.publish(update.clone()).await;
    })
    .await;

    // JS asks, we answer: QUERY → RESPONSE with our tip.
    let id = query_id(&stream);
    let query = serde_json::json!({"typ": 1, "id": id, "stream": stream.to_string()}).to_string();
    let response =
        serde_json::json!({"typ": 2, "id": id, "tips": {stream.to_string(): g.cid.to_string()}});
    js.publish(&query);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        assert!(Instant::now() < deadline, "no RESPONSE to the JS QUERY");
        match js.next_line_with("GOT ", Duration::from_secs(1)).await {
            Some(got)
                if serde_json::from_str::<serde_json::Value>(&got).ok().as_ref()
                    == Some(&response) =>
            {
                break;
            }
            Some(_) => {}
            None => js.publish(&query),
        }
    }
    assert!(ours.net.stats().responses_sent >= 1);
}
