//! A whole node in process on the dev chain: a signed Tile written over gRPC, `RequestAnchor`,
//! and the anchor commit arriving on a `Subscribe` stream as ANCHORED with the chain's time;
//! `/metrics` over HTTP; anchor requests for unknown streams refused.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use ceramic_codecs::{GenesisCommit, Header, Ipld, Payload, Unique};
use ceramic_core::{Node, NodeConfig};
use ceramic_did::{KeySigner, KeyType, Signer, sign_commit};
use ceramic_doctype_tile::Tile;
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{self, AnchorStreamRequest, CommitRequest, SubscribeRequest};
use serde_json::Value;
use support::http_get;

const TIMEOUT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_anchor_then_the_anchor_commit_arrives_on_subscribe() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::builder(NodeConfig::local(dir.path()))
        .with_doctype(Tile::new())
        .start()
        .await
        .unwrap();
    assert_eq!(node.chains().ids(), ["inmemory:12345"]);
    let (grpc_addr, http_addr) = (node.grpc_addr().unwrap(), node.http_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(node.run(async move {
        let _ = stopped.await;
    }));
    let mut client = NodeClient::connect(format!("http://{grpc_addr}")).await.unwrap();

    let signer = KeySigner::from_seed(KeyType::Ed25519, &[5; 32]).unwrap();
    let genesis = Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![signer.did().to_owned()]),
            unique: Some(Unique::Text("anchor-me".into())),
            ..Header::default()
        },
        data: Some(Ipld::Map(BTreeMap::from([("a".to_owned(), Ipld::Integer(1))]))),
    });
    let signed = sign_commit(&signer, &genesis).unwrap();
    let blocks = [signed.envelope_block(), signed.payload_block()]
        .map(|b| v1::Block { cid: b.cid().to_string(), data: b.data().to_vec() })
        .to_vec();
    let request =
        CommitRequest { stream_type: 0, commit: signed.envelope_block().cid().to_string(), blocks };
    let state = client.create_stream(request).await.unwrap().into_inner().state.unwrap();
    let stream_id = state.stream_id.clone();

    let mut states = client
        .subscribe(SubscribeRequest { stream_id: stream_id.clone() })
        .await
        .unwrap()
        .into_inner();
    let first = tokio::time::timeout(TIMEOUT, states.message()).await.unwrap().unwrap().unwrap();
    assert_eq!(first.state.unwrap().log_length, 1);

    let asked = client
        .request_anchor(AnchorStreamRequest { stream_id: stream_id.clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((asked.anchor_status.as_str(), asked.tip), ("PENDING", state.tip.clone()));

    // The dev chain's batch comes within about a second; Subscribe shows it.
    let anchored = tokio::time::timeout(TIMEOUT, states.message()).await.unwrap().unwrap().unwrap();
    let anchored = anchored.state.unwrap();
    assert_eq!(anchored.log_length, 2);
    let json: Value = serde_json::from_str(&anchored.state_json).unwrap();
    assert_eq!(json["anchorStatus"], "ANCHORED");
    assert_eq!(json["anchorProof"]["chainId"], "inmemory:12345");
    assert!(json["log"][1]["timestamp"].as_u64().is_some(), "{json}");

    // An unknown stream cannot be anchored; a bad id is a bad argument.
    let unknown = "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s";
    let refused = client.request_anchor(AnchorStreamRequest { stream_id: unknown.into() }).await;
    assert_eq!(refused.unwrap_err().code(), tonic::Code::NotFound);
    let bad = client.request_anchor(AnchorStreamRequest { stream_id: "nope".into() }).await;
    assert_eq!(bad.unwrap_err().code(), tonic::Code::InvalidArgument);

    let metrics = http_get(http_addr, "/metrics").await;
    assert!(metrics.contains("ceramic_commits_applied_total 1"), "{metrics}");
    assert!(metrics.contains("ceramic_anchor_latency_seconds_count 1"), "{metrics}");

    drop((states, client));
    stop.send(()).unwrap();
    tokio::time::timeout(TIMEOUT, served).await.unwrap().unwrap().unwrap();
}
