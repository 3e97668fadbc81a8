//! A third-party doctype enabled through the public builder: `ceramic-doctype-counter` (stream
//! type 1000, written against the doctype SDK alone) offered to [`Node::builder`] as a value and
//! named in the configuration's `doctypes`, then driven over gRPC and over HTTP on the same
//! node: create, add, load, and a commit breaking the counter's rules refused by both.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use ceramic_codecs::{DataCommit, GenesisCommit, Header, Ipld, Payload, Unique};
use ceramic_core::{ConfigError, Error, Node, NodeConfig};
use ceramic_did::{KeySigner, KeyType, SignedCommit, Signer, sign_commit};
use ceramic_doctype_counter::{Counter, STREAM_TYPE as COUNTER};
use ceramic_doctype_tile::Tile;
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{self, CommitRequest, LoadStreamRequest};
use serde_json::{Value, json};
use support::http;
use tonic::Code;

const TIMEOUT: Duration = Duration::from_secs(60);

fn genesis(signer: &KeySigner, unique: &str) -> SignedCommit {
    let payload = Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![signer.did().to_owned()]),
            unique: Some(Unique::Text(unique.into())),
            ..Header::default()
        },
        data: Some(Ipld::Map(BTreeMap::from([("count".to_owned(), Ipld::Integer(1))]))),
    });
    sign_commit(signer, &payload).unwrap()
}

fn add(signer: &KeySigner, genesis: &SignedCommit, prev: &SignedCommit, n: i128) -> SignedCommit {
    let payload = Payload::Data(DataCommit {
        id: *genesis.envelope_block().cid(),
        prev: *prev.envelope_block().cid(),
        header: Some(Header::default()),
        data: Some(Ipld::Map(BTreeMap::from([("add".to_owned(), Ipld::Integer(n))]))),
    });
    sign_commit(signer, &payload).unwrap()
}

fn request(commit: &SignedCommit) -> CommitRequest {
    let blocks = [commit.envelope_block(), commit.payload_block()]
        .map(|b| v1::Block { cid: b.cid().to_string(), data: b.data().to_vec() })
        .to_vec();
    CommitRequest {
        stream_type: COUNTER.code(),
        commit: commit.envelope_block().cid().to_string(),
        blocks,
    }
}

/// The pending count of a js-serialized state.
fn count(state: &Value) -> Value {
    let next = &state["next"]["content"]["count"];
    if next.is_null() { state["content"]["count"].clone() } else { next.clone() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_enabled_through_the_builder_works_over_grpc_and_http() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::local(dir.path());
    config.doctypes = Some(vec!["tile".into(), "counter".into()]);
    let node = Node::builder(config)
        .with_doctype(Tile::new())
        .with_doctype(Counter)
        .start()
        .await
        .unwrap();
    let (grpc_addr, http_addr) = (node.grpc_addr().unwrap(), node.http_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(node.run(async move {
        let _ = stopped.await;
    }));
    let mut client = NodeClient::connect(format!("http://{grpc_addr}")).await.unwrap();
    let info = client.node_info(v1::NodeInfoRequest {}).await.unwrap().into_inner();
    let names: Vec<_> = info.doctypes.iter().map(|d| (d.stream_type, d.name.as_str())).collect();
    assert_eq!(names, [(0, "tile"), (1000, "counter")]);
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[21; 32]).unwrap();

    // gRPC: create at 1, add 5, load: 6.
    let g = genesis(&signer, "over-grpc");
    let created = client.create_stream(request(&g)).await.unwrap().into_inner().state.unwrap();
    assert_eq!(created.stream_type, 1000);
    let plus5 = add(&signer, &g, &g, 5);
    client.apply_commit(request(&plus5)).await.unwrap();
    let load = LoadStreamRequest { id: created.stream_id.clone(), at_time: None };
    let loaded = client.load_stream(load).await.unwrap().into_inner().state.unwrap();
    let json: Value = serde_json::from_str(&loaded.state_json).unwrap();
    assert_eq!(count(&json), json!(6));
    assert_eq!(loaded.log_length, 2);
    // The counter's own rule (1 ≤ add ≤ 1,000,000) is enforced through gRPC.
    let zero = add(&signer, &g, &plus5, 0);
    let refused = client.apply_commit(request(&zero)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("counter"), "{}", refused.message());

    // HTTP, in the js client's request form: create at 1, add 2, load: 3.
    let g = genesis(&signer, "over-http");
    let body = json!({"type": 1000, "genesis": g.to_dag_jws_result(), "opts": {"anchor": false}});
    let (status, created) = http(http_addr, "POST", "/api/v0/streams", Some(&body)).await;
    assert_eq!(status, 200, "{created}");
    let stream = created["streamId"].as_str().unwrap().to_owned();
    assert_eq!(count(&created["state"]), json!(1));
    let plus2 = add(&signer, &g, &g, 2);
    let body =
        json!({"streamId": stream, "commit": plus2.to_dag_jws_result(), "opts": {"anchor": false}});
    let (status, applied) = http(http_addr, "POST", "/api/v0/commits", Some(&body)).await;
    assert_eq!(status, 200, "{applied}");
    let (status, loaded) = http(http_addr, "GET", &format!("/api/v0/streams/{stream}"), None).await;
    assert_eq!(status, 200, "{loaded}");
    assert_eq!(count(&loaded["state"]), json!(3));
    assert_eq!(loaded["state"]["type"], json!(1000));
    let too_much = add(&signer, &g, &plus2, 2_000_000);
    let body = json!({"streamId": stream, "commit": too_much.to_dag_jws_result()});
    let (status, refused) = http(http_addr, "POST", "/api/v0/commits", Some(&body)).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"].as_str().unwrap().contains("counter"), "{refused}");

    drop(client);
    stop.send(()).unwrap();
    tokio::time::timeout(TIMEOUT, served).await.unwrap().unwrap().unwrap();
}

#[tokio::test]
async fn a_configured_doctype_the_node_was_not_given_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = NodeConfig::local(dir.path());
    config.doctypes = Some(vec!["tile".into(), "counter".into()]);
    let err = Node::builder(config).with_doctype(Tile::new()).start().await.unwrap_err();
    match &err {
        Error::Config(ConfigError::Invalid { key, reason }) => {
            assert_eq!(*key, "doctypes");
            assert!(reason.contains("\"counter\""), "{reason}");
        }
        other => panic!("expected a config error, got {other}"),
    }
    // Nothing was opened: the data directory holds no store.
    assert!(!dir.path().join("store").exists());
}
