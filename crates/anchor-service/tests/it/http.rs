//! The CAS HTTP API, driven by hyper's HTTP/1 client over a real socket: status codes, the
//! exact `CASResponse` shape, the witness CAR, bad input and the body size limit.

use std::net::SocketAddr;

use base64::Engine as _;
use ceramic_anchor::Witness;
use ceramic_anchor_service::{CAR_CONTENT_TYPE, Cas, Policy, http};
use ceramic_codecs::{Block, Codec, Ipld, write_car};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::{commit, fixture, stream};

/// A server on a free port, stopped on drop.
struct Server {
    addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn serve(cas: Cas) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(http::serve(listener, cas, async move {
        stopped.await.ok();
    }));
    Server { addr, _stop: stop }
}

/// Sends one request on a new connection; returns the status, content type and body.
async fn send(
    addr: SocketAddr,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Option<String>, Vec<u8>) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let mut request = Request::builder().method(method).uri(path).header("host", addr.to_string());
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    let response =
        sender.send_request(request.body(Full::new(Bytes::from(body))).unwrap()).await.unwrap();
    let status = response.status();
    let content_type =
        response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, content_type, body)
}

async fn post_json(addr: SocketAddr, body: &Value) -> (StatusCode, Value) {
    let (status, content_type, body) = send(
        addr,
        Method::POST,
        "/api/v0/requests",
        Some("application/json"),
        body.to_string().into_bytes(),
    )
    .await;
    assert_eq!(content_type.as_deref(), Some("application/json"));
    (status, serde_json::from_slice(&body).unwrap())
}

async fn get_json(addr: SocketAddr, path: &str) -> (StatusCode, Value) {
    let (status, _, body) = send(addr, Method::GET, path, None, Vec::new()).await;
    (status, serde_json::from_slice(&body).unwrap())
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

fn request_body(n: u8, m: u8) -> Value {
    json!({
        "streamId": stream(n).to_string(),
        "cid": commit(n, m).to_string(),
        "timestamp": "2024-01-02T03:04:05.678Z",
        "jsCeramicVersion": "5.0.0",
    })
}

#[tokio::test]
async fn a_new_request_is_201_a_repeat_202_and_both_are_the_cas_response() {
    let f = fixture(Policy::default());
    let server = serve(f.cas.clone()).await;
    let (status, created) = post_json(server.addr, &request_body(1, 0)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        keys(&created),
        ["cid", "createdAt", "id", "message", "status", "streamId", "updatedAt"]
    );
    assert_eq!(created["status"], "PENDING");
    assert_eq!(created["streamId"], stream(1).to_string());
    assert_eq!(created["cid"], commit(1, 0).to_string());
    assert_eq!(created["id"], commit(1, 0).to_string());
    assert_eq!(created["createdAt"], 1_000_000);
    assert_eq!(created["updatedAt"], 1_000_000);
    assert!(created["message"].is_string());

    f.clock.advance_ms(10);
    let (status, again) = post_json(server.addr, &request_body(1, 0)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(again, created);
    let path = format!("/api/v0/requests/{}", commit(1, 0));
    assert_eq!(get_json(server.addr, &path).await, (StatusCode::OK, created));

    // A newer commit of the stream replaces it.
    post_json(server.addr, &request_body(1, 1)).await;
    let (_, replaced) = get_json(server.addr, &path).await;
    assert_eq!(replaced["status"], "REPLACED");
    assert_eq!(replaced["message"], format!("Replaced by {}", commit(1, 1)));
    assert_eq!(replaced["updatedAt"], 1_000_010);
}

#[tokio::test]
async fn a_completed_request_carries_its_anchor_commit_and_a_witness_car_the_chain_confirms() {
    let f = fixture(Policy::default());
    let server = serve(f.cas.clone()).await;
    for n in 1..=3 {
        assert_eq!(post_json(server.addr, &request_body(n, 0)).await.0, StatusCode::CREATED);
    }
    let (status, _, body) =
        send(server.addr, Method::POST, "/api/v0/anchors", None, Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    let trigger: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(trigger["anchored"], 3);
    assert_eq!(f.chain.height(), 1);

    for n in 1..=3 {
        let (status, done) =
            get_json(server.addr, &format!("/api/v0/requests/{}", commit(n, 0))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            keys(&done),
            [
                "anchorCommit",
                "cid",
                "createdAt",
                "id",
                "message",
                "status",
                "streamId",
                "updatedAt",
                "witnessCar"
            ]
        );
        assert_eq!(done["status"], "COMPLETED");
        let car_text = done["witnessCar"].as_str().unwrap();
        assert!(!car_text.contains('='), "base64 without padding");
        let car = base64::engine::general_purpose::STANDARD_NO_PAD.decode(car_text).unwrap();
        let witness = Witness::from_car(&car).unwrap();
        assert_eq!(done["anchorCommit"], json!({"cid": witness.cid().to_string()}));
        assert_eq!(witness.commit().prev, commit(n, 0));
        assert_eq!(witness.commit().id, Some(stream(n).cid()));
        assert_eq!(witness.proof().tx_hash.to_string(), trigger["txHash"].as_str().unwrap());
        f.chain.check(witness.proof()).unwrap();
    }
    let (_, _, body) = send(server.addr, Method::POST, "/api/v0/anchors", None, Vec::new()).await;
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), json!({"anchored": 0}));
}

#[tokio::test]
async fn a_car_body_is_accepted() {
    let f = fixture(Policy::default());
    let server = serve(f.cas.clone()).await;
    let root = Ipld::Map(
        [
            ("streamId".to_owned(), Ipld::Bytes(stream(7).to_bytes())),
            ("tip".to_owned(), Ipld::Link(commit(7, 0))),
            ("timestamp".to_owned(), Ipld::String("2024-01-02T03:04:05.678Z".into())),
        ]
        .into_iter()
        .collect(),
    );
    let block = Block::encode(Codec::DagCbor, &root).unwrap();
    let car = write_car(&[*block.cid()], [&block]).unwrap();
    let (status, _, body) =
        send(server.addr, Method::POST, "/api/v0/requests", Some(CAR_CONTENT_TYPE), car).await;
    assert_eq!(status, StatusCode::CREATED);
    let created: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(created["cid"], commit(7, 0).to_string());
    assert_eq!(created["streamId"], stream(7).to_string());
}

#[tokio::test]
async fn bad_input_is_400_unknown_is_404_oversized_is_413_and_nothing_is_stored() {
    let f = fixture(Policy::default());
    let server = serve(f.cas.clone()).await;
    let sid = stream(1).to_string();
    let cid = commit(1, 0).to_string();
    let bad: Vec<(Option<&str>, Vec<u8>, &str)> = vec![
        (Some("application/json"), b"{not json".to_vec(), "bad JSON"),
        (Some("application/json"), json!({"cid": cid}).to_string().into_bytes(), "no streamId"),
        (
            Some("application/json"),
            json!({"streamId": sid, "cid": 12}).to_string().into_bytes(),
            "cid not a string",
        ),
        (
            Some("application/json"),
            json!({"streamId": "k2t6wyfsu", "cid": cid}).to_string().into_bytes(),
            "bad streamId",
        ),
        (
            Some("application/json"),
            json!({"streamId": sid, "cid": "bafy"}).to_string().into_bytes(),
            "bad cid",
        ),
        (
            Some("application/json"),
            json!({"streamId": sid, "cid": cid, "timestamp": "soon"}).to_string().into_bytes(),
            "bad timestamp",
        ),
        (Some(CAR_CONTENT_TYPE), b"\x0anot a car".to_vec(), "bad CAR"),
        (
            Some("text/plain"),
            json!({"streamId": sid, "cid": cid}).to_string().into_bytes(),
            "wrong content type",
        ),
    ];
    for (content_type, body, what) in bad {
        let (status, reply_type, reply) =
            send(server.addr, Method::POST, "/api/v0/requests", content_type, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}");
        assert_eq!(reply_type.as_deref(), Some("application/json"), "{what}");
        let reply: Value = serde_json::from_slice(&reply).unwrap();
        assert_eq!(keys(&reply), ["error"], "{what}");
        assert!(!reply["error"].as_str().unwrap().is_empty(), "{what}");
    }

    let mut huge = br#"{"streamId":""#.to_vec();
    huge.resize(ceramic_anchor_service::MAX_BODY + 1, b'a');
    let (status, _, reply) =
        send(server.addr, Method::POST, "/api/v0/requests", Some("application/json"), huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(serde_json::from_slice::<Value>(&reply).unwrap()["error"].is_string());

    let (status, reply) = get_json(server.addr, &format!("/api/v0/requests/{cid}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(keys(&reply), ["error"]);
    let (status, reply) = get_json(server.addr, "/api/v0/requests/not-a-cid").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(keys(&reply), ["error"]);
    assert!(f.cas.pending(10).unwrap().is_empty(), "nothing was stored");
    assert!(f.cas.trigger().unwrap().is_none());
}

#[tokio::test]
async fn supported_chains_and_healthcheck() {
    let f = fixture(Policy::default());
    let server = serve(f.cas.clone()).await;
    let (status, chains) = get_json(server.addr, "/api/v0/service-info/supported_chains").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(chains, json!({"supportedChains": ["inmemory:12345"]}));
    let (status, _, body) =
        send(server.addr, Method::GET, "/api/v0/healthcheck", None, Vec::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty());
    let (status, _, _) = send(server.addr, Method::GET, "/api/v0/nothing", None, Vec::new()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
