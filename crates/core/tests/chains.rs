//! Verify-only chains on a real EVM chain (anvil from `tools/anvil`, the anchor contract
//! deployed): node A anchors on it with a key; node B has it only as a `[[chains]]` entry (no
//! key) and accepts A's anchor when it loads the stream over the network; node C has no such
//! chain and refuses the anchor (the stream loads at its genesis).

use std::collections::BTreeMap;
use std::time::Duration;

use ceramic_anchor_eth::test_utils::{Anvil, DEV_KEY};
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

async fn start(dir: &std::path::Path, extra: &str, bootstrap: Vec<Multiaddr>) -> Running {
    let text = format!(
        "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\nsync = false\n\
         min_free_bytes = 67108864\nshutdown_grace_secs = 2\n{extra}\n",
        dir.display().to_string()
    );
    let config = NodeConfig::parse(&text).unwrap();
    let network = NetConfig::new("ops-chains")
        .with_listen(vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()])
        .with_bootstrap(bootstrap);
    let node = Node::builder(config)
        .with_doctype(Tile::new())
        .with_network_config(network)
        .start()
        .await
        .unwrap();
    let addrs = node.p2p_addrs();
    let url = format!("http://{}", node.grpc_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(node.run(async move {
        let _ = stopped.await;
    }));
    let client = NodeClient::connect(url).await.unwrap();
    Running { client, addrs, stop, task }
}

async fn load(client: &mut NodeClient<Channel>, id: &str) -> Option<Value> {
    let request = LoadStreamRequest { id: id.to_owned(), at_time: None };
    let state = client.load_stream(request).await.ok()?.into_inner().state?;
    Some(serde_json::from_str(&state.state_json).unwrap())
}

/// The state of `stream` on `client` once `done` holds for it.
async fn wait_for(
    client: &mut NodeClient<Channel>,
    stream: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        if let Some(json) = load(client, stream).await
            && done(&json)
        {
            return json;
        }
        assert!(tokio::time::Instant::now() < deadline, "{stream}: never reached");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verify_only_chain_accepts_anchors_made_by_another_node_without_a_key() {
    let anvil = tokio::task::spawn_blocking(Anvil::start).await.unwrap();
    let url = anvil.url().to_owned();
    let contract = tokio::task::spawn_blocking(move || {
        let anvil = anvil;
        let (_, contract) = anvil.chain_with_contract();
        (anvil, format!("0x{}", hex_of(&contract)))
    });
    let (anvil, contract) = contract.await.unwrap();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let key_file = dirs[0].path().join("eth.key");
    std::fs::write(&key_file, DEV_KEY).unwrap();

    let anchoring = format!(
        "[anchoring]\nchain = \"eth\"\nrpc_url = {url:?}\nchain_id = 1337\ncontract = {contract:?}\n\
         private_key_file = {:?}\nbatch_interval_secs = 1\nmin_streams = 1\n",
        key_file.display().to_string()
    );
    let mut a = start(dirs[0].path(), &anchoring, Vec::new()).await;
    let verify_only = format!(
        "[[chains]]\nchain_id = \"eip155:1337\"\nrpc_url = {url:?}\ncontract = {contract:?}\n"
    );
    let mut b = start(dirs[1].path(), &verify_only, a.addrs.clone()).await;
    let mut c = start(dirs[2].path(), "", a.addrs.clone()).await;

    let signer = KeySigner::from_seed(KeyType::Ed25519, &[23; 32]).unwrap();
    let payload = Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![signer.did().to_owned()]),
            unique: Some(Unique::Text("verify-only".into())),
            ..Header::default()
        },
        data: Some(Ipld::Map(BTreeMap::from([("n".to_owned(), Ipld::Integer(1))]))),
    });
    let signed = sign_commit(&signer, &payload).unwrap();
    let blocks = [signed.envelope_block(), signed.payload_block()]
        .map(|b| v1::Block { cid: b.cid().to_string(), data: b.data().to_vec() })
        .to_vec();
    let commit = signed.envelope_block().cid().to_string();
    let request = CommitRequest { stream_type: 0, commit, blocks };
    let stream =
        a.client.create_stream(request).await.unwrap().into_inner().state.unwrap().stream_id;
    a.client.request_anchor(v1::AnchorStreamRequest { stream_id: stream.clone() }).await.unwrap();
    let anchored = |json: &Value| json["anchorStatus"] == "ANCHORED";
    let on_a = wait_for(&mut a.client, &stream, anchored).await;
    assert_eq!(on_a["anchorProof"]["chainId"], "eip155:1337");
    let time = on_a["log"][1]["timestamp"].as_u64().unwrap();

    // B checks the proof on anvil with no key: anchored, with the block's time.
    let on_b = wait_for(&mut b.client, &stream, anchored).await;
    assert_eq!(on_b["log"][1]["timestamp"].as_u64(), Some(time));
    // C knows no eip155:1337: it takes the genesis and refuses the anchor commit.
    let on_c = wait_for(&mut c.client, &stream, |_| true).await;
    assert_eq!(on_c["log"].as_array().unwrap().len(), 1, "{on_c}");
    assert_ne!(on_c["anchorStatus"], "ANCHORED");

    for node in [a, b, c] {
        drop(node.client);
        node.stop.send(()).unwrap();
        tokio::time::timeout(TIMEOUT, node.task).await.unwrap().unwrap().unwrap();
    }
    drop(anvil);
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
