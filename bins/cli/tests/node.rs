//! The `ceramic` node commands against a node served in process (RocksDB in a temporary
//! directory, the Tile doctype): create, show, update, commits, pin, unpin, and the errors a
//! user sees for a wrong key, a bad id and an unreachable node.

use std::time::Duration;

use ceramic_core::{Node, NodeConfig};
use ceramic_doctype_tile::Tile;
use ceramic_testkit::{Finished, Program};
use serde_json::{Value, json};

const SEED: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const OTHER_SEED: &str = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100";

/// Serves a node on 127.0.0.1:0 on a runtime of its own; returns its URL, the runtime
/// (dropping it stops the node) and its metrics.
fn serve(dir: &std::path::Path) -> (String, tokio::runtime::Runtime, ceramic_service::Metrics) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut config = NodeConfig::local(dir);
    config.network = "test".into();
    let node = runtime.block_on(Node::builder(config).with_doctype(Tile::new()).start()).unwrap();
    let url = format!("http://{}", node.grpc_addr().unwrap());
    let metrics = node.metrics().clone();
    runtime.spawn(node.run(std::future::pending()));
    (url, runtime, metrics)
}

/// Runs `ceramic <args>` against `url`; killed if it has not finished within a minute.
fn ceramic(url: &str, args: &[&str]) -> Finished {
    Program::new(env!("CARGO_BIN_EXE_ceramic"))
        .args(args)
        .env("CERAMIC_NODE", url)
        .echo(false)
        .run(Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn ok(url: &str, args: &[&str]) -> Value {
    let out = ceramic(url, args);
    assert!(out.status.success(), "{args:?}: {}", out.stderr);
    serde_json::from_str(&out.stdout).expect("JSON on stdout")
}

fn err(url: &str, args: &[&str]) -> String {
    let out = ceramic(url, args);
    assert_eq!(out.status.code(), Some(1), "{args:?} should fail");
    let stderr = out.stderr;
    let last = stderr.lines().last().expect("an error line");
    let error: Value = serde_json::from_str(last).expect("JSON error on the last stderr line");
    error["error"].as_str().expect("an error message").to_owned()
}

#[test]
fn creates_updates_shows_lists_and_pins_a_tile() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _runtime, metrics) = serve(dir.path());

    let created = ok(
        &url,
        &["create", "--seed", SEED, "--content", r#"{"title":"hello"}"#, "--family", "notes"],
    );
    let stream = created["streamId"].as_str().unwrap().to_owned();
    assert!(stream.starts_with('k'), "{created}");
    assert_eq!(created["state"]["content"], json!({"title": "hello"}));
    assert_eq!(created["state"]["doctype"], "tile");
    assert_eq!(created["state"]["metadata"]["family"], "notes");

    let updated =
        ok(&url, &["update", &stream, "--seed", SEED, "--content", r#"{"title":"bye","n":2}"#]);
    assert_eq!(updated["state"]["next"]["content"], json!({"title": "bye", "n": 2}));
    let tip = updated["tip"].as_str().unwrap().to_owned();

    let shown = ok(&url, &["show", &stream]);
    assert_eq!(shown["tip"], tip.as_str());
    assert_eq!(shown["state"]["log"].as_array().unwrap().len(), 2);

    let commits = ok(&url, &["commits", &stream]);
    let kinds: Vec<_> = commits["commits"].as_array().unwrap().iter().map(|c| &c["type"]).collect();
    assert_eq!(kinds, [&json!("genesis"), &json!("data")]);
    // The genesis CommitID shows the first version.
    let first = commits["commits"][0]["commitId"].as_str().unwrap();
    assert_eq!(ok(&url, &["show", first])["state"]["content"], json!({"title": "hello"}));

    // `subscribe --count 2`: the current state, then the next write's.
    let follower = Program::new(env!("CARGO_BIN_EXE_ceramic"))
        .args(["subscribe", &stream, "--count", "2"])
        .env("CERAMIC_NODE", &url)
        .spawn()
        .unwrap();
    wait_for_subscriptions(&metrics, 1);
    let third = ok(&url, &["update", &stream, "--seed", SEED, "--content", r#"{"title":"3rd"}"#]);
    let out = follower.finish(Duration::from_secs(60)).unwrap();
    assert!(out.status.success(), "{}", out.stderr);
    // One JSON line per state, then the (pretty-printed) summary.
    let stdout = out.stdout;
    let lines: Vec<&str> = stdout.lines().collect();
    let states: Vec<Value> = lines[..2].iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(states[0]["tip"], tip.as_str());
    assert_eq!(states[1]["tip"], third["tip"]);
    let summary: Value = serde_json::from_str(&lines[2..].join("\n")).unwrap();
    assert_eq!(summary["states"], 2);
    let tip = third["tip"].as_str().unwrap().to_owned();

    assert_eq!(ok(&url, &["pin", &stream])["isPinned"], true);
    assert_eq!(ok(&url, &["unpin", &stream])["isPinned"], false);

    // Two creates without --deterministic are two streams; with it, the same one.
    let again = ok(&url, &["create", "--seed", SEED, "--content", r#"{"title":"hello"}"#]);
    assert_ne!(again["streamId"], created["streamId"]);
    let d1 = ok(&url, &["create", "--seed", SEED, "--deterministic"]);
    let d2 = ok(&url, &["create", "--seed", SEED, "--deterministic"]);
    assert_eq!(d1["streamId"], d2["streamId"]);

    // Errors: another key may not update; nothing changes.
    let refused = err(&url, &["update", &stream, "--seed", OTHER_SEED, "--content", "{}"]);
    assert!(refused.contains("InvalidArgument"), "{refused}");
    assert_eq!(ok(&url, &["show", &stream])["tip"], tip.as_str());
    let bad_id = err(&url, &["show", "not-a-stream-id"]);
    assert!(bad_id.contains("InvalidArgument"), "{bad_id}");
    let not_object = err(&url, &["update", &stream, "--seed", SEED, "--content", "[1]"]);
    assert!(not_object.contains("JSON object"), "{not_object}");
}

/// Waits (bounded) until the node's metrics show `n` open subscriptions.
fn wait_for_subscriptions(metrics: &ceramic_service::Metrics, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !metrics.encode().contains(&format!("ceramic_subscriptions {n}\n")) {
        assert!(std::time::Instant::now() < deadline, "no subscriber after 30 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn says_when_the_node_is_unreachable() {
    // A port nobody listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}");
    let message =
        err(&url, &["show", "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s"]);
    assert!(message.contains("cannot reach the node"), "{message}");
}

#[test]
fn creates_a_three_id_and_writes_tiles_as_it() {
    const SIGNING: &str = "0505050505050505050505050505050505050505050505050505050505050505";
    let dir = tempfile::tempdir().unwrap();
    let (url, _runtime, _metrics) = serve(dir.path());

    let three_id = ok(&url, &["create-3id", "--seed", SEED, "--signing-seed", SIGNING]);
    let did = three_id["did"].as_str().unwrap().to_owned();
    let version = three_id["version"].as_str().unwrap().to_owned();
    assert!(did.starts_with("did:3:k"), "{three_id}");
    assert_eq!(three_id["state"]["state"]["metadata"]["family"], "3id");
    assert!(three_id["kid"].as_str().unwrap().starts_with(&format!("{did}?version-id={version}#")));

    // A Tile controlled by the 3ID, created and updated with its key.
    let as_3id =
        ["--seed", SIGNING, "--key-type", "secp256k1", "--as-3id", &did, "--3id-version", &version];
    let mut args = vec!["create", "--content", r#"{"by":"3id"}"#];
    args.extend(as_3id);
    let created = ok(&url, &args);
    assert_eq!(created["state"]["metadata"]["controllers"], json!([did]));
    let stream = created["streamId"].as_str().unwrap().to_owned();
    let mut args = vec!["update", &stream, "--content", r#"{"by":"3id","n":2}"#];
    args.extend(as_3id);
    let updated = ok(&url, &args);
    assert_eq!(updated["state"]["next"]["content"], json!({"by": "3id", "n": 2}));

    // Another secp256k1 key is not in the 3ID's document: the node refuses its signature.
    let mut args = vec!["update", &stream, "--content", r#"{"by":"someone else"}"#];
    args.extend([
        "--seed",
        OTHER_SEED,
        "--key-type",
        "secp256k1",
        "--as-3id",
        &did,
        "--3id-version",
        &version,
    ]);
    let error = err(&url, &args);
    assert!(error.contains("signature"), "{error}");
}

/// `pins` (list, add, rm), `query` by family and controller, `gc` and `node status`.
#[test]
fn pins_queries_collects_garbage_and_shows_the_node_status() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _runtime, _metrics) = serve(dir.path());
    let a = ok(&url, &["create", "--seed", SEED, "--family", "ops-a"]);
    let b = ok(&url, &["create", "--seed", SEED, "--family", "ops-b", "--tag", "t"]);
    let (a, b) = (a["streamId"].as_str().unwrap(), b["streamId"].as_str().unwrap());
    // The node pins what is written through it (gc.pin_on_write, on by default).
    let pinned = ok(&url, &["pins"]);
    assert_eq!(pinned["pinnedStreamIds"].as_array().unwrap().len(), 2, "{pinned}");
    assert_eq!(ok(&url, &["pins", "rm", b])["wasPinned"], true);
    assert_eq!(ok(&url, &["pins", "list"])["pinnedStreamIds"], json!([a]));
    assert_eq!(ok(&url, &["query", "--family", "ops-b"])["streamIds"], json!([b]));
    assert_eq!(ok(&url, &["query", "--tag", "t"])["streamIds"], json!([b]));
    let all = ok(&url, &["query", "--limit", "1"]);
    assert_eq!(all["streamIds"].as_array().unwrap().len(), 1);
    let status = ok(&url, &["node", "status"]);
    assert_eq!(status["network"], "test");
    assert_eq!(status["health"]["serving"], true);
    assert_eq!(status["store"]["streams"], 2);
    assert_eq!(status["store"]["pins"], 1);
    assert_eq!(status["store"]["pinOnWrite"], true);
    assert!(status["anchoring"].as_str().unwrap().contains("inmemory:12345"), "{status}");
    let report = ok(&url, &["gc"]);
    assert_eq!(
        (report["pinnedStreams"].as_u64(), report["streamsRemoved"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(report["bytesFreed"].as_u64().unwrap() > 0);
    assert_eq!(ok(&url, &["query"])["streamIds"], json!([a]));
    // B is gone: pinning it is refused.
    let refused = err(&url, &["pins", "add", b]);
    assert!(refused.contains("NotFound"), "{refused}");
    assert_eq!(ok(&url, &["pins", "add", a])["isPinned"], true);
}
