//! Two whole nodes in process, networked over libp2p on 127.0.0.1: a stream created on A loads
//! on B (which never saw it) through the network; a subscriber on B gets each update written on
//! A; a stream nobody has stays NOT_FOUND.

use std::collections::BTreeMap;
use std::time::Duration;

use ceramic_codecs::{DataCommit, GenesisCommit, Header, Ipld, Payload, Unique};
use ceramic_core::{Node, NodeConfig};
use ceramic_did::{KeySigner, KeyType, Signer, sign_commit};
use ceramic_doctype_tile::Tile;
use ceramic_net::{Config as NetConfig, Multiaddr};
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{self, CommitRequest, LoadStreamRequest, SubscribeRequest};
use serde_json::Value;
use tonic::transport::Channel;

const TIMEOUT: Duration = Duration::from_secs(60);

struct Running {
    client: NodeClient<Channel>,
    addrs: Vec<Multiaddr>,
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
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(node.run(async move {
        let _ = stopped.await;
    }));
    let client = NodeClient::connect(url).await.unwrap();
    Running { client, addrs, stop, task, _dir: dir }
}

fn request(signer: &KeySigner, payload: &Payload) -> (String, CommitRequest) {
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
