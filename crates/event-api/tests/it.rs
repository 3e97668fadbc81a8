//! Integration tests of `ceramic-event-api` through its router, driven in process (tower
//! `oneshot`) over a service with in-memory storage and the engine's test doctype (Adder),
//! whose commits are stored through the engine; the `/ceramic` refusals of bad events are
//! checked to store nothing and leave the feed where it was.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use ceramic_codecs::{Block, Cid, Codec, read_car, write_car};
use ceramic_did::Signer as _;
use ceramic_doctype::Registry;
use ceramic_engine::Engine;
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::test_utils::{ADDER, Adder, add, anchor, genesis, signer};
use ceramic_event_api::EventApi;
use ceramic_event_api::request::encode_multibase;
use ceramic_service::{Info, Service, Updates};
use ceramic_storage::{MemoryStorage, Storage};
use ceramic_streamid::StreamId;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

struct Node {
    storage: Arc<MemoryStorage>,
    engine: Arc<Engine>,
    chain: Arc<FakeAnchorVerifier>,
    router: Router,
}

fn node() -> Node {
    let storage = Arc::new(MemoryStorage::new());
    let registry = Registry::new().with(Adder).unwrap();
    let chain = Arc::new(FakeAnchorVerifier::default());
    let updates = Updates::new();
    let engine =
        Arc::new(Engine::new(storage.clone(), registry, chain.clone(), Arc::new(updates.clone())));
    let service = Service::builder(engine.clone(), storage.clone() as Arc<dyn Storage>)
        .with_info(Info::new("inmemory"))
        .with_updates(updates)
        .build();
    let router = Router::new().nest("/ceramic", EventApi::new(service).router());
    Node { storage, engine, chain, router }
}

async fn call(router: &Router, method: Method, uri: &str, body: &str) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value =
        if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    (status, value)
}

async fn get(router: &Router, uri: &str) -> (StatusCode, Value) {
    call(router, Method::GET, uri, "").await
}

/// Writes streams through the engine: 3 streams of genesis, 2 data commits and an anchor
/// (interleaved). Returns every event CID in the order stored.
fn write(node: &Node) -> Vec<(StreamId, Cid)> {
    let author = signer(1);
    let mut out = Vec::new();
    let mut tips = Vec::new();
    for unique in ["a", "b", "c"] {
        let (id, g) = genesis(&author, unique, None, &[]);
        let state = node.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
        tips.push((id, state.tip()));
        out.push((id, g.cid));
    }
    for round in 0..3 {
        for (id, tip) in &mut tips {
            let made = if round == 2 {
                anchor(&node.chain, id, *tip, 99)
            } else {
                add(&author, id, *tip, round)
            };
            let state = node.engine.apply_commit(ADDER, made.cid, &made.blocks).unwrap();
            *tip = state.tip();
            out.push((*id, made.cid));
        }
    }
    out
}

fn ids(events: &Value) -> Vec<String> {
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn serves_the_feed_in_pages_from_resume_tokens() {
    let node = node();
    let (status, body) = get(&node.router, "/ceramic/feed/resumeToken").await;
    assert_eq!((status, body), (StatusCode::OK, json!({"resumeToken": "0"})));
    let written = write(&node);
    let expected: Vec<String> = written.iter().map(|(_, cid)| cid.to_string()).collect();
    let (status, body) = get(&node.router, "/ceramic/feed/events").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&body), expected);
    assert_eq!(body["resumeToken"], json!(expected.len().to_string()));
    assert!(body["events"][0].get("data").is_none());
    // Pages of 5 from a token: nothing missing, nothing repeated.
    let mut token = "0".to_string();
    let mut seen = Vec::new();
    loop {
        let (_, page) =
            get(&node.router, &format!("/ceramic/feed/events?resumeAt={token}&limit=5")).await;
        let page_ids = ids(&page);
        if page_ids.is_empty() {
            assert_eq!(page["resumeToken"], json!(token));
            break;
        }
        seen.extend(page_ids);
        token = page["resumeToken"].as_str().unwrap().to_string();
    }
    assert_eq!(seen, expected);
    let (_, head) = get(&node.router, "/ceramic/feed/resumeToken").await;
    assert_eq!(head["resumeToken"], json!(expected.len().to_string()));
    // With data: each event's CAR, rooted at the event.
    let (_, full) = get(&node.router, "/ceramic/feed/events?includeData=full&limit=100").await;
    for (event, (_, cid)) in full["events"].as_array().unwrap().iter().zip(&written) {
        let bytes =
            ceramic_event_api::request::decode_multibase(event["data"].as_str().unwrap()).unwrap();
        let car = read_car(&bytes).unwrap();
        assert_eq!(car.roots, [*cid]);
        assert!(car.get(cid).is_some());
    }
}

#[tokio::test]
async fn serves_events_with_their_payloads_and_proofs() {
    let node = node();
    let written = write(&node);
    // A signed data event: the envelope and its payload.
    let (_, data_cid) = written[3];
    let (status, body) = get(&node.router, &format!("/ceramic/events/{data_cid}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], json!(data_cid.to_string()));
    let car = read_car(
        &ceramic_event_api::request::decode_multibase(body["data"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(car.roots, [data_cid]);
    assert_eq!(car.blocks.len(), 2, "envelope and payload");
    // A time event: the event, its proof and the Merkle path.
    let (_, time_cid) = written[9];
    let (_, body) = get(&node.router, &format!("/ceramic/events/{time_cid}")).await;
    let car = read_car(
        &ceramic_event_api::request::decode_multibase(body["data"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    assert!(car.blocks.len() >= 3, "event, proof, path: {}", car.blocks.len());
    // Unknown and malformed ids.
    let unknown = ceramic_codecs::cid_of(0x71, b"nothing");
    let (status, body) = get(&node.router, &format!("/ceramic/events/{unknown}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["message"].as_str().unwrap().contains("not found"), "{body}");
    let (status, body) = get(&node.router, "/ceramic/events/notacid").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().starts_with("Invalid Cid"), "{body}");
}

#[tokio::test]
async fn serves_stream_states_as_ceramic_one_does() {
    let node = node();
    let written = write(&node);
    let (stream, _) = written[0];
    let (status, body) = get(&node.router, &format!("/ceramic/streams/{stream}")).await;
    assert_eq!(status, StatusCode::OK);
    let state = node.storage.state(&stream).unwrap().unwrap();
    assert_eq!(body["id"], json!(stream.to_string()));
    assert_eq!(body["event_cid"], json!(state.tip().to_string()));
    let data =
        ceramic_event_api::request::decode_multibase(body["data"].as_str().unwrap()).unwrap();
    let data: Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(&data["content"], state.current_content());
    let (status, _) = get(
        &node.router,
        "/ceramic/streams/kjzl6kcym7w8y5pj1xs5iotnbplg7x4hgoohzusuvk8s7oih3h2fuplcvwvu2wx",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get(&node.router, "/ceramic/streams/garbage").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().starts_with("invalid stream id"), "{body}");
}

/// Bad events: each refused with 400 `{message}`, nothing stored, the feed where it was.
#[tokio::test]
async fn refuses_bad_events_storing_nothing_and_keeping_the_feed() {
    let node = node();
    write(&node);
    let before = node.storage.stats().unwrap();
    let (_, head) = get(&node.router, "/ceramic/feed/resumeToken").await;
    let author = signer(2);
    // A valid commit that is not a Ceramic event (no model in its header).
    let (_, g) = genesis(&author, "not-an-event", None, &[]);
    let car =
        |roots: &[Cid], blocks: &[Block]| encode_multibase(&write_car(roots, blocks).unwrap());
    let other = Block::encode(Codec::DagCbor, &7u8).unwrap();
    let bodies = [
        ("not JSON".to_string(), "Invalid body"),
        (json!({"data": 5}).to_string(), "Invalid body"),
        (json!({"data": "u", "extra": 1}).to_string(), "Invalid body"),
        (json!({"data": "#zzz"}).to_string(), "multibase"),
        (json!({"data": "uAAAA"}).to_string(), "CAR"),
        (json!({"data": car(&[g.cid], &g.blocks)}).to_string(), "missing the field `model`"),
        (json!({"data": car(&[*other.cid()], &g.blocks)}).to_string(), "no block for the event"),
        (json!({"data": car(&[g.cid, *other.cid()], &g.blocks)}).to_string(), "exactly one root"),
        (
            json!({"data": car(&[*other.cid()], std::slice::from_ref(&other))}).to_string(),
            "Invalid event",
        ),
    ];
    for (body, expected) in bodies {
        let (status, answer) = call(&node.router, Method::POST, "/ceramic/events", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(expected), "{message} does not say {expected}");
    }
    // A data event of a stream this node does not have.
    let (stream, _) = genesis(&author, "elsewhere", None, &[]);
    let d = add(&author, &stream, stream.cid(), 1);
    let body = json!({"data": car(&[d.cid], &d.blocks)}).to_string();
    let (status, answer) = call(&node.router, Method::POST, "/ceramic/events", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("init event is not stored"), "{answer}");
    assert_eq!(node.storage.stats().unwrap(), before, "nothing stored");
    assert_eq!(
        get(&node.router, "/ceramic/feed/resumeToken").await.1,
        head,
        "the feed did not move"
    );
}

#[tokio::test]
async fn refuses_bad_feed_parameters() {
    let node = node();
    for query in
        ["resumeAt=x", "limit=0", "limit=10001", "includeData=all", "resumeAt=1&resumeAt=2"]
    {
        let (status, body) = get(&node.router, &format!("/ceramic/feed/events?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(body["message"].is_string());
    }
}

#[tokio::test]
async fn answers_node_info_interests_and_cors() {
    let node = node();
    assert_eq!(get(&node.router, "/ceramic/liveness").await.0, StatusCode::OK);
    let (status, body) = get(&node.router, "/ceramic/version").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["version"].is_string());
    assert_eq!(call(&node.router, Method::POST, "/ceramic/version", "").await.0, StatusCode::OK);
    assert_eq!(get(&node.router, "/ceramic/config/network").await.1, json!({"name": "inmemory"}));
    let model = "kjzl6hvfrbw6c5ajfmes842lu09vjxu5956e3xq0xk12gp2jcf9s90cagt2god9";
    let ok = json!({"sep": "model", "sepValue": model}).to_string();
    assert_eq!(
        call(&node.router, Method::POST, "/ceramic/interests", &ok).await.0,
        StatusCode::NO_CONTENT
    );
    let bad = json!({"sep": "account", "sepValue": model}).to_string();
    let (status, body) = call(&node.router, Method::POST, "/ceramic/interests", &bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("model"));
    let uri = format!("/ceramic/interests/model/{model}?controller=did:key:z6Mk");
    assert_eq!(call(&node.router, Method::POST, &uri, "").await.0, StatusCode::NO_CONTENT);
    // No network in this node.
    assert_eq!(get(&node.router, "/ceramic/peers").await.0, StatusCode::BAD_REQUEST);
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/ceramic/events")
        .body(Body::empty())
        .unwrap();
    let response = node.router.clone().oneshot(preflight).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let (status, body) = get(&node.router, "/ceramic/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["message"].is_string());
}

/// The SSE feed: the stored events from the token, then each new one as it is stored.
#[tokio::test]
async fn streams_the_feed_as_server_sent_events() {
    let node = node();
    let written = write(&node);
    let request =
        Request::builder().uri("/ceramic/feed/sse?resumeAt=4").body(Body::empty()).unwrap();
    let response = node.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    let mut text = String::new();
    let mut more = None;
    let expected_after = |text: &str, n: usize| text.matches("event: event").count() >= n;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !expected_after(&text, written.len() - 4 + 1) {
        if expected_after(&text, written.len() - 4) && more.is_none() {
            // Caught up: a new write arrives on the open stream.
            let author = signer(1);
            let (_, g) = genesis(&author, "late", None, &[]);
            node.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
            more = Some(g.cid);
        }
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("in time")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            text.push_str(std::str::from_utf8(&data).unwrap());
        }
    }
    let got: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| serde_json::from_str::<Value>(d).unwrap()["id"].as_str().unwrap().to_string())
        .collect();
    let mut expected: Vec<String> = written[4..].iter().map(|(_, c)| c.to_string()).collect();
    expected.push(more.unwrap().to_string());
    assert_eq!(got, expected);
    assert!(text.contains("id: 5\n"), "{text}");
}

/// A stand-in for the ModelInstanceDocument doctype (`ceramic-doctype-mid`, another crate),
/// registered as stream type 3 so that this crate's tests can drive `POST /events` end to end:
/// a signed init event naming a model makes `{controller, model}` metadata and its `data` the
/// content; a data event by the controller replaces the content; content `{"bad": …}` is refused,
/// as a schema break would be.
mod toy {
    use ceramic_codecs::{DataCommit, GenesisCommit, Header, Ipld, Payload};
    use ceramic_did::Signer as _;
    use ceramic_doctype::{
        Change, Commit, Context, Doctype, Genesis, SignatureStatus, StreamState,
    };
    use ceramic_streamid::{StreamId, StreamType};
    use serde_json::json;

    #[derive(Debug)]
    pub(crate) struct ToyMid;

    #[derive(Debug, thiserror::Error)]
    pub(crate) enum ToyError {
        #[error("not signed by the controller")]
        NotController,
        #[error("content breaks the model's schema")]
        Schema,
        #[error("malformed")]
        Malformed,
    }

    fn content(data: &Option<Ipld>) -> Result<serde_json::Value, ToyError> {
        let value = match data {
            Some(Ipld::Integer(n)) => {
                json!({"n": i64::try_from(*n).map_err(|_| ToyError::Malformed)?})
            }
            Some(Ipld::String(s)) if s == "bad" => return Err(ToyError::Schema),
            Some(Ipld::String(s)) => json!({"text": s}),
            _ => return Err(ToyError::Malformed),
        };
        Ok(value)
    }

    impl Doctype for ToyMid {
        type Error = ToyError;
        fn stream_type(&self) -> StreamType {
            StreamType::MID
        }
        fn name(&self) -> &'static str {
            "toy-mid"
        }
        fn apply_genesis(&self, commit: &Commit<'_>, _: &dyn Context) -> Result<Genesis, ToyError> {
            let Payload::Genesis(g) = commit.payload else { return Err(ToyError::Malformed) };
            let controller =
                g.header.controllers.as_ref().and_then(|c| c.first()).ok_or(ToyError::Malformed)?;
            if commit.signer != Some(controller.as_str()) {
                return Err(ToyError::NotController);
            }
            let model = g.header.model.as_ref().ok_or(ToyError::Malformed)?;
            let model = StreamId::from_bytes(model).map_err(|_| ToyError::Malformed)?;
            let mut metadata = serde_json::Map::new();
            metadata.insert("controller".into(), json!(controller));
            metadata.insert("model".into(), json!(model.to_string()));
            Ok(Genesis::new(content(&g.data)?, metadata, SignatureStatus::Signed))
        }
        fn apply_data(
            &self,
            state: &StreamState,
            commit: &Commit<'_>,
            _: &dyn Context,
        ) -> Result<Change, ToyError> {
            let controller = state.current_metadata().get("controller").and_then(|c| c.as_str());
            if commit.signer.is_none() || commit.signer != controller {
                return Err(ToyError::NotController);
            }
            let Payload::Data(DataCommit { data, .. }) = commit.payload else {
                return Err(ToyError::Malformed);
            };
            Ok(Change::content(Some(content(data)?)))
        }
    }

    pub(crate) fn model(n: u8) -> StreamId {
        StreamId::new(StreamType::MODEL, ceramic_codecs::cid_of(0x71, &[n])).unwrap()
    }

    pub(crate) fn init(
        author: &ceramic_did::KeySigner,
        model: &StreamId,
        unique: u8,
        data: Ipld,
    ) -> ceramic_engine::test_utils::Made {
        let header = Header {
            controllers: Some(vec![author.did().to_string()]),
            model: Some(model.to_bytes().into()),
            sep: Some("model".into()),
            unique: Some(ceramic_codecs::Unique::Bytes(vec![unique])),
            ..Header::default()
        };
        ceramic_engine::test_utils::signed(
            author,
            Payload::Genesis(GenesisCommit { header, data: Some(data) }),
        )
    }

    pub(crate) fn update(
        author: &ceramic_did::KeySigner,
        init: ceramic_codecs::Cid,
        prev: ceramic_codecs::Cid,
        data: Ipld,
    ) -> ceramic_engine::test_utils::Made {
        ceramic_engine::test_utils::signed(
            author,
            Payload::Data(DataCommit { id: init, prev, header: None, data: Some(data) }),
        )
    }
}

fn node_with_mids() -> Node {
    let storage = Arc::new(MemoryStorage::new());
    let registry = Registry::new().with(Adder).unwrap().with(toy::ToyMid).unwrap();
    let chain = Arc::new(FakeAnchorVerifier::default());
    let updates = Updates::new();
    let engine =
        Arc::new(Engine::new(storage.clone(), registry, chain.clone(), Arc::new(updates.clone())));
    let service = Service::builder(engine.clone(), storage.clone() as Arc<dyn Storage>)
        .with_info(Info::new("inmemory"))
        .with_updates(updates)
        .build();
    let router = Router::new().nest("/ceramic", EventApi::new(service).router());
    Node { storage, engine, chain, router }
}

async fn post_event(
    router: &Router,
    made: &ceramic_engine::test_utils::Made,
) -> (StatusCode, Value) {
    let body = json!({"data": encode_multibase(&write_car(&[made.cid], &made.blocks).unwrap())})
        .to_string();
    call(router, Method::POST, "/ceramic/events", &body).await
}

/// Init, data and time events through `POST /events`: 204 each, the stream's state through
/// `GET /streams/{id}`, the feed in order, the instances of each model (and controller).
#[tokio::test]
async fn stores_posted_events_and_lists_instances_by_model() {
    use ceramic_codecs::Ipld;
    let node = node_with_mids();
    let (alice, bob) = (signer(1), signer(2));
    let (m1, m2) = (toy::model(1), toy::model(2));
    let mut posted = Vec::new();
    let mut streams = Vec::new();
    for (i, (author, model)) in [(&alice, &m1), (&bob, &m1), (&alice, &m2)].into_iter().enumerate()
    {
        let init = toy::init(author, model, i as u8, Ipld::Integer(i as i128));
        let (status, body) = post_event(&node.router, &init).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        posted.push(init.cid);
        streams.push(StreamId::new(ceramic_streamid::StreamType::MID, init.cid).unwrap());
    }
    // Posting the same init event again is accepted and changes nothing.
    let again = toy::init(&alice, &m1, 0, Ipld::Integer(0));
    assert_eq!(post_event(&node.router, &again).await.0, StatusCode::NO_CONTENT);
    // An update, then a time event, of the first stream.
    let update =
        toy::update(&alice, streams[0].cid(), streams[0].cid(), Ipld::String("hello".into()));
    let (status, body) = post_event(&node.router, &update).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    posted.push(update.cid);
    let time = anchor(&node.chain, &streams[0], update.cid, 1_700_000_000);
    let (status, body) = post_event(&node.router, &time).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    posted.push(time.cid);

    let (status, state) = get(&node.router, &format!("/ceramic/streams/{}", streams[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(state["event_cid"], json!(time.cid.to_string()));
    assert_eq!(state["controller"], json!(alice.did().to_string()));
    let model_dim = ceramic_event_api::request::decode_multibase(
        state["dimensions"]["model"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(model_dim, m1.to_bytes());
    let data =
        ceramic_event_api::request::decode_multibase(state["data"].as_str().unwrap()).unwrap();
    let data: Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(data["content"], json!({"text": "hello"}));
    assert_eq!(data["metadata"]["model"], json!(m1.to_string()));

    let (_, feed) = get(&node.router, "/ceramic/feed/events").await;
    let expected: Vec<String> = posted.iter().map(ToString::to_string).collect();
    assert_eq!(ids(&feed), expected);

    let list = |q: String| {
        let router = node.router.clone();
        async move { get(&router, &format!("/ceramic/extensions/instances?{q}")).await.1 }
    };
    let sorted = |mut v: Vec<StreamId>| {
        v.sort_by_key(StreamId::to_bytes);
        v.iter().map(ToString::to_string).collect::<Vec<_>>()
    };
    let of_m1 = list(format!("model={m1}")).await;
    assert_eq!(of_m1["streams"], json!(sorted(vec![streams[0], streams[1]])));
    let of_alice = list(format!("model={m1}&controller={}", alice.did())).await;
    assert_eq!(of_alice["streams"], json!([streams[0].to_string()]));
    let first = list(format!("model={m1}&limit=1")).await;
    assert_eq!(first["streams"].as_array().unwrap().len(), 1);
    let next = first["next"].as_str().unwrap();
    let second = list(format!("model={m1}&limit=1&after={next}")).await;
    assert_eq!(second["streams"].as_array().unwrap().len(), 1);
    assert_ne!(first["streams"], second["streams"]);
    assert_eq!(list(format!("model={m2}")).await["streams"], json!([streams[2].to_string()]));
}

/// Refusals by the doctype and the engine: 400 `{message}`, nothing stored, the feed unmoved.
#[tokio::test]
async fn refuses_events_the_doctype_refuses_storing_nothing() {
    use ceramic_codecs::Ipld;
    let node = node_with_mids();
    let (alice, mallory) = (signer(1), signer(9));
    let model = toy::model(1);
    let init = toy::init(&alice, &model, 0, Ipld::Integer(1));
    assert_eq!(post_event(&node.router, &init).await.0, StatusCode::NO_CONTENT);
    let stream = StreamId::new(ceramic_streamid::StreamType::MID, init.cid).unwrap();
    let before = node.storage.stats().unwrap();
    let (_, head) = get(&node.router, "/ceramic/feed/resumeToken").await;
    let cases = [
        // Content that breaks the (stand-in) schema, in an init and in a data event.
        (toy::init(&alice, &model, 1, Ipld::String("bad".into())), "schema"),
        (toy::update(&alice, init.cid, init.cid, Ipld::String("bad".into())), "schema"),
        // Signed by someone else than the controller.
        (toy::update(&mallory, init.cid, init.cid, Ipld::Integer(2)), "controller"),
        // Not on the tip.
        (
            toy::update(
                &alice,
                init.cid,
                ceramic_codecs::cid_of(0x71, b"elsewhere"),
                Ipld::Integer(2),
            ),
            "",
        ),
    ];
    for (made, expected) in cases {
        let (status, body) = post_event(&node.router, &made).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.starts_with("Failed to insert event") && message.contains(expected),
            "{message}"
        );
    }
    // A time event whose proof does not check out (the chain does not know its transaction).
    let other_chain = FakeAnchorVerifier::default();
    let time = anchor(&other_chain, &stream, init.cid, 5);
    let (status, body) = post_event(&node.router, &time).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // A CAR whose root is the payload, not the signed event: an unsigned init event, which
    // the controller did not sign.
    let payload = &init.blocks[1];
    let body =
        json!({"data": encode_multibase(&write_car(&[*payload.cid()], &init.blocks).unwrap())})
            .to_string();
    let (status, answer) = call(&node.router, Method::POST, "/ceramic/events", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    // A valid event with a block it does not use smuggled into its CAR, and one with a block
    // twice: refused by the strict decoder (`ceramic_event::Event::decode_car`), not stored.
    let fresh = toy::init(&alice, &model, 7, Ipld::Integer(7));
    let stray = Block::encode(Codec::DagCbor, &"stray").unwrap();
    let mut with_stray = fresh.blocks.clone();
    with_stray.push(stray.clone());
    let mut twice = fresh.blocks.clone();
    twice.push(fresh.blocks[0].clone());
    for (blocks, expected) in [(with_stray, "does not use"), (twice, "twice")] {
        let body = json!({"data": encode_multibase(&write_car(&[fresh.cid], &blocks).unwrap())})
            .to_string();
        let (status, answer) = call(&node.router, Method::POST, "/ceramic/events", &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(message.starts_with("Invalid event") && message.contains(expected), "{message}");
    }
    assert!(node.storage.block(&stray.cid().clone()).unwrap().is_none(), "stray not stored");
    assert_eq!(node.storage.stats().unwrap(), before, "nothing stored");
    assert_eq!(
        get(&node.router, "/ceramic/feed/resumeToken").await.1,
        head,
        "the feed did not move"
    );
    // The same event without the stray block is stored.
    assert_eq!(post_event(&node.router, &fresh).await.0, StatusCode::NO_CONTENT);
}
