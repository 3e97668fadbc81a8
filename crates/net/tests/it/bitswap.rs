//! Bitswap in the node's swarm, against a real helia 7 / js-libp2p 3 peer
//! (`tools/helia/peer.mjs`, run with the npm-installed Node 22): helia fetches a node's commit
//! blocks, and a node loads a stream whose blocks only helia holds.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use ceramic_codecs::{Block, Cid};
use ceramic_engine::TipOutcome;
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::test_utils::{genesis, signer};
use ceramic_net::{Multiaddr, PeerId};
use ceramic_storage::Storage;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::harness::{Node, config, eventually, start};

/// helia starts in 1–5 s, and up to 15 s while cargo builds on both cores.
const STARTUP: Duration = Duration::from_secs(120);
/// A line from helia in answer to a command (its own fetches give up after 60 s).
const ANSWER: Duration = Duration::from_secs(90);

/// A helia peer on 127.0.0.1, driven through its stdin and stdout.
struct Helia {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    addr: Multiaddr,
    peer: PeerId,
    /// The dag-cbor block helia holds from the start, and its bytes.
    cid: Cid,
    data: Vec<u8>,
}

impl Helia {
    async fn start() -> Helia {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/helia");
        let node = dir.join("node_modules/node/bin/node");
        assert!(
            node.is_file() && dir.join("node_modules/helia").is_dir(),
            "{} or helia is missing: run `cargo xtask tools` (npm ci in tools/helia)",
            node.display()
        );
        let mut child = Command::new(&node)
            .arg(dir.join("peer.mjs"))
            .arg("ceramic-net")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {}: {e}", node.display()));
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let (mut cid, mut data) = (None, None);
        let addr = tokio::time::timeout(STARTUP, async {
            loop {
                let line = lines.next_line().await.expect("read").expect("helia peer exited early");
                if let Some(c) = line.strip_prefix("CID ") {
                    cid = Some(c.parse::<Cid>().expect("a CID"));
                } else if let Some(d) = line.strip_prefix("DATA ") {
                    data = Some(hex::decode(d).expect("hex"));
                } else if let Some(a) = line.strip_prefix("ADDR ") {
                    break a.parse::<Multiaddr>().expect("a multiaddr");
                }
            }
        })
        .await
        .expect("helia peer printed no ADDR line in time");
        let text = addr.to_string();
        let peer = text.rsplit_once("/p2p/").expect("ADDR ends in /p2p/").1;
        let peer: PeerId = peer.parse().expect("a peer id");
        Helia {
            child,
            lines,
            addr,
            peer,
            cid: cid.expect("CID line before ADDR"),
            data: data.expect("DATA line before ADDR"),
        }
    }

    /// Sends a command and returns the first line starting with one of `answers`.
    async fn ask(&mut self, command: &str, answers: &[&str]) -> String {
        let stdin = self.child.stdin.as_mut().expect("piped");
        stdin.write_all(format!("{command}\n").as_bytes()).await.expect("write to helia");
        stdin.flush().await.expect("flush");
        tokio::time::timeout(ANSWER, async {
            loop {
                let line = self.lines.next_line().await.expect("read").expect("helia peer exited");
                if answers.iter().any(|p| line.starts_with(p)) {
                    return line;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {answers:?} line from helia in time for {command}"))
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
