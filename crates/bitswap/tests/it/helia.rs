//! Interop with helia 7 / js-libp2p 3 (`tools/helia/peer.mjs`, run with the npm-installed
//! Node 22): each side fetches the other's dag-cbor block over bitswap 1.2.0.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use ceramic_bitswap::Config;
use ceramic_codecs::{Block, Cid, Codec, Ipld};
use libp2p::Multiaddr;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::harness::{Node, NodeEvent};

/// helia starts in 1–5 s, and up to 15 s while cargo builds on both cores.
const STARTUP: Duration = Duration::from_secs(120);
const FETCH: Duration = Duration::from_secs(90);

struct JsPeer {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    addr: Multiaddr,
    cid: Cid,
    data: Vec<u8>,
}

impl JsPeer {
    async fn start() -> JsPeer {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/helia");
        let node = dir.join("node_modules/node/bin/node");
        assert!(
            node.is_file() && dir.join("node_modules/helia").is_dir(),
            "{} or helia is missing: run `cargo xtask tools` (npm ci in tools/helia)",
            node.display()
        );
        let mut child = Command::new(&node)
            .arg(dir.join("peer.mjs"))
            .arg("rust-interop")
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
        JsPeer {
            child,
            lines,
            addr,
            cid: cid.expect("CID line before ADDR"),
            data: data.expect("DATA line before ADDR"),
        }
    }

    async fn command(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().expect("piped");
        stdin.write_all(format!("{line}\n").as_bytes()).await.expect("write to helia");
        stdin.flush().await.expect("flush");
    }

    /// The next line starting with one of `prefixes`.
    async fn expect_line(&mut self, prefixes: &[&str], wait: Duration) -> String {
        tokio::time::timeout(wait, async {
            loop {
                let line = self.lines.next_line().await.expect("read").expect("helia peer exited");
                if prefixes.iter().any(|p| line.starts_with(p)) {
                    return line;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {prefixes:?} line from helia in time"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_blocks_from_and_serves_blocks_to_helia() {
    let mut js = JsPeer::start().await;
    let mut node = Node::start(Config::default().with_timeout(FETCH)).await;
    let value = Ipld::Map([("hello".to_string(), Ipld::String("from rust".into()))].into());
    let ours = Block::encode(Codec::DagCbor, &value).expect("encodes");
    node.store.insert(&ours);

    node.dial(js.addr.clone()).await;
    let js_peer = js.addr.iter().find_map(|p| match p {
        libp2p::multiaddr::Protocol::P2p(id) => Some(id),
        _ => None,
    });
    let js_peer = js_peer.expect("ADDR has /p2p/");
    let protocols = node
        .wait_for("identify from helia", |e| match e {
            NodeEvent::Identified(p, protocols) if *p == js_peer => Some(protocols.clone()),
            _ => None,
        })
        .await;
    assert!(
        protocols.iter().any(|p| p == "/ipfs/bitswap/1.2.0"),
        "helia advertises bitswap 1.2.0: {protocols:?}"
    );

    // Rust fetches helia's block: hash-checked against the CID helia printed.
    let got = node.client.get(js.cid).await.expect("fetched helia's block");
    assert_eq!(got.cid(), &js.cid);
    assert_eq!(got.data(), js.data.as_slice());
    let decoded: Ipld = ceramic_codecs::decode(got.data(), "helia block").expect("dag-cbor");
    let Ipld::Map(map) = decoded else { panic!("a map: {decoded:?}") };
    assert_eq!(map.get("hello"), Some(&Ipld::String("from helia".into())));

    // helia fetches ours.
    js.command(&format!("FETCH {}", ours.cid())).await;
    let line = js.expect_line(&["GOT ", "ERR "], FETCH).await;
    assert_eq!(line, format!("GOT {} {}", ours.cid(), hex::encode(ours.data())));

    // helia resets an inbound bitswap stream after 10 s without a message; the stream we keep
    // to it is then dead and the next batch must go on a new one. Stay idle past that, then
    // exchange a second pair of blocks.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let value = Ipld::Map([("second".to_string(), Ipld::String("from helia".into()))].into());
    let theirs = Block::encode(Codec::DagCbor, &value).expect("encodes");
    js.command(&format!("PUT {}", hex::encode(theirs.data()))).await;
    let line = js.expect_line(&["PUT "], FETCH).await;
    assert_eq!(line, format!("PUT {}", theirs.cid()));
    let got = node.client.get(*theirs.cid()).await.expect("fetched after the idle period");
    assert_eq!(got, theirs);
    let value = Ipld::Map([("second".to_string(), Ipld::String("from rust".into()))].into());
    let ours = Block::encode(Codec::DagCbor, &value).expect("encodes");
    node.store.insert(&ours);
    js.command(&format!("FETCH {}", ours.cid())).await;
    let line = js.expect_line(&["GOT ", "ERR "], FETCH).await;
    assert_eq!(line, format!("GOT {} {}", ours.cid(), hex::encode(ours.data())));

    let stats = node.stats().await;
    assert_eq!(stats.blocks_received, 2);
    assert!(stats.blocks_sent >= 1, "{stats:?}");
    assert_eq!((stats.invalid_messages, stats.unwanted_blocks), (0, 0), "{stats:?}");
}
