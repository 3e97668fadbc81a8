//! Interop with an independently written libp2p: a js-libp2p 3 gossipsub peer
//! (`tools/helia-gossip/peer.mjs`, run with the npm-installed Node 22) and our node exchange
//! Ceramic pubsub messages on one topic, both ways: its UPDATE reaches us, our UPDATE reaches
//! it, and its QUERY for a stream we have gets our RESPONSE.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::test_utils::{genesis, signer};
use ceramic_net::message::Update;
use ceramic_net::{Message, Multiaddr, query_id};

use crate::harness::{TIMEOUT, config, start};

struct JsPeer {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Drop for JsPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl JsPeer {
    fn start(topic: &str) -> (JsPeer, Multiaddr) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/helia-gossip");
        let node = dir.join("node_modules/node/bin/node");
        assert!(
            node.is_file() && dir.join("node_modules/@libp2p/gossipsub").is_dir(),
            "{} is missing: run `cargo xtask tools` (npm ci in tools/helia-gossip)",
            node.display()
        );
        let mut child = Command::new(node)
            .arg(dir.join("peer.mjs"))
            .arg(topic)
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = std::sync::mpsc::sync_channel(1024);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut peer = JsPeer { child, stdin, lines };
        let addr = peer.next_line_with("ADDR ", TIMEOUT).expect("the JS peer prints its address");
        (peer, addr.parse().expect("a multiaddr"))
    }

    fn publish(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").expect("writes to the JS peer");
        self.stdin.flush().expect("flushes");
    }

    /// The rest of the next line starting with `prefix`, within `wait`.
    fn next_line_with(&mut self, prefix: &str, wait: Duration) -> Option<String> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return Some(rest.to_string());
                    }
                }
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => panic!("the JS peer exited"),
            }
        }
    }

    /// Waits for a received message equal to `expected` (JSON), re-running `again` each second.
    async fn expect_message(&mut self, expected: &serde_json::Value, mut again: impl AsyncFnMut()) {
        let deadline = Instant::now() + TIMEOUT;
        again().await;
        loop {
            assert!(Instant::now() < deadline, "the JS peer never received {expected}");
            if let Some(got) = self.next_line_with("GOT ", Duration::from_secs(1)) {
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
    let (mut js, addr) = JsPeer::start(topic);
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
        let _ = js.next_line_with("SENT ", Duration::from_secs(5));
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
        match js.next_line_with("GOT ", Duration::from_secs(1)) {
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
