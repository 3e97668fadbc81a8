//! Every route, and every way a request can be refused (with nothing stored).

use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, StatusCode};
use ceramic_codecs::{Block, Codec, GenesisCommit, Header, Payload};
use ceramic_http_api::MAX_BODY;
use ceramic_storage::Storage as _;
use ceramic_streamid::{StreamId, StreamType};
use serde_json::{Value, json};

use crate::{Recorder, TestNode};

fn error_of(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_else(|| panic!("no `error` in {body}"))
}

#[tokio::test]
async fn creates_updates_loads_and_lists_a_signed_tile() {
    let node = TestNode::new();
    let (id, state) = node.create(&json!({"a": 1}), "c2FsdA").await;
    assert_eq!(id.stream_type(), StreamType::TILE);
    assert_eq!(state["doctype"], "tile");
    assert_eq!(state["type"], 0);
    assert_eq!(state["anchorStatus"], "NOT_REQUESTED");
    assert_eq!(state["content"], json!({"a": 1}));
    assert_eq!(state["metadata"]["controllers"], json!([node.did()]));
    assert_eq!(state["log"][0]["cid"], id.cid().to_string());

    // Two updates through POST /commits.
    let mut state = state;
    let mut commits = vec![];
    for content in [json!({"a": 2}), json!({"a": 3, "b": [true]})] {
        let update = node.update(&state, &content);
        let body = json!({"streamId": id.to_string(), "commit": update.to_dag_jws_result(), "opts": {"anchor": false}});
        let (status, body) = node.post("/api/v0/commits", &body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["streamId"], id.to_string());
        state = body["state"].clone();
        commits.push(update);
    }
    assert_eq!(state["log"].as_array().unwrap().len(), 3);

    // Load by StreamID, then content.
    let (status, loaded) = node.get(&format!("/api/v0/streams/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{loaded}");
    assert_eq!(loaded["state"], state);
    let (status, content) = node.get(&format!("/api/v0/streams/{id}/content?sync=0")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content, json!({"a": 3, "b": [true]}));

    // Load by CommitID: the state as of the first update.
    let first = id.at_commit(*commits[0].envelope_block().cid()).unwrap();
    let (status, at) =
        node.get(&format!("/api/v0/streams/{first}?sync=0&syncTimeoutSeconds=0")).await;
    assert_eq!(status, StatusCode::OK, "{at}");
    assert_eq!(at["streamId"], id.to_string());
    assert_eq!(at["state"]["log"].as_array().unwrap().len(), 2);
    let (_, content) = node.get(&format!("/api/v0/streams/{first}/content")).await;
    assert_eq!(content, json!({"a": 2}));

    // atTime before any anchor: the genesis state.
    let (status, at) = node.get(&format!("/api/v0/streams/{id}?atTime=1700000000")).await;
    assert_eq!(status, StatusCode::OK, "{at}");
    assert_eq!(at["state"]["log"].as_array().unwrap().len(), 1);

    // The commits, in js serialized form: exactly the DagJWSResults the client sent.
    let (status, listed) = node.get(&format!("/api/v0/commits/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["streamId"], id.to_string());
    let listed = listed["commits"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    let genesis = node.genesis(&json!({"a": 1}), "c2FsdA");
    assert_eq!(listed[0]["cid"], genesis.envelope_block().cid().to_string());
    assert_eq!(listed[0]["value"], genesis.to_dag_jws_result());
    for (entry, commit) in listed[1..].iter().zip(&commits) {
        assert_eq!(entry["cid"], commit.envelope_block().cid().to_string());
        assert_eq!(entry["value"], commit.to_dag_jws_result());
    }
}

#[tokio::test]
async fn creates_a_deterministic_tile_from_an_unsigned_genesis_and_lists_it() {
    let node = TestNode::new();
    let genesis = json!({"header": {"controllers": [node.did()], "family": "fam"}});
    let (status, body) =
        node.post("/api/v0/streams", &json!({"type": 0, "genesis": genesis})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"]["signature"], 0);
    let id = body["streamId"].as_str().unwrap();
    // The same genesis again: the same stream (creating is idempotent).
    let (status, again) =
        node.post("/api/v0/streams", &json!({"type": 0, "genesis": genesis})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["streamId"], id);
    let (_, listed) = node.get(&format!("/api/v0/commits/{id}")).await;
    assert_eq!(listed["commits"][0]["value"], genesis);
}

#[tokio::test]
async fn multiqueries_follow_paths_create_from_genesis_and_skip_failures() {
    let node = TestNode::new();
    let (a, _) = node.create(&json!({"name": "a"}), "YQ").await;
    let (b, _) = node.create(&json!({"link": a.to_string(), "x": "not an id"}), "Yg").await;
    let unknown = StreamId::new(
        StreamType::TILE,
        *Block::from_data(Codec::DagCbor, vec![0xa0]).unwrap().cid(),
    )
    .unwrap();
    let genesis = json!({"header": {"controllers": [node.did()], "family": "mq"}});
    let payload = Payload::Genesis(GenesisCommit {
        header: Header {
            controllers: Some(vec![node.did()]),
            family: Some("mq".into()),
            ..Header::default()
        },
        data: None,
    });
    let created =
        StreamId::new(StreamType::TILE, *Block::encode(Codec::DagCbor, &payload).unwrap().cid())
            .unwrap();
    let body = json!({"queries": [
        {"streamId": b.to_string(), "paths": ["/link", "x", "missing/deeper"]},
        {"streamId": unknown.to_string()},
        {"streamId": created.to_string(), "genesis": genesis},
    ], "timeout": 5000});
    let (status, results) = node.post("/api/v0/multiqueries", &body).await;
    assert_eq!(status, StatusCode::OK, "{results}");
    let mut keys: Vec<&String> = results.as_object().unwrap().keys().collect();
    keys.sort();
    let mut expected = [a.to_string(), b.to_string(), created.to_string()];
    expected.sort();
    assert_eq!(keys, expected.iter().collect::<Vec<_>>());
    assert_eq!(results[a.to_string()]["content"], json!({"name": "a"}));
    assert_eq!(results[created.to_string()]["doctype"], "tile");

    // With atTime, results are keyed by the CommitID of the loaded tip.
    let body = json!({"queries": [{"streamId": a.to_string(), "opts": {"atTime": 1}}]});
    let (status, results) = node.post("/api/v0/multiqueries", &body).await;
    assert_eq!(status, StatusCode::OK);
    let key = a.at_commit(a.cid()).unwrap().to_string();
    assert!(results.get(&key).is_some(), "{results}");

    // A genesis that does not name the queried stream is not created.
    let body = json!({"queries": [{"streamId": unknown.to_string(), "genesis": genesis}]});
    let before = node.stream_count();
    let (status, results) = node.post("/api/v0/multiqueries", &body).await;
    assert_eq!((status, results), (StatusCode::OK, json!({})));
    assert_eq!(node.stream_count(), before);
}

#[tokio::test]
async fn node_routes_answer_as_js_does() {
    let node = TestNode::with(|api| api.with_supported_chains(vec!["inmemory:12345".into()]));
    assert_eq!(
        node.get("/api/v0/node/chains").await,
        (StatusCode::OK, json!({"supportedChains": ["inmemory:12345"]}))
    );
    assert_eq!(node.get("/api/v0/node/healthcheck").await, (StatusCode::OK, json!("Alive!")));
    assert_eq!(
        node.get("/api/v0/node/healthcheck?checkIpfs=false").await,
        (StatusCode::OK, json!("Alive!"))
    );
    let (status, body) = node.get("/api/v0/pins").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).contains("admin API"));
    let id = "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s";
    assert_eq!(node.get(&format!("/api/v0/pins/{id}")).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        node.send(Method::DELETE, &format!("/api/v0/pins/{id}"), None).await.0,
        StatusCode::BAD_REQUEST
    );
    let (status, body) = node.post(&format!("/api/v0/pins/{id}"), &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["warn"].as_str().unwrap().starts_with("Pin requests have moved"));
    let (status, body) = node.get("/api/v0/admin/status").await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert!(error_of(&body).contains("/api/v0/admin/pins"));
    let (status, body) = node.get("/api/v0/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error_of(&body).contains("/api/v0/nothing-here"));
    let (status, body) = node.send(Method::DELETE, "/api/v0/streams", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    error_of(&body);
}

#[tokio::test]
async fn anchor_requests_need_a_requester() {
    let node = TestNode::new();
    let (id, _) = node.create(&json!({"a": 1}), "YQ").await;
    let (status, body) =
        node.post(&format!("/api/v0/streams/{id}/anchor"), &json!({"opts": {}})).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert!(error_of(&body).contains("anchoring is not configured"));
    let (status, _) = node.post("/api/v0/streams/nope/anchor", &json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn anchor_requests_go_to_the_requester_and_writes_request_anchors() {
    let recorder = Arc::new(Recorder::default());
    let node = TestNode::with_service(|s| s.with_anchor_requester(recorder.clone()));
    // A create with js's default opts requests an anchor of the genesis (in the background).
    let (id, state) = node.create(&json!({"a": 1}), "YQ").await;
    wait_for(|| recorder.calls.lock().unwrap().len() == 1).await;
    assert_eq!(recorder.calls.lock().unwrap()[0], (id, id.cid()));
    // `opts.anchor: false` requests none.
    let update = node.update(&state, &json!({"a": 2}));
    let body = json!({"streamId": id.to_string(), "commit": update.to_dag_jws_result(), "opts": {"anchor": false}});
    assert_eq!(node.post("/api/v0/commits", &body).await.0, StatusCode::OK);
    // The anchor route answers the status as js does: the enum's number (PENDING = 1).
    let (status, body) = node.post(&format!("/api/v0/streams/{id}/anchor"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"streamId": id.to_string(), "anchorStatus": 1}));
    let calls = recorder.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[1], (id, *update.envelope_block().cid()));
    // Unknown streams are not found.
    let other = StreamId::new(StreamType::TILE, *update.payload_block().cid()).unwrap();
    let (status, _) = node.post(&format!("/api/v0/streams/{other}/anchor"), &json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_failing_anchor_service_is_unavailable() {
    let recorder = Arc::new(Recorder { fail: true, ..Recorder::default() });
    let node = TestNode::with_service(|s| s.with_anchor_requester(recorder.clone()));
    let (id, _) = node.create(&json!({"a": 1}), "YQ").await;
    let (status, body) = node.post(&format!("/api/v0/streams/{id}/anchor"), &json!({})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(error_of(&body).contains("unavailable"));
}

async fn wait_for(condition: impl Fn() -> bool) {
    tokio::time::timeout(Duration::from_secs(30), async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("timed out waiting");
}

#[tokio::test]
async fn bad_create_requests_are_4xx_and_store_nothing() {
    let node = TestNode::new();
    let genesis = node.genesis(&json!({"a": 1}), "YQ");
    let good = genesis.to_dag_jws_result();
    let mut wrong_link = good.clone();
    wrong_link["linkedBlock"] = json!("oWRkYXRhAQ"); // {"data": 1}: hashes to another CID
    let mut bad_signature = good.clone();
    bad_signature["jws"]["signatures"][0]["signature"] = json!("AAAA");
    let mut mismatched_link = good.clone();
    mismatched_link["jws"]["link"] = json!(genesis.envelope_block().cid().to_string());
    let cases: Vec<(&str, Vec<u8>, StatusCode)> = vec![
        ("malformed JSON", b"{\"type\": 0,".to_vec(), StatusCode::BAD_REQUEST),
        ("not an object", b"[1]".to_vec(), StatusCode::BAD_REQUEST),
        ("missing genesis", br#"{"type":0}"#.to_vec(), StatusCode::BAD_REQUEST),
        (
            "unknown stream type",
            json!({"type": 99, "genesis": good}).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "linkedBlock not hashing to the link",
            json!({"type": 0, "genesis": wrong_link}).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "jws.link not the payload",
            json!({"type": 0, "genesis": mismatched_link}).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "bad signature",
            json!({"type": 0, "genesis": bad_signature}).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "unknown commit field",
            json!({"type": 0, "genesis": {"header": {}, "extra": 1}}).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a genesis without controllers",
            json!({"type": 0, "genesis": {"header": {"family": "f"}}}).to_string().into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (name, body, expected) in cases {
        let (status, response) = node.send(Method::POST, "/api/v0/streams", Some(body)).await;
        assert_eq!(status, expected, "{name}: {response}");
        assert!(!error_of(&response).is_empty(), "{name}");
    }
    // The linkedBlock is refused by name (it is never stored under the signed CID).
    let body = json!({"type": 0, "genesis": wrong_link}).to_string().into_bytes();
    let (_, response) = node.send(Method::POST, "/api/v0/streams", Some(body)).await;
    assert!(error_of(&response).contains("linkedBlock does not hash to jws.link"), "{response}");
    // An update sent as a genesis.
    let (_, state) = node.create(&json!({"a": 1}), "Yg").await;
    let update = node.update(&state, &json!({"a": 2}));
    let (status, body) = node
        .post("/api/v0/streams", &json!({"type": 0, "genesis": update.to_dag_jws_result()}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(node.stream_count(), 1, "only the good create stored a stream");
    assert!(!node.has_block(genesis.envelope_block().cid()));
    assert!(!node.has_block(update.envelope_block().cid()));
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let node = TestNode::new();
    let big = format!(r#"{{"type":0,"genesis":"{}"}}"#, "a".repeat(MAX_BODY));
    let (status, body) = node.send(Method::POST, "/api/v0/streams", Some(big.into_bytes())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(error_of(&body).contains("larger than"));
    assert_eq!(node.stream_count(), 0);
}

#[tokio::test]
async fn bad_commit_requests_are_4xx_and_store_nothing() {
    let node = TestNode::new();
    let (id, state) = node.create(&json!({"a": 1}), "YQ").await;
    let (other, _) = node.create(&json!({"b": 1}), "Yg").await;
    let update = node.update(&state, &json!({"a": 2}));
    let post = |body: Value| {
        let node = &node;
        async move { node.post("/api/v0/commits", &body).await }
    };

    let (status, body) = post(json!({"commit": update.to_dag_jws_result()})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).contains("streamId"));
    let (status, _) = post(json!({"streamId": "kxyz", "commit": update.to_dag_jws_result()})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The commit belongs to `id`, not `other`.
    let (status, body) =
        post(json!({"streamId": other.to_string(), "commit": update.to_dag_jws_result()})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).contains("belongs to the stream"));
    // A genesis is not an update.
    let genesis = node.genesis(&json!({"a": 1}), "YQ");
    let (status, body) =
        post(json!({"streamId": id.to_string(), "commit": genesis.to_dag_jws_result()})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // An unknown stream.
    let unknown = StreamId::new(StreamType::TILE, *update.payload_block().cid()).unwrap();
    let orphan = node.update(&state, &json!({"a": 9}));
    let mut orphan_json = orphan.to_dag_jws_result();
    orphan_json["linkedBlock"] = Value::Null;
    let (status, body) =
        post(json!({"streamId": unknown.to_string(), "commit": orphan_json.clone()})).await;
    assert!(status.is_client_error(), "{status} {body}");
    // A bare JWS whose payload is not stored.
    let (status, body) =
        post(json!({"streamId": id.to_string(), "commit": orphan_json["jws"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(!node.has_block(orphan.envelope_block().cid()));

    // The update applies; a second update on the same (now stale) tip is a conflict.
    let (status, body) =
        post(json!({"streamId": id.to_string(), "commit": update.to_dag_jws_result()})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stale = node.update(&state, &json!({"a": 3}));
    let (status, body) =
        post(json!({"streamId": id.to_string(), "commit": stale.to_dag_jws_result()})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(!node.has_block(stale.envelope_block().cid()));
    let (_, loaded) = node.get(&format!("/api/v0/streams/{id}")).await;
    assert_eq!(loaded["state"]["log"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bad_ids_and_queries_are_400_and_unknown_streams_404() {
    let node = TestNode::new();
    let (id, _) = node.create(&json!({"a": 1}), "YQ").await;
    for uri in [
        "/api/v0/streams/not-an-id".to_string(),
        "/api/v0/streams/not-an-id/content".to_string(),
        "/api/v0/commits/kxyz".to_string(),
        format!("/api/v0/streams/{id}?sync=9"),
        format!("/api/v0/streams/{id}?sync=0&sync=1"),
        format!("/api/v0/streams/{id}?atTime=soon"),
        format!("/api/v0/streams/{id}?opts=%7Bbroken"),
        format!("/api/v0/streams/{id}/content?syncTimeoutSeconds=-1"),
    ] {
        let (status, body) = node.get(&uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        error_of(&body);
    }
    // A CommitID cannot be combined with atTime.
    let at = id.at_commit(id.cid()).unwrap();
    let (status, _) = node.get(&format!("/api/v0/streams/{at}?atTime=5")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let unknown = StreamId::new(
        StreamType::TILE,
        *Block::from_data(Codec::DagCbor, vec![0xa0]).unwrap().cid(),
    )
    .unwrap();
    for uri in [
        format!("/api/v0/streams/{unknown}"),
        format!("/api/v0/streams/{unknown}/content"),
        format!("/api/v0/commits/{unknown}"),
        format!("/api/v0/streams/{}", unknown.at_commit(id.cid()).unwrap()),
    ] {
        let (status, body) = node.get(&uri).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
        error_of(&body);
    }
    // A commit that is not in the stream.
    let (other, _) = node.create(&json!({"b": 1}), "Yg").await;
    let (status, _) =
        node.get(&format!("/api/v0/streams/{}", id.at_commit(other.cid()).unwrap())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = node.post("/api/v0/multiqueries", &json!({"queries": "x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn cors_echoes_the_origin_with_credentials_and_answers_preflights() {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt as _;

    let node = TestNode::new();
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/v0/streams")
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .body(Body::empty())
        .unwrap();
    let response = node.router.clone().oneshot(preflight).await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], "https://app.example");
    assert_eq!(headers["access-control-allow-credentials"], "true");
    assert_eq!(headers["access-control-allow-headers"], "content-type");
    assert!(headers["access-control-allow-methods"].to_str().unwrap().contains("POST"));

    let get = Request::builder()
        .uri("/api/v0/node/healthcheck")
        .header("origin", "https://app.example")
        .body(Body::empty())
        .unwrap();
    let response = node.router.clone().oneshot(get).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-origin"], "https://app.example");
    // Without an Origin (not a browser), no CORS headers.
    let (status, _) = node.get("/api/v0/node/healthcheck").await;
    assert_eq!(status, StatusCode::OK);
}

/// A network on which every look-up waits `wait`, then finds nothing (a node whose peers do
/// not answer a QUERY).
#[derive(Debug)]
struct SlowNetwork {
    wait: Duration,
    started: std::sync::atomic::AtomicUsize,
}

impl ceramic_service::NetworkLoader for SlowNetwork {
    fn load(&self, _stream: StreamId) -> ceramic_service::LoadFuture<'_> {
        self.started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            tokio::time::sleep(self.wait).await;
            Ok(false)
        })
    }
}

fn unknown_streams(n: u8) -> Value {
    let queries: Vec<Value> = (0..n)
        .map(|i| {
            let cid = ceramic_codecs::cid_of(Codec::DagCbor.code(), &[i, 1, 2]);
            json!({ "streamId": StreamId::new(StreamType::TILE, cid).unwrap().to_string() })
        })
        .collect();
    json!({ "queries": queries })
}

fn slow_node(
    wait: Duration,
    limits: ceramic_http_api::MultiqueryLimits,
) -> (TestNode, Arc<SlowNetwork>) {
    let network = Arc::new(SlowNetwork { wait, started: Default::default() });
    let loader = network.clone();
    let node = TestNode::build(
        move |service| service.with_network_loader(loader),
        move |api| api.with_multiquery_limits(limits),
    );
    (node, network)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multiqueries_load_in_parallel_bounded_by_their_concurrency() {
    let limits = ceramic_http_api::MultiqueryLimits::default()
        .with_concurrency(16)
        .with_deadline(Duration::from_secs(30));
    let (node, network) = slow_node(Duration::from_millis(500), limits);
    let started = std::time::Instant::now();
    let (status, results) = node.post("/api/v0/multiqueries", &unknown_streams(32)).await;
    let took = started.elapsed();
    assert_eq!((status, results), (StatusCode::OK, json!({})));
    assert_eq!(network.started.load(std::sync::atomic::Ordering::SeqCst), 32);
    // Two rounds of 16: one after another they would take 16 s.
    assert!(took >= Duration::from_millis(1_000), "more than 16 at once: {took:?}");
    assert!(took < Duration::from_secs(8), "not in parallel: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multiquery_answers_by_its_deadline_leaving_out_what_did_not_load() {
    let limits = ceramic_http_api::MultiqueryLimits::default()
        .with_concurrency(4)
        .with_deadline(Duration::from_millis(500));
    let (node, _) = slow_node(Duration::from_secs(60), limits);
    let (a, _) = node.create(&json!({"name": "a"}), "YQ").await;
    let mut body = unknown_streams(100);
    body["queries"].as_array_mut().unwrap().insert(0, json!({"streamId": a.to_string()}));
    let started = std::time::Instant::now();
    let (status, results) = node.post("/api/v0/multiqueries", &body).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{results}");
    let keys: Vec<&String> = results.as_object().unwrap().keys().collect();
    assert_eq!(keys, [&a.to_string()], "only the stored stream loaded in time");
    assert!(took < Duration::from_secs(5), "took {took:?} with a 500 ms deadline");
}

#[tokio::test]
async fn a_multiquery_over_the_query_cap_is_refused() {
    let limits = ceramic_http_api::MultiqueryLimits::default().with_max_queries(10);
    let node = TestNode::with(|api| api.with_multiquery_limits(limits));
    let (status, body) = node.post("/api/v0/multiqueries", &unknown_streams(11)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "`queries` holds 11 items, at most 10");
    let (status, _) = node.post("/api/v0/multiqueries", &unknown_streams(10)).await;
    assert_eq!(status, StatusCode::OK);
}

/// js's `opts.pin`: `true` pins the written stream, `false` unpins it, absent leaves it to the
/// service (here: not pinning on write, then pinning on write); a non-boolean is refused and
/// writes nothing. GC then keeps exactly the pinned streams.
#[tokio::test]
async fn writes_honour_opts_pin() {
    let node = TestNode::new();
    let pinned = |id: &StreamId| node.storage.is_pinned(id).unwrap();
    let create = |content: Value, unique: &str, opts: Value| {
        let genesis = node.genesis(&content, unique);
        json!({"type": 0, "genesis": genesis.to_dag_jws_result(), "opts": opts})
    };
    let (status, body) =
        node.post("/api/v0/streams", &create(json!({"a": 1}), "cGlu", json!({"pin": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let a: StreamId = body["streamId"].as_str().unwrap().parse().unwrap();
    assert!(pinned(&a));
    let (b, b_state) = node.create(&json!({"b": 1}), "bm9waW4").await;
    assert!(!pinned(&b), "absent opts.pin and no pin_on_write: not pinned");
    // Pinned by an update, then unpinned by another.
    let update = node.update(&b_state, &json!({"b": 2}));
    let body = json!({"streamId": b.to_string(), "commit": update.to_dag_jws_result(), "opts": {"pin": true, "anchor": false}});
    let (status, answer) = node.post("/api/v0/commits", &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(pinned(&b));
    let update = node.update(&answer["state"], &json!({"b": 3}));
    let body = json!({"streamId": b.to_string(), "commit": update.to_dag_jws_result(), "opts": {"pin": false}});
    assert_eq!(node.post("/api/v0/commits", &body).await.0, StatusCode::OK);
    assert!(!pinned(&b));
    // A pin that is not a boolean: 400, nothing written.
    let before = node.stream_count();
    let (status, body) =
        node.post("/api/v0/streams", &create(json!({"c": 1}), "YmFk", json!({"pin": 1}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(error_of(&body).contains("opts.pin"), "{body}");
    assert_eq!(node.stream_count(), before);
    // GC keeps the pinned stream only.
    node.storage.gc().unwrap();
    assert_eq!(node.stream_count(), 1);
    assert!(node.storage.state(&a).unwrap().is_some());

    // A service that pins on write pins a write without opts.pin.
    let node = TestNode::with_service(|s| s.with_pin_on_write(true));
    let (c, _) = node.create(&json!({"c": 1}), "ZGVm").await;
    assert!(node.storage.is_pinned(&c).unwrap());
}
