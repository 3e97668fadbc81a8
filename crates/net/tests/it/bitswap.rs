//! Bitswap in the node's swarm, against a real helia 7 / js-libp2p 3 peer
//! (`tools/helia/peer.mjs`, run with the npm-installed Node 22, through the shared
//! `ceramic_testkit::Helia` harness): helia fetches a node's commit blocks, and a node loads a
//! stream whose blocks only helia holds.

use std::sync::Arc;
use std::time::Duration;

use ceramic_codecs::{Block, Cid};
use ceramic_engine::TipOutcome;
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::test_utils::{genesis, signer};
use ceramic_net::{Multiaddr, PeerId};
use ceramic_storage::Storage;

use crate::harness::{Node, config, eventually, start};

/// A line from helia in answer to a command (its own fetches give up after 60 s).
const ANSWER: Duration = Duration::from_secs(90);

/// A helia peer on 127.0.0.1, driven through its stdin and stdout.
struct Helia {
    js: ceramic_testkit::Helia,
    addr: Multiaddr,
    peer: PeerId,
    /// The dag-cbor block helia holds from the start, and its bytes.
    cid: Cid,
    data: Vec<u8>,
}

impl Helia {
    async fn start() -> Helia {
        let js =
            ceramic_testkit::Helia::start("ceramic-net").await.unwrap_or_else(|e| panic!("{e}"));
        let addr: Multiaddr = js.addr().parse().expect("a multiaddr");
        let peer: PeerId = js.peer_id().parse().expect("ADDR ends in /p2p/<peer id>");
        let cid: Cid = js.cid().parse().expect("a CID");
        let data = hex::decode(js.data_hex()).expect("hex");
        Helia { js, addr, peer, cid, data }
    }

    /// Sends a command and returns the first line starting with one of `answers`.
    async fn ask(&mut self, command: &str, answers: &[&str]) -> String {
        self.js.ask(command, answers, ANSWER).await.unwrap_or_else(|e| panic!("{command}: {e}"))
    }

    /// Stores a block of any codec in helia.
    async fn put(&mut self, block: &Block) {
        let command = format!("PUTCID {} {}", block.cid(), hex::encode(block.data()));
        let line = self.ask(&command, &["PUT ", "ERR "]).await;
        assert_eq!(line, format!("PUT {}", block.cid()));
    }
}

/// Connects the node to helia and waits until the connection is up.
async fn connect(node: &Node, helia: &Helia) {
    node.net.dial(helia.addr.clone()).await.expect("dials");
    let (net, peer) = (node.net.clone(), helia.peer);
    eventually("connected to helia", || {
        let net = net.clone();
        async move { net.peers().await.expect("running").contains(&peer) }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helia_fetches_a_nodes_commit_blocks_over_bitswap() {
    let mut helia = Helia::start().await;
    let chain = Arc::new(FakeAnchorVerifier::default());
    let node = start(config("bitswap-serve", vec![]), &chain).await;
    let author = signer(40);
    let (_, g) = genesis(&author, "served to helia", None, &[]);
    node.write(&g);

    let ours = node.addrs()[0].to_string();
    let line = helia.ask(&format!("DIAL {ours}"), &["DIALED ", "ERR "]).await;
    assert_eq!(line, format!("DIALED {}", node.net.peer_id()));
    // The genesis envelope (dag-jose) and its payload (dag-cbor), each hash-checked by helia.
    for block in &g.blocks {
        let line = helia.ask(&format!("FETCH {}", block.cid()), &["GOT ", "ERR "]).await;
        assert_eq!(line, format!("GOT {} {}", block.cid(), hex::encode(block.data())));
    }
    let stats = node.net.bitswap_stats().await.expect("running").expect("bitswap is on");
    assert!(stats.blocks_sent >= 2, "{stats:?}");
    assert_eq!((stats.invalid_messages, stats.corrupt_stored_blocks), (0, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_loads_a_stream_only_helia_holds_through_the_bitswap_fallback() {
    let mut helia = Helia::start().await;
    let chain = Arc::new(FakeAnchorVerifier::default());
    // A generous Bitswap wait: helia answers slowly while cargo builds on both cores.
    let node = start(config("bitswap-fetch", vec![]).with_bitswap_timeout(ANSWER), &chain).await;
    let author = signer(41);
    let (stream, g) = genesis(&author, "held by helia", None, &[]);
    for block in &g.blocks {
        helia.put(block).await;
    }
    connect(&node, &helia).await;

    // helia's own dag-cbor block: helia does not speak the block protocol, so it comes over
    // bitswap, hash-checked.
    let got = node.net.fetch_blocks(None, vec![helia.cid]).await.expect("running");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].cid(), &helia.cid);
    assert_eq!(got[0].data(), helia.data.as_slice());

    // A sync walks envelope -> payload over bitswap and the engine applies the genesis.
    let outcome = node.net.sync_tip(&stream, g.cid, None).await.expect("synced from helia");
    assert!(!matches!(outcome, TipOutcome::Unchanged), "{outcome:?}");
    assert_eq!(node.tip(&stream), Some(g.cid));
    for block in &g.blocks {
        assert_eq!(node.storage.block(block.cid()).expect("reads").as_ref(), Some(block));
    }
    let stats = node.net.bitswap_stats().await.expect("running").expect("bitswap is on");
    assert_eq!(stats.blocks_received, 3, "helia's block, the envelope, the payload: {stats:?}");
    assert_eq!((stats.invalid_messages, stats.unwanted_blocks), (0, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_bitswap_off_nothing_is_fetched_from_helia() {
    let helia = Helia::start().await;
    let chain = Arc::new(FakeAnchorVerifier::default());
    let node = start(config("bitswap-off", vec![]).with_bitswap(false), &chain).await;
    connect(&node, &helia).await;
    let got = node.net.fetch_blocks(None, vec![helia.cid]).await.expect("running");
    assert!(got.is_empty(), "{got:?}");
    assert!(node.net.bitswap_stats().await.expect("running").is_none());
}
