//! Remote anchoring with real components: anvil (from `tools/anvil`, the anchor contract
//! deployed), the `ceramic-anchor-service` binary anchoring on it with a key, node A anchoring
//! through that CAS (`[anchoring] chain = "remote"`, anvil only as a verify-only `[[chains]]`
//! entry, no key), and node B with the same verify-only chain and no anchoring of its own.
//!
//! - A's request waits at the CAS (its policy wants two streams); A restarts meanwhile, and the
//!   request it kept is polled after the restart: both of A's streams end ANCHORED on
//!   `eip155:1337`, and B accepts the anchor it loads over the network, checking the proof on
//!   anvil without a key.
//! - A node whose verifiers do not include the CAS's chain refuses to start, naming
//!   `anchoring.cas_url`.
//! - Once the CAS is down, an anchor request fails with `UNAVAILABLE`; the write it follows is
//!   kept.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use ceramic_anchor_eth::test_utils::{Anvil, DEV_KEY_1};
use ceramic_codecs::{GenesisCommit, Header, Ipld, Payload, Unique};
use ceramic_core::{Node, NodeConfig};
use ceramic_did::{KeySigner, KeyType, Signer, sign_commit};
use ceramic_doctype_tile::Tile;
use ceramic_net::{Config as NetConfig, Multiaddr};
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{self, CommitRequest, LoadStreamRequest};
use ceramic_testkit::Signal;
use serde_json::Value;
use support::{Running as Cas, TIMEOUT, write_config};
use tonic::transport::Channel;

struct Started {
    client: NodeClient<Channel>,
    addrs: Vec<Multiaddr>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), ceramic_core::Error>>,
}

impl Started {
    async fn stop(self) {
        drop(self.client);
        self.stop.send(()).unwrap();
        tokio::time::timeout(TIMEOUT, self.task).await.unwrap().unwrap().unwrap();
    }
}

fn config(dir: &Path, extra: &str) -> NodeConfig {
    let text = format!(
        "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\nsync = false\n\
         min_free_bytes = 67108864\nshutdown_grace_secs = 2\n{extra}\n",
        dir.display().to_string()
    );
    NodeConfig::parse(&text).unwrap()
}

async fn start(dir: &Path, extra: &str, bootstrap: Vec<Multiaddr>) -> Started {
    let network = NetConfig::new("remote-cas")
        .with_listen(vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()])
        .with_bootstrap(bootstrap);
    let node = Node::builder(config(dir, extra))
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
    Started { client, addrs, stop, task }
}

/// Creates a Tile stream on `client`; its StreamID.
async fn create(client: &mut NodeClient<Channel>, signer: &KeySigner, unique: &str) -> String {
    let payload = Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![signer.did().to_owned()]),
            unique: Some(Unique::Text(unique.into())),
            ..Header::default()
        },
        data: Some(Ipld::Map(BTreeMap::from([("n".to_owned(), Ipld::Integer(1))]))),
    });
    let signed = sign_commit(signer, &payload).unwrap();
    let blocks = [signed.envelope_block(), signed.payload_block()]
        .map(|b| v1::Block { cid: b.cid().to_string(), data: b.data().to_vec() })
        .to_vec();
    let commit = signed.envelope_block().cid().to_string();
    let request = CommitRequest { stream_type: 0, commit, blocks };
    client.create_stream(request).await.unwrap().into_inner().state.unwrap().stream_id
}

async fn anchor(client: &mut NodeClient<Channel>, stream: &str) -> Result<(), tonic::Status> {
    let request = v1::AnchorStreamRequest { stream_id: stream.to_owned() };
    client.request_anchor(request).await.map(drop)
}

async fn load(client: &mut NodeClient<Channel>, id: &str) -> Option<Value> {
    let request = LoadStreamRequest { id: id.to_owned(), at_time: None };
    let state = client.load_stream(request).await.ok()?.into_inner().state?;
    Some(serde_json::from_str(&state.state_json).unwrap())
}

/// The state of `stream` once it is ANCHORED.
async fn anchored(client: &mut NodeClient<Channel>, stream: &str) -> Value {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        if let Some(json) = load(client, stream).await
            && json["anchorStatus"] == "ANCHORED"
        {
            return json;
        }
        assert!(tokio::time::Instant::now() < deadline, "{stream}: never anchored");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The requests node A keeps for the remote CAS, read from its (stopped) data directory.
fn kept(dir: &Path) -> usize {
    let store = ceramic_anchor_service::RocksStore::open(dir.join("anchor-remote")).unwrap();
    let store = std::sync::Arc::new(store);
    let client = ceramic_anchor_service::CasClient::new("http://127.0.0.1:9").unwrap();
    ceramic_core::RemoteRequester::new(client, store).pending().unwrap().len()
}

#[test]
fn a_node_anchors_through_the_cas_binary_and_another_verifies_without_a_key() -> Result<()> {
    let anvil = Anvil::start();
    let (_, contract) = anvil.chain_with_contract();
    let contract = format!("0x{}", hex::encode(contract));
    let url = anvil.url().to_owned();

    // The CAS on anvil, batching once two streams wait (so a request waits for the second).
    let cas_dir = tempfile::tempdir()?;
    let key = cas_dir.path().join("eth.key");
    std::fs::write(&key, DEV_KEY_1)?;
    let extra = format!(
        "chain = \"eth\"\n[eth]\nrpc_url = {url:?}\nchain_id = 1337\ncontract = {contract:?}\n\
         private_key_file = {key:?}\n[policy]\ninterval_ms = 300\nmin_streams = 2\n"
    );
    let mut cas = Cas::start(&write_config(cas_dir.path(), &extra)?)?;
    let (cas_http, _) = cas.addresses()?;

    let verify_only = format!(
        "[[chains]]\nchain_id = \"eip155:1337\"\nrpc_url = {url:?}\ncontract = {contract:?}\n"
    );
    let remote = format!(
        "[anchoring]\nchain = \"remote\"\ncas_url = \"http://{cas_http}\"\npoll_interval_secs = 1\n{verify_only}"
    );
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    runtime.block_on(async {
        let signer = KeySigner::from_seed(KeyType::Ed25519, &[41; 32]).unwrap();
        let mut a = start(dirs[0].path(), &remote, Vec::new()).await;
        let first = create(&mut a.client, &signer, "first").await;
        anchor(&mut a.client, &first).await.unwrap();
        a.stop().await;
        assert_eq!(kept(dirs[0].path()), 1, "the request waits at the CAS, kept by A");

        // After the restart, a second stream makes the CAS's batch: both anchor.
        let mut a = start(dirs[0].path(), &remote, Vec::new()).await;
        let second = create(&mut a.client, &signer, "second").await;
        anchor(&mut a.client, &second).await.unwrap();
        let on_a = anchored(&mut a.client, &first).await;
        assert_eq!(on_a["anchorProof"]["chainId"], "eip155:1337", "{on_a}");
        let time = on_a["log"][1]["timestamp"].as_u64().unwrap();
        let second_on_a = anchored(&mut a.client, &second).await;
        assert_eq!(second_on_a["anchorProof"], on_a["anchorProof"], "one batch, one proof");

        // B checks the proof on anvil with no key.
        let mut b = start(dirs[1].path(), &verify_only, a.addrs.clone()).await;
        let on_b = anchored(&mut b.client, &first).await;
        assert_eq!(on_b["log"][1]["timestamp"].as_u64(), Some(time));
        b.stop().await;

        // A node that cannot check the CAS's chain does not start.
        let blind = format!(
            "[p2p]\nenabled = false\n[anchoring]\nchain = \"remote\"\ncas_url = \"http://{cas_http}\"\n"
        );
        let refused = Node::builder(config(dirs[2].path(), &blind))
            .with_doctype(Tile::new())
            .start()
            .await
            .unwrap_err();
        assert!(refused.to_string().contains("anchoring.cas_url"), "{refused}");
        assert!(refused.to_string().contains("eip155:1337"), "{refused}");

        // The CAS goes down: a new stream is written, its anchor request is UNAVAILABLE.
        cas.signal(Signal::Term).unwrap();
        assert!(cas.wait().unwrap().success());
        let third = create(&mut a.client, &signer, "third").await;
        let status = anchor(&mut a.client, &third).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
        assert!(load(&mut a.client, &third).await.is_some(), "the write is kept");
        a.stop().await;
    });
    assert_eq!(kept(dirs[0].path()), 0, "every kept request was finished");
    drop(anvil);
    Ok(())
}
