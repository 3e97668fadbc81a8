//! Two Rust nodes, and a Rust node against a hand-driven raw peer.

use std::time::Duration;

use ceramic_bitswap::{
    Config, Event, GetError, Message, PROTOCOL_1_1_0, Presence, Want, WantType, prefix_of,
};
use ceramic_codecs::{Block, Codec, Ipld, cid_of};

use crate::harness::{Node, NodeEvent};
use crate::raw_peer::RawPeer;

fn dag_cbor(text: &str) -> Block {
    let value = Ipld::Map([("hello".to_string(), Ipld::String(text.into()))].into());
    Block::encode(Codec::DagCbor, &value).expect("encodes")
}

fn want(block: &Block, want_type: WantType, send_dont_have: bool) -> Want {
    Want { cid: *block.cid(), priority: 1, cancel: false, want_type, send_dont_have }
}

#[tokio::test]
async fn fetches_dag_cbor_blocks_both_ways() {
    let mut a = Node::start(Config::default()).await;
    let b = Node::start(Config::default()).await;
    let (x, y) = (dag_cbor("from a"), dag_cbor("from b"));
    a.store.insert(&x);
    b.store.insert(&y);
    a.connect(&b).await;

    let got = a.client.get(*y.cid()).await.expect("a fetches b's block");
    assert_eq!(got, y);
    let got = b.client.get(*x.cid()).await.expect("b fetches a's block");
    assert_eq!(got, x);
    // Fetched blocks are kept (Config::store_received) and now served from the store. The
    // store thread writes them in order after the fetch resolves: wait for it (bounded).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while (a.store.len(), b.store.len()) != (2, 2) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(a.store.len(), 2);
    assert_eq!(b.store.len(), 2);
    assert_eq!(a.stats().await.blocks_received, 1);
    assert_eq!(b.stats().await.blocks_sent, 1);
}

#[tokio::test]
async fn wants_made_before_a_peer_connects_are_sent_when_it_does() {
    let mut a = Node::start(Config::default()).await;
    let b = Node::start(Config::default()).await;
    let y = dag_cbor("later");
    b.store.insert(&y);
    let client = a.client.clone();
    let cid = *y.cid();
    let fetch = tokio::spawn(async move { client.get(cid).await });
    tokio::time::sleep(Duration::from_millis(200)).await; // let the want register first
    a.connect(&b).await;
    assert_eq!(fetch.await.expect("task").expect("fetched"), y);
}

#[tokio::test]
async fn unknown_cid_times_out_with_a_typed_error_after_dont_have() {
    let mut a = Node::start(Config::default().with_timeout(Duration::from_secs(2))).await;
    let b = Node::start(Config::default()).await;
    a.connect(&b).await;
    let missing = dag_cbor("nobody has this");
    let err = a.client.get(*missing.cid()).await.expect_err("nobody has it");
    assert_eq!(err, GetError::Timeout { cid: Box::new(*missing.cid()), dont_have: 1 });
    let peer = b.peer_id;
    let cid = *missing.cid();
    a.wait_for("DontHave event", |e| {
        matches!(e, NodeEvent::Bitswap(Event::DontHave { peer: p, cid: c }) if *p == peer && *c == cid)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn unsupported_hash_is_a_typed_error() {
    let a = Node::start(Config::default()).await;
    let hash = multihash::Multihash::<64>::wrap(0x1e, &[7; 32]).expect("digest fits");
    let cid = cid::Cid::new_v1(0x71, hash);
    assert_eq!(a.client.get(cid).await, Err(GetError::Unsupported(Box::new(cid))));
}

#[tokio::test]
async fn rejects_a_block_that_does_not_hash_to_the_wanted_cid() {
    let mut node = Node::start(Config::default()).await;
    let mut raw = RawPeer::connect(node.full_addr()).await;
    let wanted = dag_cbor("the real one");
    let client = node.client.clone();
    let cid = *wanted.cid();
    let fetch = tokio::spawn(async move { client.get(cid).await });

    // The node asks the raw peer for the block.
    loop {
        let msg = raw.recv().await;
        if msg.wants.iter().any(|w| w.cid == cid && w.want_type == WantType::Block && !w.cancel) {
            break;
        }
    }
    // The raw peer answers with other bytes under the wanted CID's prefix: the CID the node
    // rebuilds from them is not the wanted one, so the block is dropped.
    let forged = pb_payload(&prefix_of(&cid), b"\xa1\x65hello\x65forge");
    raw.send_bytes(node.peer_id, &forged).await;
    let bad = node
        .wait_for("UnwantedBlock", |e| match e {
            NodeEvent::Bitswap(Event::UnwantedBlock { cid, .. }) => Some(*cid),
            _ => None,
        })
        .await;
    assert_ne!(bad, cid);
    assert_eq!(bad, cid_of(0x71, b"\xa1\x65hello\x65forge"));
    assert!(!fetch.is_finished(), "a forged block must not answer the want");
    let stats = node.stats().await;
    assert_eq!((stats.unwanted_blocks, stats.blocks_received), (1, 0));
    assert!(node.store.is_empty(), "the forged block is not stored");

    // The genuine block then resolves the fetch.
    raw.send(node.peer_id, &Message { blocks: vec![wanted.clone()], ..Default::default() }).await;
    assert_eq!(fetch.await.expect("task").expect("fetched"), wanted);
    assert_eq!(node.stats().await.blocks_received, 1);
}

/// A protobuf `Message` with one payload block, written by hand.
fn pb_payload(prefix: &[u8], data: &[u8]) -> Vec<u8> {
    let mut block = vec![0x0a, prefix.len() as u8];
    block.extend_from_slice(prefix);
    block.push(0x12);
    block.push(data.len() as u8);
    block.extend_from_slice(data);
    let mut msg = vec![0x1a, block.len() as u8];
    msg.extend_from_slice(&block);
    let mut frame = vec![msg.len() as u8];
    frame.extend_from_slice(&msg);
    frame
}

#[tokio::test]
async fn drops_undecodable_messages_and_keeps_serving() {
    let mut node = Node::start(Config::default()).await;
    let x = dag_cbor("still served");
    node.store.insert(&x);
    let mut raw = RawPeer::connect(node.full_addr()).await;
    // Garbage protobuf, then a block whose prefix names a hash we cannot check (blake3).
    raw.send_bytes(node.peer_id, &[3, 0xff, 0xff, 0xff]).await;
    raw.send_bytes(node.peer_id, &pb_payload(&[1, 0x71, 0x1e, 32], b"data")).await;
    for _ in 0..2 {
        node.wait_for("InvalidMessage", |e| {
            matches!(e, NodeEvent::Bitswap(Event::InvalidMessage { .. })).then_some(())
        })
        .await;
    }
    assert_eq!(node.stats().await.invalid_messages, 2);
    raw.send(
        node.peer_id,
        &Message { wants: vec![want(&x, WantType::Block, true)], ..Default::default() },
    )
    .await;
    let msg = raw.recv().await;
    assert_eq!(msg.blocks, vec![x]);
}

#[tokio::test]
async fn answers_want_have_want_block_dont_have_and_cancel() {
    let node = Node::start(Config::default()).await;
    let (have, block, missing, later, cancelled) = (
        dag_cbor("have"),
        dag_cbor("block"),
        dag_cbor("missing"),
        dag_cbor("later"),
        dag_cbor("cancelled"),
    );
    node.store.insert(&have);
    node.store.insert(&block);
    let mut raw = RawPeer::connect(node.full_addr()).await;
    let wants = vec![
        want(&have, WantType::Have, true),
        want(&block, WantType::Block, true),
        want(&missing, WantType::Have, true),
        want(&later, WantType::Block, false),
        want(&cancelled, WantType::Block, false),
    ];
    raw.send(node.peer_id, &Message { wants, ..Default::default() }).await;
    let (mut blocks, mut presences) = (Vec::new(), Vec::new());
    while blocks.is_empty() || presences.len() < 2 {
        let msg = raw.recv().await;
        blocks.extend(msg.blocks);
        presences.extend(msg.presences);
    }
    presences.sort_by_key(|p| p.have);
    assert_eq!(blocks, vec![block]);
    assert_eq!(
        presences,
        vec![
            Presence { cid: *missing.cid(), have: false },
            Presence { cid: *have.cid(), have: true }
        ]
    );

    // Cancel one remembered want; then both blocks arrive in the store: only the other is sent.
    let cancel = Want { cancel: true, ..want(&cancelled, WantType::Block, false) };
    raw.send(node.peer_id, &Message { wants: vec![cancel], ..Default::default() }).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // let the cancel land first
    for b in [&cancelled, &later] {
        node.store.insert(b);
        node.client.notify(b.clone()).await.expect("node alive");
    }
    let msg = raw.recv().await;
    assert_eq!(msg.blocks, vec![later]);
    assert!(raw.recv_within(Duration::from_secs(1)).await.is_none(), "cancelled block sent");
}

#[tokio::test]
async fn a_corrupt_stored_block_is_not_served() {
    let node = Node::start(Config::default()).await;
    let x = dag_cbor("genuine");
    node.store.insert_unchecked(*x.cid(), b"\xa0".to_vec());
    let mut raw = RawPeer::connect(node.full_addr()).await;
    raw.send(
        node.peer_id,
        &Message { wants: vec![want(&x, WantType::Block, true)], ..Default::default() },
    )
    .await;
    let msg = raw.recv().await;
    assert!(msg.blocks.is_empty());
    assert_eq!(msg.presences, vec![Presence { cid: *x.cid(), have: false }]);
    assert_eq!(node.stats().await.corrupt_stored_blocks, 1);
}

#[tokio::test]
async fn speaks_1_1_0_without_presences_to_a_peer_lacking_1_2_0() {
    let node = Node::start(Config::default()).await;
    let (x, y, missing) = (dag_cbor("x"), dag_cbor("y"), dag_cbor("missing"));
    node.store.insert(&x);
    let mut raw = RawPeer::connect_with(node.full_addr(), PROTOCOL_1_1_0).await;

    // Our want reaches the peer over 1.1.0 (1.2.0 is refused first).
    let client = node.client.clone();
    let cid = *y.cid();
    let fetch = tokio::spawn(async move { client.get(cid).await });
    loop {
        let msg = raw.recv().await;
        if msg.wants.iter().any(|w| w.cid == cid && !w.cancel) {
            break;
        }
    }
    // Its wants are served; it gets no presences (1.1.0 has none).
    let wants = vec![want(&x, WantType::Block, true), want(&missing, WantType::Have, true)];
    raw.send(node.peer_id, &Message { wants, ..Default::default() }).await;
    let msg = raw.recv().await;
    assert_eq!(msg.blocks, vec![x]);
    assert!(msg.presences.is_empty(), "{msg:?}");
    // Nothing else but (rebroadcast) wants follows.
    while let Some(msg) = raw.recv_within(Duration::from_millis(500)).await {
        assert!(msg.presences.is_empty() && msg.blocks.is_empty(), "{msg:?}");
    }

    raw.send(node.peer_id, &Message { blocks: vec![y.clone()], ..Default::default() }).await;
    assert_eq!(fetch.await.expect("task").expect("fetched"), y);
}

#[tokio::test]
async fn bounds_pending_fetches_and_remembered_wants() {
    let mut config = Config::default().with_timeout(Duration::from_secs(5));
    config.max_pending = 1;
    config.max_wants_per_peer = 2;
    let node = Node::start(config).await;
    let (a, b) = (dag_cbor("a"), dag_cbor("b"));
    let client = node.client.clone();
    let cid = *a.cid();
    let first = tokio::spawn(async move { client.get(cid).await });
    tokio::time::sleep(Duration::from_millis(200)).await; // the first want registers
    assert_eq!(node.client.get(*b.cid()).await, Err(GetError::Busy(1)));
    // A second fetch of the same block shares the first one's want.
    let client = node.client.clone();
    let second = tokio::spawn(async move { client.get(cid).await });

    let mut raw = RawPeer::connect(node.full_addr()).await;
    // Three wants the node cannot serve: two are remembered, one is dropped.
    let wants = ["x", "y", "z"].map(|t| want(&dag_cbor(t), WantType::Block, false)).to_vec();
    raw.send(node.peer_id, &Message { wants, ..Default::default() }).await;
    raw.send(node.peer_id, &Message { blocks: vec![a.clone()], ..Default::default() }).await;
    assert_eq!(first.await.expect("task").expect("fetched"), a);
    assert_eq!(second.await.expect("task").expect("fetched"), a);
    // The wants travel on their own stream: poll until the node has processed them.
    let deadline = tokio::time::Instant::now() + crate::harness::WAIT;
    let stats = loop {
        let stats = node.stats().await;
        if stats.dropped_wants > 0 || tokio::time::Instant::now() > deadline {
            break stats;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((stats.dropped_wants, stats.blocks_received), (1, 1), "{stats:?}");
}
