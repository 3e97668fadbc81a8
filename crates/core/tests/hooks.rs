//! Hooks in a running node, configured in TOML: the AssemblyScript veto hook refuses a write
//! over the HTTP API with a clear error and nothing is stored, the pinning hook pins what is
//! written, and an invalid module fails the node's start as a config error. On the node's own
//! runtime (`runtime_builder`: big, marked thread stacks) the calls run on the writing thread,
//! and a looping veto hook there is stopped without harm to the node.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ceramic_codecs::{GenesisCommit, Header, Ipld, Payload, Unique};
use ceramic_core::{ConfigError, Error, Node, NodeConfig};
use ceramic_did::{KeySigner, KeyType, SignedCommit, Signer, sign_commit};
use ceramic_doctype_tile::Tile;
use ceramic_streamid::StreamId;
use serde_json::json;
use support::http;

const TIMEOUT: Duration = Duration::from_secs(60);

fn module(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../tools/hooks/build/{name}.wasm"))
        .display()
        .to_string()
}

fn tile(signer: &KeySigner, unique: &str, key: &str) -> SignedCommit {
    let payload = Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![signer.did().to_owned()]),
            unique: Some(Unique::Text(unique.into())),
            ..Header::default()
        },
        data: Some(Ipld::Map(BTreeMap::from([(key.to_owned(), Ipld::Bool(true))]))),
    });
    sign_commit(signer, &payload).unwrap()
}

fn config(dir: &std::path::Path, hooks: &str) -> NodeConfig {
    let mut config = NodeConfig::local(dir);
    config.hooks = NodeConfig::parse(hooks).unwrap().hooks;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_veto_hook_refuses_a_write_over_http_and_a_pin_hook_pins() {
    let dir = tempfile::tempdir().unwrap();
    let hooks = format!(
        r#"
        [[hooks]]
        name = "policy"
        module = "{veto}"
        veto = true

        [[hooks]]
        name = "pinner"
        module = "{pinner}"
        events = ["commit_applied"]
        "#,
        veto = module("veto"),
        pinner = module("pinner"),
    );
    let node =
        Node::builder(config(dir.path(), &hooks)).with_doctype(Tile::new()).start().await.unwrap();
    let http_addr = node.http_addr().unwrap();
    let service = node.service().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(node.run(async move {
        let _ = stopped.await;
    }));
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[31; 32]).unwrap();

    let bad = tile(&signer, "bad", "forbidden");
    let bad_id =
        StreamId::new(ceramic_streamid::StreamType::new(0), *bad.envelope_block().cid()).unwrap();
    let body = json!({"type": 0, "genesis": bad.to_dag_jws_result(), "opts": {"anchor": false}});
    let (status, refused) = http(http_addr, "POST", "/api/v0/streams", Some(&body)).await;
    assert_eq!(status, 400, "{refused}");
    let message = refused["error"].as_str().unwrap();
    assert!(message.contains("refused by hook \"policy\""), "{message}");
    assert!(message.contains("forbidden"), "{message}");
    assert!(service.current(bad_id).await.unwrap().is_none(), "nothing stored");

    let good = tile(&signer, "good", "fine");
    let body = json!({"type": 0, "genesis": good.to_dag_jws_result(), "opts": {"anchor": false}});
    let (status, created) = http(http_addr, "POST", "/api/v0/streams", Some(&body)).await;
    assert_eq!(status, 200, "{created}");
    let stream: StreamId = created["streamId"].as_str().unwrap().parse().unwrap();
    let start = Instant::now();
    while !service.is_pinned(stream).await.unwrap() {
        assert!(start.elapsed() < Duration::from_secs(10), "the pinning hook pinned it");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let listed = service.hooks();
    let names: Vec<_> = listed.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names, ["policy", "pinner"]);
    assert_eq!(listed[0].vetoes, 1);
    let (status, metrics) = http(http_addr, "GET", "/metrics", None).await;
    assert_eq!(status, 200);
    assert!(metrics.as_str().unwrap().contains("ceramic_hook_vetoes_total{hook=\"policy\"} 1"));

    stop.send(()).unwrap();
    tokio::time::timeout(TIMEOUT, served).await.unwrap().unwrap().unwrap();
}

#[test]
fn on_the_node_runtime_calls_run_inline_and_a_looping_hook_is_stopped() {
    let runtime = ceramic_core::runtime_builder().worker_threads(2).build().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let hooks = format!(
            r#"
            [[hooks]]
            name = "looper"
            module = "{looper}"
            veto = true
            timeout_ms = 200

            [[hooks]]
            name = "policy"
            module = "{veto}"
            veto = true
            "#,
            looper = module("looper"),
            veto = module("veto"),
        );
        let node = Node::builder(config(dir.path(), &hooks))
            .with_doctype(Tile::new())
            .start()
            .await
            .unwrap();
        let http_addr = node.http_addr().unwrap();
        let service = node.service().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(node.run(async move {
            let _ = stopped.await;
        }));
        let signer = KeySigner::from_seed(KeyType::Ed25519, &[32; 32]).unwrap();
        for (unique, key, expected) in [("bad", "forbidden", 400), ("good", "fine", 200)] {
            let commit = tile(&signer, unique, key);
            let body =
                json!({"type": 0, "genesis": commit.to_dag_jws_result(), "opts": {"anchor": false}});
            let (status, answer) = http(http_addr, "POST", "/api/v0/streams", Some(&body)).await;
            assert_eq!(status, expected, "{answer}");
        }
        let listed = service.hooks();
        assert_eq!((listed[0].runs, listed[0].failures), (2, 2), "the looper stopped twice");
        assert_eq!((listed[1].runs, listed[1].vetoes), (2, 1));
        stop.send(()).unwrap();
        tokio::time::timeout(TIMEOUT, served).await.unwrap().unwrap().unwrap();
    });
}

#[tokio::test]
async fn an_invalid_hook_module_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let not_wasm = dir.path().join("hook.wasm");
    std::fs::write(&not_wasm, "not wasm").unwrap();
    let hooks =
        format!("[[hooks]]\nname = \"broken\"\nmodule = \"{}\"\nveto = true\n", not_wasm.display());
    let data = dir.path().join("data");
    let err =
        Node::builder(config(&data, &hooks)).with_doctype(Tile::new()).start().await.unwrap_err();
    match &err {
        Error::Config(ConfigError::Hook(ceramic_hooks::LoadError::NotWasm { hook, .. })) => {
            assert_eq!(hook, "broken");
        }
        other => panic!("expected a hook config error, got {other}"),
    }
    assert!(err.to_string().contains("not a valid WebAssembly module"), "{err}");
    assert!(!data.join("store").exists(), "nothing was opened");

    let bad_key =
        NodeConfig::parse("[[hooks]]\nname = \"x\"\nmodule = \"x.wasm\"\nfuel_limit = 3\n");
    assert!(matches!(bad_key, Err(ConfigError::Parse(_))), "unknown keys are refused");
}
