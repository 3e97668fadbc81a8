//! Two whole nodes in process, networked over libp2p on 127.0.0.1: a stream created on A loads
//! on B (which never saw it) through the network; a subscriber on B gets each update written on
//! A; a stream nobody has stays NOT_FOUND; a 3ID only A stores is loaded from the network when
//! B checks a signature made with its key, and a 3ID nobody has is refused within the bound;
//! the `/ceramic` API lists and dials peers.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use ceramic_codecs::{DataCommit, GenesisCommit, Header, Ipld, Payload, Unique};
use ceramic_core::{Node, NodeConfig};
use ceramic_did::{KeySigner, KeyType, Signer, ThreeIdSigner, sign_commit};
use ceramic_doctype_tile::Tile;
use ceramic_net::{Config as NetConfig, Multiaddr};
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{self, CommitRequest, LoadStreamRequest, SubscribeRequest};
use serde_json::Value;
use support::http;
use tonic::transport::Channel;

const TIMEOUT: Duration = Duration::from_secs(60);

struct Running {
    client: NodeClient<Channel>,
    addrs: Vec<Multiaddr>,
    http: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), ceramic_core::Error>>,
    _dir: tempfile::TempDir,
}

async fn start(bootstrap: Vec<Multiaddr>) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let network = NetConfig::new("two-nodes-test").with_bootstrap(bootstrap);
    let node = Node::builder(NodeConfig::local(dir.path()))
        .with_doctype(Tile::new())
        .with_network_config(network)
        .start()
        .await
        .unwrap();
    let addrs = node.p2p_addrs();
    assert!(!addrs.is_empty(), "the network listens");
    let url = format!("http://{}", node.grpc_addr().unwrap());
    let http = node.http_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(node.run(async move {
        let _ = stopped.await;
    }));
    let client = NodeClient::connect(url).await.unwrap();
    Running { client, addrs, http, stop, task, _dir: dir }
}

fn request(signer: &dyn Signer, payload: &Payload) -> (String, CommitRequest) {
    let signed = sign_commit(signer, payload).unwrap();
    let cid = signed.envelope_block().cid().to_string();
    let blocks = [signed.envelope_block(), signed.payload_block()]
        .map(|b| v1::Block { cid: b.cid().to_string(), data: b.data().to_vec() })
        .to_vec();
    (cid.clone(), CommitRequest { stream_type: 0, commit: cid, blocks })
}

fn n_of(state: &v1::StreamState) -> Value {
    let json: Value = serde_json::from_str(&state.state_json).unwrap();
    let next = json["next"]["content"].clone();
    if next.is_null() { json["content"]["n"].clone() } else { next["n"].clone() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_written_on_a_loads_and_is_followed_on_b() {
    let mut a = start(Vec::new()).await;
    let mut b = start(a.addrs.clone()).await;

    let signer = KeySigner::from_seed(KeyType::Ed25519, &[8; 32]).unwrap();
    let genesis = Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![signer.did().to_owned()]),
            unique: Some(Unique::Text("two-nodes".into())),
            ..Header::default()
        },
        data: Some(Ipld::Map(BTreeMap::from([("n".to_owned(), Ipld::Integer(0))]))),
    });
    let (genesis_cid, create) = request(&signer, &genesis);
    let created = a.client.create_stream(create).await.unwrap().into_inner().state.unwrap();
    let stream_id = created.stream_id.clone();

    // B never saw the stream: LoadStream asks the network (retried while the mesh forms).
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let loaded = loop {
        match b.client.load_stream(LoadStreamRequest { id: stream_id.clone(), at_time: None }).await
        {
            Ok(response) => break response.into_inner().state.unwrap(),
            Err(status) if status.code() == tonic::Code::NotFound => {
                assert!(tokio::time::Instant::now() < deadline, "B never found the stream");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(status) => panic!("{status}"),
        }
    };
    assert_eq!(loaded.tip, genesis_cid);

    // Subscribed on B, writes on A arrive.
    let mut states = b
        .client
        .subscribe(SubscribeRequest { stream_id: stream_id.clone() })
        .await
        .unwrap()
        .into_inner();
    let first = tokio::time::timeout(TIMEOUT, states.message()).await.unwrap().unwrap().unwrap();
    assert_eq!(first.state.unwrap().tip, genesis_cid);
    let mut prev = genesis_cid.parse().unwrap();
    for n in 1..=3_i64 {
        let patch = Ipld::List(vec![Ipld::Map(BTreeMap::from([
            ("op".to_owned(), Ipld::String("replace".into())),
            ("path".to_owned(), Ipld::String("/n".into())),
            ("value".to_owned(), Ipld::Integer(n.into())),
        ]))]);
        let update = Payload::Data(DataCommit {
            id: genesis_cid.parse().unwrap(),
            prev,
            header: Some(Header::default()),
            data: Some(patch),
        });
        let (cid, write) = request(&signer, &update);
        a.client.apply_commit(write).await.unwrap();
        // Each announcement reaches B; a burst may be coalesced into the latest tip.
        loop {
            let message =
                tokio::time::timeout(TIMEOUT, states.message()).await.unwrap().unwrap().unwrap();
            let state = message.state.unwrap();
            if state.tip == cid {
                assert_eq!(n_of(&state), Value::from(n));
                break;
            }
        }
        prev = cid.parse().unwrap();
    }

    // Nobody has this stream.
    let unknown = "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s";
    let missing =
        b.client.load_stream(LoadStreamRequest { id: unknown.into(), at_time: None }).await;
    assert_eq!(missing.unwrap_err().code(), tonic::Code::NotFound);

    drop(states);
    for node in [a, b] {
        drop(node.client);
        node.stop.send(()).unwrap();
        tokio::time::timeout(TIMEOUT, node.task).await.unwrap().unwrap().unwrap();
    }
}

/// The connected peers in `GET /ceramic/peers` on `node`: `(id, addresses)`.
async fn listed_peers(node: &Running) -> Vec<(String, Vec<String>)> {
    let (status, body) = http(node.http, "GET", "/ceramic/peers", None).await;
    assert_eq!(status, 200, "{body}");
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect()
    };
    body["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap().to_owned(), strings(&p["addresses"])))
        .collect()
}

/// Polls `GET /ceramic/peers` on `node` until `peer` is listed with an address (or `TIMEOUT`):
/// its addresses.
async fn wait_listed(node: &Running, peer: &str) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let listed = listed_peers(node).await;
        if let Some((_, addresses)) = listed.into_iter().find(|(id, a)| id == peer && !a.is_empty())
        {
            return addresses;
        }
        assert!(tokio::time::Instant::now() < deadline, "{peer} not listed in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn peer_id(node: &Running) -> String {
    let addr = node.addrs[0].to_string();
    addr.rsplit_once("/p2p/").unwrap().1.to_owned()
}

/// The `/ceramic` API's peers: `GET /peers` lists each connected peer with the addresses it
/// listens on, each ending in `/p2p/<id>` (ceramic-one's `Peer.addresses`); `POST /peers` dials
/// the given multiaddrs; a bad address is a 400 with a message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ceramic_api_lists_peers_with_their_addresses_and_dials_new_ones() {
    let a = start(Vec::new()).await;
    let b = start(a.addrs.clone()).await;
    let c = start(Vec::new()).await;
    let (a_id, b_id) = (peer_id(&a), peer_id(&b));
    let own =
        |node: &Running| -> Vec<String> { node.addrs.iter().map(ToString::to_string).collect() };

    // B dialled A: A lists B at the addresses B listens on (announced through identify).
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let listed = wait_listed(&a, &b_id).await;
        assert!(listed.iter().all(|addr| addr.ends_with(&format!("/p2p/{b_id}"))), "{listed:?}");
        if own(&b).iter().all(|addr| listed.contains(addr)) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{listed:?} are not B's {:?}", own(&b));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(listed_peers(&c).await.is_empty(), "C is connected to no one");

    // C dials A through the API.
    let path = format!("/ceramic/peers?addresses={}", a.addrs[0]);
    let (status, body) = http(c.http, "POST", &path, None).await;
    assert_eq!(status, 204, "{body}");
    let listed = wait_listed(&c, &a_id).await;
    assert!(listed.iter().all(|addr| addr.ends_with(&format!("/p2p/{a_id}"))), "{listed:?}");

    // Bad input: no address, an address that is not a multiaddr.
    for path in ["/ceramic/peers", "/ceramic/peers?addresses=not-a-multiaddr"] {
        let (status, body) = http(c.http, "POST", path, None).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["message"].as_str().unwrap().contains("addresses"), "{body}");
    }

    for node in [a, b, c] {
        drop(node.client);
        node.stop.send(()).unwrap();
        tokio::time::timeout(TIMEOUT, node.task).await.unwrap().unwrap().unwrap();
    }
}

/// A Tile genesis controlled by `controller` with `data`.
fn tile_genesis(controller: &str, unique: &str, data: Value) -> Payload {
    Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![controller.to_owned()]),
            unique: Some(Unique::Text(unique.into())),
            ..Header::default()
        },
        data: Some(ceramic_doctype::json_to_ipld(&data).unwrap()),
    })
}

/// did:3 over the network: B loads a Tile written on A by a 3ID that only A stores, and checking
/// the Tile's signature loads the 3ID's stream from A (`ceramic_core::THREE_ID_FETCH_BOUND`).
/// A write to B signed for a 3ID that no node has is refused as not found, within the bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_three_id_that_only_a_peer_stores_is_loaded_from_the_network() {
    let mut a = start(Vec::new()).await;
    let mut b = start(a.addrs.clone()).await;

    // A 3ID on A: a Tile of family "3id" whose content lists a secp256k1 signing key.
    let controller = KeySigner::from_seed(KeyType::Ed25519, &[31; 32]).unwrap();
    let signing = KeySigner::from_seed(KeyType::Secp256k1, &[32; 32]).unwrap();
    let content = ceramic_did::three_id_content(&[&signing]).unwrap();
    let mut three_id = tile_genesis(controller.did(), "3id-over-the-network", content);
    if let Payload::Genesis(genesis) = &mut three_id {
        genesis.header.family = Some("3id".into());
    }
    let (version, create) = request(&controller, &three_id);
    let created = a.client.create_stream(create).await.unwrap().into_inner().state.unwrap();
    let did = format!("did:3:{}", created.stream_id);
    let as_3id = ThreeIdSigner::new(signing, &did, Some(version.parse().unwrap())).unwrap();

    // A Tile controlled by the 3ID, signed with its key, written on A.
    let tile = tile_genesis(&did, "by-a-3id", serde_json::json!({"by": "3id"}));
    let (_, create) = request(&as_3id, &tile);
    let tile = a.client.create_stream(create).await.unwrap().into_inner().state.unwrap();

    // B has neither stream; it loads the Tile, whose signature check loads the 3ID.
    let request_for = |id: &str| LoadStreamRequest { id: id.into(), at_time: None };
    let loaded = b.client.load_stream(request_for(&tile.stream_id)).await.unwrap().into_inner();
    let state: Value = serde_json::from_str(&loaded.state.unwrap().state_json).unwrap();
    assert_eq!(state["content"], serde_json::json!({"by": "3id"}));
    assert_eq!(state["metadata"]["controllers"][0], did);
    let stored = b.client.load_stream(request_for(&created.stream_id)).await.unwrap();
    assert_eq!(stored.into_inner().state.unwrap().tip, version, "B stores the 3ID now");

    // A 3ID that no node stores: refused as not found, within the bound.
    let ghost_id = "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s";
    let ghost = format!("did:3:{ghost_id}");
    let key = KeySigner::from_seed(KeyType::Secp256k1, &[33; 32]).unwrap();
    let as_ghost = ThreeIdSigner::new(key, &ghost, Some(version.parse().unwrap())).unwrap();
    let (_, create) =
        request(&as_ghost, &tile_genesis(&ghost, "ghost", serde_json::json!({"a": 1})));
    let started = std::time::Instant::now();
    let refused = b.client.create_stream(create).await.unwrap_err();
    assert!(started.elapsed() < ceramic_core::THREE_ID_FETCH_BOUND, "{:?}", started.elapsed());
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains(&format!("3ID stream {ghost_id} not found")), "{refused:?}");

    for node in [a, b] {
        drop(node.client);
        node.stop.send(()).unwrap();
        tokio::time::timeout(TIMEOUT, node.task).await.unwrap().unwrap().unwrap();
    }
}
