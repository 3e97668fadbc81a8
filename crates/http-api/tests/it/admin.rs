//! The admin API: one-time codes, DID-JWS authorization as js-ceramic's client sends it, and
//! pins (add, list, get, remove); every refused request pins and unpins nothing.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ceramic_did::{KeySigner, KeyType, sign_jws};
use ceramic_storage::Storage as _;
use ceramic_streamid::StreamId;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::TestNode;

const PINS: &str = "/api/v0/admin/pins";

fn admin() -> KeySigner {
    KeySigner::from_seed(KeyType::Ed25519, &[9; 32]).expect("seed")
}

fn admin_node() -> TestNode {
    TestNode::with(|api| api.with_admin_dids(vec![admin().did_key().did().to_string()]))
}

/// The compact JWS the client builds: `protected.payload.signature` over the JSON payload.
fn compact(signer: &KeySigner, payload: &Value) -> String {
    let jws = sign_jws(signer, payload.to_string().as_bytes(), None).expect("signs");
    let s = &jws.signatures[0];
    let b = |x: &[u8]| URL_SAFE_NO_PAD.encode(x);
    format!("{}.{}.{}", b(&s.protected), b(&jws.payload), b(&s.signature))
}

async fn code(node: &TestNode) -> String {
    let (status, body) = node.get("/api/v0/admin/getCode").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["code"].as_str().expect("code").to_string()
}

/// The Basic header of a pins request signed by `signer` with a fresh code.
async fn basic(node: &TestNode, signer: &KeySigner) -> String {
    let code = code(node).await;
    format!("Basic {}", compact(signer, &json!({"code": code, "requestPath": PINS})))
}

async fn send(
    node: &TestNode,
    method: Method,
    uri: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = node.router.clone().oneshot(request.body(body).expect("request")).await;
    let response = response.expect("infallible");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn pinned(node: &TestNode, id: &StreamId) -> bool {
    node.storage.is_pinned(id).expect("reads")
}

#[tokio::test]
async fn an_admin_pins_lists_and_unpins() {
    let node = admin_node();
    let signer = admin();
    let (id, _) = node.create(&json!({"a": 1}), "YWRtaW4").await;
    let (other, _) = node.create(&json!({"a": 2}), "b3RoZXI").await;
    let one = format!("{PINS}/{id}");

    let auth = basic(&node, &signer).await;
    assert_eq!(
        send(&node, Method::GET, PINS, Some(&auth), None).await,
        (StatusCode::OK, json!({"pinnedStreamIds": []}))
    );

    // Pin as the real client does: Basic header, body `{force: true}`.
    let auth = basic(&node, &signer).await;
    let (status, body) =
        send(&node, Method::POST, &one, Some(&auth), Some(json!({"force": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"streamId": id.to_string(), "isPinned": true}));
    assert!(pinned(&node, &id));
    assert!(!pinned(&node, &other));

    let auth = basic(&node, &signer).await;
    assert_eq!(
        send(&node, Method::GET, PINS, Some(&auth), None).await,
        (StatusCode::OK, json!({"pinnedStreamIds": [id.to_string()]}))
    );
    let auth = basic(&node, &signer).await;
    assert_eq!(
        send(&node, Method::GET, &one, Some(&auth), None).await,
        (StatusCode::OK, json!({"pinnedStreamIds": [id.to_string()]}))
    );
    let auth = basic(&node, &signer).await;
    assert_eq!(
        send(&node, Method::GET, &format!("{PINS}/{other}"), Some(&auth), None).await,
        (StatusCode::OK, json!({"pinnedStreamIds": []}))
    );

    // Unpin with the `{jws}` body form (payload with `requestBody`).
    let code = code(&node).await;
    let jws = compact(&signer, &json!({"code": code, "requestPath": PINS, "requestBody": {}}));
    let (status, body) = send(&node, Method::DELETE, &one, None, Some(json!({"jws": jws}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"streamId": id.to_string(), "isPinned": false}));
    assert!(!pinned(&node, &id));
    let auth = basic(&node, &signer).await;
    assert_eq!(
        send(&node, Method::GET, PINS, Some(&auth), None).await,
        (StatusCode::OK, json!({"pinnedStreamIds": []}))
    );
}

#[tokio::test]
async fn pinning_an_unknown_stream_is_404() {
    let node = admin_node();
    let id = "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s";
    let auth = basic(&node, &admin()).await;
    let (status, body) =
        send(&node, Method::POST, &format!("{PINS}/{id}"), Some(&auth), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(node.storage.pins(None, 10).expect("reads").streams, vec![]);
}

/// Each refused pin request leaves the stream unpinned; a refused unpin leaves it pinned.
#[tokio::test]
async fn refused_admin_requests_change_nothing() {
    let node = admin_node();
    let signer = admin();
    let (id, _) = node.create(&json!({"a": 1}), "cmVmdXNl").await;
    let one = format!("{PINS}/{id}");
    let not_admin = KeySigner::from_seed(KeyType::Ed25519, &[7; 32]).expect("seed");

    // A used code.
    let used = basic(&node, &signer).await;
    assert_eq!(send(&node, Method::GET, PINS, Some(&used), None).await.0, StatusCode::OK);
    // A bad signature: the last signature byte changed.
    let good = basic(&node, &signer).await;
    let mut bad = good.into_bytes();
    let last = bad.len() - 2;
    bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
    let bad = String::from_utf8(bad).expect("ascii");
    // A path other than the pins base path js signs.
    let code = code(&node).await;
    let wrong_path =
        format!("Basic {}", compact(&signer, &json!({"code": code, "requestPath": one})));
    let unissued = format!(
        "Basic {}",
        compact(
            &signer,
            &json!({"code": "00000000-0000-4000-8000-000000000000", "requestPath": PINS})
        )
    );
    let wrong_did = basic(&node, &not_admin).await;
    let cases: Vec<(&str, Option<String>, StatusCode, &str)> = vec![
        ("missing header", None, StatusCode::UNAUTHORIZED, "Authorization"),
        ("not Basic", Some("Bearer abc".into()), StatusCode::UNAUTHORIZED, "scheme"),
        ("not a JWS", Some("Basic abc".into()), StatusCode::UNAUTHORIZED, "malformed"),
        ("used code", Some(used), StatusCode::UNAUTHORIZED, "already used"),
        ("unissued code", Some(unissued), StatusCode::UNAUTHORIZED, "unknown"),
        ("bad signature", Some(bad), StatusCode::UNAUTHORIZED, "does not verify"),
        ("wrong DID", Some(wrong_did), StatusCode::FORBIDDEN, "not an admin DID"),
        ("wrong requestPath", Some(wrong_path), StatusCode::FORBIDDEN, "signed for"),
    ];
    for (what, auth, expected, message) in &cases {
        let (status, body) =
            send(&node, Method::POST, &one, auth.as_deref(), Some(json!({}))).await;
        assert_eq!(status, *expected, "{what}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| e.contains(message)), "{what}: {body}");
        assert!(!pinned(&node, &id), "{what}");
    }

    // Refused unpins and lists: the pin stays.
    let auth = basic(&node, &signer).await;
    assert_eq!(send(&node, Method::POST, &one, Some(&auth), None).await.0, StatusCode::OK);
    let auth = basic(&node, &not_admin).await;
    let (status, _) = send(&node, Method::DELETE, &one, Some(&auth), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(&node, Method::DELETE, &one, None, Some(json!({"opts": {}}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let auth = basic(&node, &not_admin).await;
    assert_eq!(send(&node, Method::GET, PINS, Some(&auth), None).await.0, StatusCode::FORBIDDEN);
    assert_eq!(send(&node, Method::GET, PINS, None, None).await.0, StatusCode::UNAUTHORIZED);
    assert!(pinned(&node, &id));
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let node = TestNode::with(|api| {
        api.with_admin_dids(vec![admin().did_key().did().to_string()])
            .with_admin_code_ttl(Duration::ZERO)
    });
    let (id, _) = node.create(&json!({"a": 1}), "ZXhwaXJl").await;
    let auth = basic(&node, &admin()).await;
    let (status, body) =
        send(&node, Method::POST, &format!("{PINS}/{id}"), Some(&auth), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body["error"].as_str().expect("error").contains("expired"));
    assert!(!pinned(&node, &id));
}

#[tokio::test]
async fn without_admin_dids_every_admin_request_is_forbidden() {
    let node = TestNode::new();
    let auth = basic(&node, &admin()).await;
    assert_eq!(send(&node, Method::GET, PINS, Some(&auth), None).await.0, StatusCode::FORBIDDEN);
}

/// The real `@ceramicnetwork/http-client` 6.4.0 (`tools/http-client/admin.mjs`): its
/// `admin.pin.add/ls/rm` authenticate with our codes and JWS checks, and a non-admin DID is
/// refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_js_client_pins_lists_and_unpins() {
    use ceramic_testkit::{Program, tools};

    let dir =
        tools::tool_dir("http-client", &["node_modules/@ceramicnetwork/http-client/package.json"])
            .unwrap_or_else(|e| panic!("{e}"));
    let seed: Vec<u8> = (0..32).collect();
    let admin = KeySigner::from_seed(KeyType::Ed25519, &seed).expect("seed");
    let node = TestNode::with(|api| api.with_admin_dids(vec![admin.did_key().did().to_string()]));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(ceramic_http_api::serve(
        listener,
        node.router.clone(),
        async move {
            stopped.await.ok();
        },
        Duration::from_secs(1),
    ));

    // The script talks to the server on this runtime: wait for it off the runtime's threads.
    let run = tokio::task::spawn_blocking(move || {
        // Node.js 20 or later on PATH; killed if it has not finished within 120 s.
        let program = Program::new("node").arg("admin.mjs").arg(&url).current_dir(&dir);
        program.run(Duration::from_secs(120)).map(|f| (f.status, f.stdout, f.stderr))
    });
    let (status, out, err) =
        run.await.expect("joins").unwrap_or_else(|e| panic!("admin.mjs finishes: {e}"));
    let _ = stop.send(());
    server.await.expect("joins").expect("serves");
    assert!(status.success(), "admin.mjs failed:\n{out}\n{err}");
    let summary: Value = serde_json::from_str(out.trim()).expect("a JSON summary line");
    assert_eq!(summary["admin"], admin.did_key().did());
    assert_eq!(summary["failures"], json!([]));
    let refused = summary["refused"].as_str().unwrap_or_default();
    assert!(refused.contains("Forbidden") && refused.contains("not an admin DID"), "{summary}");
    let id: StreamId = summary["streamId"].as_str().expect("streamId").parse().expect("id");
    assert!(!pinned(&node, &id));
    assert!(node.storage.state(&id).expect("reads").is_some());
}
