//! Interop with helia 7 / js-libp2p 3 (`tools/helia/peer.mjs`, run with the npm-installed
//! Node 22, through the shared `ceramic_testkit::Helia` harness): each side fetches the other's
//! dag-cbor block over bitswap 1.2.0.

use std::time::Duration;

use ceramic_bitswap::Config;
use ceramic_codecs::{Block, Cid, Codec, Ipld};
use ceramic_testkit::Helia;
use libp2p::Multiaddr;

use crate::harness::{Node, NodeEvent};

const FETCH: Duration = Duration::from_secs(90);

struct JsPeer {
    helia: Helia,
    addr: Multiaddr,
    cid: Cid,
    data: Vec<u8>,
}

impl JsPeer {
    async fn start() -> JsPeer {
        let helia = Helia::start("rust-interop").await.unwrap_or_else(|e| panic!("{e}"));
        let addr = helia.addr().parse::<Multiaddr>().expect("a multiaddr");
        let cid = helia.cid().parse::<Cid>().expect("a CID");
        let data = hex::decode(helia.data_hex()).expect("hex");
        JsPeer { helia, addr, cid, data }
    }

    async fn command(&mut self, line: &str) {
        self.helia.send(line).unwrap_or_else(|e| panic!("{e}"));
    }

    /// The next line starting with one of `prefixes`.
    async fn expect_line(&mut self, prefixes: &[&str], wait: Duration) -> String {
        self.helia.next_answer(prefixes, wait).await.unwrap_or_else(|e| panic!("{e}"))
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
