//! Operator features of a whole node in process: garbage collection (`RunGc`, the `[gc]`
//! table, the `pins` list, writes that pin) and the persistent dev chain (dev anchors verify
//! after a restart, and on a second node that opens the same dev chain file).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use ceramic_codecs::{GenesisCommit, Header, Ipld, Payload, Unique};
use ceramic_core::{Node, NodeConfig};
use ceramic_did::{KeySigner, KeyType, Signer, sign_commit};
use ceramic_doctype_tile::Tile;
use ceramic_net::{Config as NetConfig, Multiaddr};
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{self, CommitRequest, LoadStreamRequest};
use serde_json::Value;
use tonic::transport::Channel;

const TIMEOUT: Duration = Duration::from_secs(60);

struct Running {
    client: NodeClient<Channel>,
    addrs: Vec<Multiaddr>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), ceramic_core::Error>>,
}

impl Running {
    async fn stop(self) {
        drop(self.client);
        self.stop.send(()).unwrap();
        tokio::time::timeout(TIMEOUT, self.task).await.unwrap().unwrap().unwrap();
    }
}

async fn start(config: NodeConfig, network: Option<NetConfig>) -> Running {
    let mut builder = Node::builder(config).with_doctype(Tile::new());
    if let Some(network) = network {
        builder = builder.with_network_config(network);
    }
    let node = builder.start().await.unwrap();
    let addrs = node.p2p_addrs();
    let url = format!("http://{}", node.grpc_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(node.run(async move {
        let _ = stopped.await;
    }));
    let client = NodeClient::connect(url).await.unwrap();
    Running { client, addrs, stop, task }
}

fn genesis(signer: &KeySigner, unique: &str) -> CommitRequest {
    let payload = Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![signer.did().to_owned()]),
            unique: Some(Unique::Text(unique.into())),
            ..Header::default()
        },
        data: Some(Ipld::Map(BTreeMap::from([("n".to_owned(), Ipld::Integer(0))]))),
    });
    let signed = sign_commit(signer, &payload).unwrap();
    let blocks = [signed.envelope_block(), signed.payload_block()]
        .map(|b| v1::Block { cid: b.cid().to_string(), data: b.data().to_vec() })
        .to_vec();
    CommitRequest { stream_type: 0, commit: signed.envelope_block().cid().to_string(), blocks }
}

fn config(dir: &Path, extra: &str) -> NodeConfig {
    let local = NodeConfig::local(dir);
    let text = format!(
        "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\nsync = false\n\
         min_free_bytes = 67108864\nshutdown_grace_secs = 2\n{extra}\n[p2p]\nenabled = false\n",
        local.data_dir
    );
    NodeConfig::parse(&text).unwrap()
}

async fn stats(client: &mut NodeClient<Channel>) -> v1::StoreStatsResponse {
    client.store_stats(v1::StoreStatsRequest {}).await.unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gc_keeps_pinned_streams_and_the_config_pins_and_counts_in_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[21; 32]).unwrap();
    // pin_on_write off: gRPC writes leave their streams unpinned.
    let mut node =
        start(config(dir.path(), "[gc]\ninterval_secs = 0\npin_on_write = false"), None).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let created = node.client.create_stream(genesis(&signer, &format!("gc{i}"))).await.unwrap();
        ids.push(created.into_inner().state.unwrap().stream_id);
    }
    node.client.pin(v1::PinRequest { stream_id: ids[0].clone() }).await.unwrap();
    let before = stats(&mut node.client).await;
    assert_eq!((before.streams, before.pins, before.pin_on_write), (3, 1, false));
    let report = node.client.run_gc(v1::RunGcRequest {}).await.unwrap().into_inner();
    assert_eq!((report.pinned_streams, report.streams_removed), (1, 2));
    assert_eq!(report.blocks_removed, 4, "two signed geneses: envelope and payload each");
    assert!(report.bytes_freed > 0);
    let after = stats(&mut node.client).await;
    assert_eq!((after.streams, after.blocks), (1, before.blocks - 4));
    let gone = node.client.load_stream(LoadStreamRequest { id: ids[1].clone(), at_time: None });
    assert_eq!(gone.await.unwrap_err().code(), tonic::Code::NotFound);
    node.stop().await;

    // Restarted with the stream in `pins` and pin_on_write on: the config pin holds after the
    // operator unpinned it before, and new writes are pinned.
    let unpinned = {
        let mut node = start(config(dir.path(), "[gc]\ninterval_secs = 0"), None).await;
        node.client.unpin(v1::UnpinRequest { stream_id: ids[0].clone() }).await.unwrap();
        node.stop().await;
        ids[0].clone()
    };
    let extra = format!("pins = [\"{unpinned}\"]\n[gc]\ninterval_secs = 1");
    let mut node = start(config(dir.path(), &extra), None).await;
    let written = node.client.create_stream(genesis(&signer, "pinned-on-write")).await.unwrap();
    let written = written.into_inner().state.unwrap().stream_id;
    let pins = node.client.list_pins(v1::ListPinsRequest::default()).await.unwrap().into_inner();
    let mut expected = vec![unpinned.clone(), written.clone()];
    expected.sort_by_key(|id| id.parse::<ceramic_streamid::StreamId>().unwrap().to_bytes());
    assert_eq!(pins.stream_ids, expected);
    // Unpinned, the written stream goes at the next scheduled GC (every second); the config
    // pin stays.
    node.client.unpin(v1::UnpinRequest { stream_id: written.clone() }).await.unwrap();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while stats(&mut node.client).await.streams != 1 {
        assert!(tokio::time::Instant::now() < deadline, "the scheduled GC never ran");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = stats(&mut node.client).await;
    assert_eq!((after.streams, after.pins), (1, 1));
    node.stop().await;
}

/// The anchor commit's state of `stream` once it is ANCHORED on `client`.
async fn anchored(client: &mut NodeClient<Channel>, stream: &str) -> Value {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let request = LoadStreamRequest { id: stream.to_owned(), at_time: None };
        if let Ok(response) = client.load_stream(request).await {
            let state = response.into_inner().state.unwrap();
            let json: Value = serde_json::from_str(&state.state_json).unwrap();
            if json["anchorStatus"] == "ANCHORED" {
                return json;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "{stream} never anchored");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_anchors_verify_after_a_restart_and_on_a_node_sharing_the_dev_chain_file() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[22; 32]).unwrap();
    let mut a = start(config(dir_a.path(), ""), None).await;
    let created = a.client.create_stream(genesis(&signer, "dev-anchor")).await.unwrap();
    let stream = created.into_inner().state.unwrap().stream_id;
    a.client.request_anchor(v1::AnchorStreamRequest { stream_id: stream.clone() }).await.unwrap();
    let json = anchored(&mut a.client, &stream).await;
    let anchor = json["log"][1]["cid"].as_str().unwrap().to_owned();
    let timestamp = json["log"][1]["timestamp"].as_u64().unwrap();
    a.stop().await;

    // Restarted: the state at the anchor commit is rebuilt, its proof checked on the dev
    // chain read back from the data dir (an in-memory chain would not know the transaction).
    let network =
        NetConfig::new("ops-dev-chain").with_listen(vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()]);
    let mut a = start(config(dir_a.path(), ""), Some(network)).await;
    let at_anchor = format!(
        "{}",
        stream
            .parse::<ceramic_streamid::StreamId>()
            .unwrap()
            .at_commit(anchor.parse().unwrap())
            .unwrap()
    );
    let state = a
        .client
        .load_stream(LoadStreamRequest { id: at_anchor.clone(), at_time: None })
        .await
        .unwrap()
        .into_inner()
        .state
        .unwrap();
    let json: Value = serde_json::from_str(&state.state_json).unwrap();
    assert_eq!(json["anchorStatus"], "ANCHORED", "{json}");
    assert_eq!(json["log"][1]["timestamp"].as_u64(), Some(timestamp));

    // B names A's dev chain file and loads the stream over the network: it accepts the anchor.
    let file = dir_a.path().join("dev-chain");
    let extra = format!("[anchoring]\ndev_chain_file = {:?}", file.display().to_string());
    let network = NetConfig::new("ops-dev-chain").with_bootstrap(a.addrs.clone());
    let mut b = start(config(dir_b.path(), &extra), Some(network)).await;
    let json = anchored(&mut b.client, &stream).await;
    assert_eq!(json["log"][1]["timestamp"].as_u64(), Some(timestamp));
    b.stop().await;
    a.stop().await;
}
