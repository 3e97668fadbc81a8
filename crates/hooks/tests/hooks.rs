//! Hooks with real WebAssembly modules (AssemblyScript, `tools/hooks/build/`, rebuilt by
//! `cargo xtask hooks`) through the node service over the in-memory store: vetoes, pins,
//! webhooks, filters, misbehaving hooks and invalid modules.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ceramic_did::Signer;
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_engine::test_utils::{ADDER, Adder, add, genesis, signer};
use ceramic_engine::{Engine, TipOutcome};
use ceramic_hooks::{Failure, HookConfig, LoadError, OnError, WasmHooks};
use ceramic_service::{CommitBlocks, ErrorKind, Hooks, Metrics, Service, WriteError};
use ceramic_storage::{MapSource, MemoryStorage, Storage};
use serde_json::json;

fn module(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../tools/hooks/build/{name}.wasm"))
}

fn hook(name: &str, module_name: &str) -> HookConfig {
    HookConfig::new(name, module(module_name))
}

fn veto_hook(name: &str, module_name: &str) -> HookConfig {
    let mut h = hook(name, module_name);
    h.veto = true;
    h
}

struct Node {
    service: Service,
    storage: Arc<MemoryStorage>,
    metrics: Metrics,
    hooks: Option<Arc<WasmHooks>>,
}

fn node(configs: &[HookConfig]) -> Node {
    let storage = Arc::new(MemoryStorage::new());
    let mut registry = ceramic_doctype::Registry::new();
    registry.register(Adder).unwrap();
    let engine = Engine::new(
        storage.clone(),
        registry,
        Arc::new(FakeAnchorVerifier::default()),
        Arc::new(RecordingPublisher::default()),
    );
    let metrics = Metrics::new();
    let mut builder = Service::builder(Arc::new(engine), storage.clone() as Arc<dyn Storage>)
        .with_metrics(metrics.clone());
    let hooks =
        (!configs.is_empty()).then(|| Arc::new(WasmHooks::load(configs, &metrics).unwrap()));
    if let Some(hooks) = &hooks {
        builder = builder.with_hooks(hooks.clone());
    }
    Node { service: builder.build(), storage, metrics, hooks }
}

fn blocks(made: &ceramic_engine::test_utils::Made) -> CommitBlocks {
    CommitBlocks::new(made.cid, made.blocks.clone()).unwrap()
}

/// Waits (up to 10 s) for `done`.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn metric_line(metrics: &Metrics, prefix: &str) -> Option<u64> {
    metrics
        .encode()
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_veto_refuses_the_write_and_nothing_is_stored() {
    let node = node(&[veto_hook("policy", "veto")]);
    let alice = signer(1);
    let (bad, bad_genesis) = genesis(&alice, "a", Some("fam"), &["forbidden"]);
    let e = node.service.create(ADDER, blocks(&bad_genesis)).await.unwrap_err();
    assert!(
        matches!(&e, WriteError::Vetoed { hook, reason, stream }
        if hook == "policy" && reason.contains("forbidden") && **stream == bad),
        "{e:?}"
    );
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("refused by hook \"policy\""), "{e}");
    assert!(node.storage.state(&bad).unwrap().is_none(), "a vetoed genesis is not stored");
    assert!(node.storage.block(&bad_genesis.cid).unwrap().is_none(), "nor its blocks");

    let (good, good_genesis) = genesis(&alice, "b", Some("fam"), &["fine"]);
    let state = node.service.create(ADDER, blocks(&good_genesis)).await.unwrap();
    assert_eq!(state.stream_id(), good);
    let update = add(&alice, &good, state.tip(), 5);
    node.service.apply(ADDER, blocks(&update), Some(good)).await.unwrap();
    assert_eq!(metric_line(&node.metrics, "ceramic_hook_vetoes_total{hook=\"policy\"}"), Some(1));
    assert_eq!(metric_line(&node.metrics, "ceramic_hook_runs_total{hook=\"policy\"}"), Some(3));
    let listed = node.service.hooks();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].runs, listed[0].vetoes, listed[0].failures), (3, 1, 0));
    assert_eq!(listed[0].events, vec!["before_write".to_owned()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commit_from_the_network_is_not_vetoed() {
    let node = node(&[veto_hook("policy", "veto")]);
    let alice = signer(2);
    let (stream, made) = genesis(&alice, "net", None, &["forbidden"]);
    let mut source = MapSource::default();
    source.extend(&made.blocks);
    // The node's network hands tips to the engine directly, never through the API's writes.
    let outcome = node.service.engine().handle_tip(&stream, made.cid, &source).unwrap();
    assert!(matches!(outcome, TipOutcome::Created(_)));
    assert!(node.storage.state(&stream).unwrap().is_some());
    assert_eq!(node.service.hooks()[0].runs, 0, "the hook was not asked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pin_request_pins_the_stream() {
    let mut pinner = hook("pinner", "pinner");
    pinner.events = vec!["commit_applied".into()];
    let node = node(&[pinner]);
    let (stream, made) = genesis(&signer(3), "pin", None, &[]);
    node.service.create(ADDER, blocks(&made)).await.unwrap();
    eventually("the hook's pin", || node.storage.is_pinned(&stream).unwrap());
}

/// A one-connection-at-a-time HTTP server on 127.0.0.1 answering 200 and sending every
/// request's (path, body) to the channel.
fn webhook_server() -> (u16, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head_end, length) = loop {
                let n = conn.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break (0, 0);
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    break (end + 4, length);
                }
            };
            while buf.len() < head_end + length {
                let n = conn.read(&mut chunk).unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let path = head.split(' ').nth(1).unwrap_or("").to_owned();
            let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = tx.send((path, body));
        }
    });
    (port, rx)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_reaches_an_allowed_url_and_not_another() {
    let (port, requests) = webhook_server();
    let mut allowed = hook("notify", "webhook");
    allowed.events = vec!["commit_applied".into()];
    allowed.allow_http = vec![format!("http://127.0.0.1:{port}/hooks/")];
    allowed.config = json!({ "url": format!("http://127.0.0.1:{port}/hooks/ceramic") });
    allowed.timeout_ms = 5_000;
    let mut refused = allowed.clone();
    refused.name = "elsewhere".into();
    refused.config = json!({ "url": format!("http://127.0.0.1:{port}/admin") });
    let node = node(&[allowed, refused]);
    let (stream, made) = genesis(&signer(4), "hook", None, &[]);
    node.service.create(ADDER, blocks(&made)).await.unwrap();

    let (path, body) = requests.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(path, "/hooks/ceramic");
    let event: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["event"], "commit_applied");
    assert_eq!(event["stream"], stream.to_string());
    assert_eq!(event["state"]["content"]["n"], 0);
    eventually("the refused call counted", || {
        metric_line(
            &node.metrics,
            "ceramic_hook_guest_total{hook=\"elsewhere\",reason=\"webhook_failed\"}",
        ) == Some(1)
    });
    // The server has the request before the guest has its answer and counts it.
    eventually("the allowed call counted", || {
        metric_line(
            &node.metrics,
            "ceramic_hook_guest_total{hook=\"notify\",reason=\"webhook_ok\"}",
        ) == Some(1)
    });
    assert!(requests.recv_timeout(Duration::from_millis(300)).is_err(), "/admin was not called");
}

/// A misbehaving hook on the write path: stopped, counted under `reason`; the write goes on
/// (on_error = allow) or is refused (on_error = veto).
async fn misbehaving(module_name: &str, reason: &str, tweak: impl Fn(&mut HookConfig)) {
    for on_error in [OnError::Allow, OnError::Veto] {
        let mut bad = veto_hook("bad", module_name);
        bad.on_error = on_error;
        tweak(&mut bad);
        let node = node(&[bad]);
        let (stream, made) = genesis(&signer(5), module_name, None, &[]);
        let started = Instant::now();
        let written = node.service.create(ADDER, blocks(&made)).await;
        assert!(started.elapsed() < Duration::from_secs(5), "{module_name} was stopped in time");
        match on_error {
            OnError::Allow => {
                written.unwrap();
                assert!(node.storage.state(&stream).unwrap().is_some());
            }
            _ => {
                let e = written.unwrap_err();
                assert!(
                    matches!(&e, WriteError::Vetoed { reason, .. } if reason.contains("failed")),
                    "{e}"
                );
                assert!(node.storage.state(&stream).unwrap().is_none());
            }
        }
        let line = format!("ceramic_hook_failures_total{{hook=\"bad\",reason=\"{reason}\"}}");
        assert_eq!(metric_line(&node.metrics, &line), Some(1), "{}", node.metrics.encode());
        // The node keeps serving: another write, and the hook fails again without harm.
        let (_, other) = genesis(&signer(6), module_name, None, &[]);
        let _ = node.service.create(ADDER, blocks(&other)).await;
        assert!(node.service.streams(ceramic_service::StreamFilter::All, None, 10).await.is_ok());
        assert_eq!(node.hooks.as_ref().unwrap().list()[0].failures, 2);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_looping_hook_runs_out_of_fuel() {
    misbehaving("looper", "out_of_fuel", |h| h.timeout_ms = 60_000).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_looping_hook_with_fuel_to_spare_is_stopped_by_the_clock() {
    misbehaving("looper", "timeout", |h| {
        h.fuel = ceramic_hooks::MAX_FUEL;
        h.timeout_ms = 50;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trapping_hook_is_counted() {
    misbehaving("trapper", "trap", |_| {}).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_memory_hog_hits_its_cap() {
    misbehaving("hog", "memory", |h| h.memory_bytes = 1 << 20).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_garbage_verdict_is_a_failure() {
    misbehaving("garbage", "bad_verdict", |_| {}).await;
}

#[test]
fn invalid_modules_fail_to_load_with_a_clear_error() {
    let metrics = Metrics::new();
    let dir = std::env::temp_dir().join(format!("hooks-invalid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("not.wasm");
    std::fs::write(&text, "this is not wasm").unwrap();
    let mut not_wasm = HookConfig::new("text", text.clone());
    not_wasm.veto = true;
    let e = WasmHooks::load(&[not_wasm], &metrics).unwrap_err();
    assert!(matches!(&e, LoadError::NotWasm { hook, .. } if hook == "text"), "{e}");
    assert!(e.to_string().contains("is not a valid WebAssembly module"), "{e}");

    let e = WasmHooks::load(&[veto_hook("nox", "noexport")], &metrics).unwrap_err();
    assert!(matches!(&e, LoadError::MissingExport { export: "on_event", .. }), "{e}");

    let e = WasmHooks::load(&[veto_hook("gone", "does-not-exist")], &metrics).unwrap_err();
    assert!(matches!(&e, LoadError::Read { .. }), "{e}");

    let mut no_events = hook("idle", "noop");
    no_events.events.clear();
    let e = WasmHooks::load(&[no_events], &metrics).unwrap_err();
    assert!(matches!(&e, LoadError::Invalid { key, .. } if key == "hooks[0].events"), "{e}");

    let e = WasmHooks::load(&[veto_hook("twice", "noop"), veto_hook("twice", "noop")], &metrics)
        .unwrap_err();
    assert!(matches!(&e, LoadError::DuplicateName { index: 1, .. }), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
    let _ = Failure::OutOfFuel { fuel: 1 }.reason();
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_select_the_streams() {
    let mut family = veto_hook("family", "veto");
    family.filter.family = Some("kept".into());
    let mut tag = veto_hook("tag", "veto");
    tag.filter.tag = Some("watched".into());
    let mut controller = veto_hook("controller", "veto");
    controller.filter.controller = Some(signer(7).did().to_string());
    let node = node(&[family, tag, controller]);
    let runs = |node: &Node| -> Vec<u64> { node.service.hooks().iter().map(|h| h.runs).collect() };

    // family "kept" and tag "forbidden": the family hook vetoes it.
    let (_, g) = genesis(&signer(8), "1", Some("kept"), &["forbidden"]);
    let e = node.service.create(ADDER, blocks(&g)).await.unwrap_err();
    assert!(matches!(e, WriteError::Vetoed { ref hook, .. } if hook == "family"), "{e}");
    // another family, tag "forbidden" but not "watched", another controller: nobody asked.
    let (_, g) = genesis(&signer(8), "2", Some("other"), &["forbidden"]);
    node.service.create(ADDER, blocks(&g)).await.unwrap();
    assert_eq!(runs(&node), vec![1, 0, 0]);
    // tag "watched": the tag hook runs (and allows).
    let (_, g) = genesis(&signer(8), "3", None, &["watched"]);
    node.service.create(ADDER, blocks(&g)).await.unwrap();
    assert_eq!(runs(&node), vec![1, 1, 0]);
    // controller signer(7): the controller hook runs.
    let (_, g) = genesis(&signer(7), "4", None, &[]);
    node.service.create(ADDER, blocks(&g)).await.unwrap();
    assert_eq!(runs(&node), vec![1, 1, 1]);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_hooks_nothing_is_listed() {
    let node = node(&[]);
    let (_, g) = genesis(&signer(9), "x", None, &["forbidden"]);
    node.service.create(ADDER, blocks(&g)).await.unwrap();
    assert!(node.service.hooks().is_empty());
    assert!(node.hooks.is_none());
}
