//! A node anchoring through a remote CAS that cannot be trusted: the library's anchor service
//! on a dev chain whose file the node shares (so the node can check its proofs), behind an
//! HTTP front that answers honestly or lies. (The real binary on anvil is tested in
//! `bins/anchor-service/tests/remote_nodes.rs`.)
//!
//! - Honest: the request is kept, polled, and the anchor applied (ANCHORED on
//!   `inmemory:12345`); the request is forgotten.
//! - A witness CAR without its proof: not applied, tried 5 times, then given up; the stream
//!   stays unanchored and nothing is kept.
//! - An answer about another commit: the anchor request fails `UNAVAILABLE`, nothing is kept.
//! - A CAS that forgets a request (404): the node sends it again.
//! - Each applied anchor is an `anchored` hook event: the example webhook hook posts it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ceramic_anchor::DevChain;
use ceramic_anchor_service::{Cas, CasBuilder, MemoryStore, parse_json};
use ceramic_codecs::{Cid, GenesisCommit, Header, Ipld, Payload, Unique, read_car, write_car};
use ceramic_core::{Node, NodeConfig};
use ceramic_did::{KeySigner, KeyType, Signer, sign_commit};
use ceramic_doctype_tile::Tile;
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{self, CommitRequest, LoadStreamRequest};
use serde_json::Value;
use tonic::transport::Channel;

const TIMEOUT: Duration = Duration::from_secs(60);

const HONEST: u8 = 0;
const NO_PROOF: u8 = 1;
const OTHER_COMMIT: u8 = 2;
const FORGET: u8 = 3;

/// The HTTP front of the CAS: the library service, and how it lies.
#[derive(Clone)]
struct Front {
    cas: Cas,
    mode: Arc<AtomicU8>,
    posts: Arc<AtomicUsize>,
    gets: Arc<AtomicUsize>,
    /// What the webhook hook posted.
    hooked: Arc<std::sync::Mutex<Vec<String>>>,
}

async fn hook(State(front): State<Front>, body: String) -> StatusCode {
    front.hooked.lock().unwrap().push(body);
    StatusCode::OK
}

fn json(status: StatusCode, body: &Value) -> Response {
    (status, [("content-type", "application/json")], body.to_string()).into_response()
}

async fn create(State(front): State<Front>, body: Bytes) -> Response {
    front.posts.fetch_add(1, Ordering::SeqCst);
    let request = parse_json(&body).unwrap();
    let submitted = front.cas.request(&request).unwrap();
    let mut body = submitted.record.to_json();
    if front.mode.load(Ordering::SeqCst) == OTHER_COMMIT {
        body["cid"] = ceramic_codecs::cid_of(0x71, b"another commit").to_string().into();
    }
    json(StatusCode::CREATED, &body)
}

async fn lookup(State(front): State<Front>, Path(cid): Path<String>) -> Response {
    front.gets.fetch_add(1, Ordering::SeqCst);
    let cid: Cid = cid.parse().unwrap();
    let mode = front.mode.load(Ordering::SeqCst);
    let Some(record) = front.cas.get(&cid).unwrap().filter(|_| mode != FORGET) else {
        return json(StatusCode::NOT_FOUND, &serde_json::json!({ "error": "Request not found" }));
    };
    let mut body = record.to_json();
    if mode == NO_PROOF
        && let Some(car) = &record.witness_car
    {
        // Keep the anchor commit; drop its proof (and the Merkle nodes of the path).
        let car = read_car(car).unwrap();
        let kept: Vec<_> = car.blocks.iter().take(1).collect();
        let cut = write_car(&car.roots, kept).unwrap();
        use base64::Engine as _;
        body["witnessCar"] = base64::engine::general_purpose::STANDARD_NO_PAD.encode(cut).into();
    }
    json(StatusCode::OK, &body)
}

async fn chains(State(front): State<Front>) -> Response {
    json(StatusCode::OK, &serde_json::json!({ "supportedChains": front.cas.supported_chains() }))
}

/// Serves the front on a free port; its URL.
async fn serve(front: Front) -> String {
    let router = axum::Router::new()
        .route("/api/v0/requests", post(create))
        .route("/api/v0/requests/{cid}", get(lookup))
        .route("/api/v0/service-info/supported_chains", get(chains))
        .route("/hook", post(hook))
        .with_state(front);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

async fn write(client: &mut NodeClient<Channel>, signer: &KeySigner, unique: &str) -> String {
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

async fn state(client: &mut NodeClient<Channel>, id: &str) -> Value {
    let request = LoadStreamRequest { id: id.to_owned(), at_time: None };
    let state = client.load_stream(request).await.unwrap().into_inner().state.unwrap();
    serde_json::from_str(&state.state_json).unwrap()
}

async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_applies_only_what_the_remote_cas_proves() {
    let dir = tempfile::tempdir().unwrap();
    let dev_chain = dir.path().join("dev-chain");
    let chain = Arc::new(DevChain::open(&dev_chain).unwrap());
    let cas = CasBuilder::new(Arc::new(MemoryStore::new()), chain).open().unwrap();
    let front = Front {
        cas: cas.clone(),
        mode: Arc::new(AtomicU8::new(HONEST)),
        posts: Arc::new(AtomicUsize::new(0)),
        gets: Arc::new(AtomicUsize::new(0)),
        hooked: Arc::default(),
    };
    let url = serve(front.clone()).await;

    let text = format!(
        "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\nsync = false\n\
         min_free_bytes = 67108864\nshutdown_grace_secs = 2\n[p2p]\nenabled = false\n\
         [anchoring]\nchain = \"remote\"\ncas_url = {url:?}\npoll_interval_secs = 1\n\
         dev_chain_file = {:?}\n\
         [[hooks]]\nname = \"notify\"\nmodule = {:?}\nevents = [\"anchored\"]\n\
         allow_http = [\"{url}/hook\"]\nconfig = {{ url = \"{url}/hook\" }}\n",
        dir.path().join("node").display().to_string(),
        dev_chain.display().to_string(),
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tools/hooks/build/webhook.wasm")
            .display()
            .to_string(),
    );
    let node = Node::builder(NodeConfig::parse(&text).unwrap())
        .with_doctype(Tile::new())
        .start()
        .await
        .unwrap();
    assert!(node.cas().is_none(), "no embedded anchor service");
    let requester = node.remote_anchors().unwrap().clone();
    let grpc = format!("http://{}", node.grpc_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(node.run(async move {
        let _ = stopped.await;
    }));
    let mut client = NodeClient::connect(grpc).await.unwrap();
    let signer = KeySigner::from_seed(KeyType::Ed25519, &[43; 32]).unwrap();
    let anchor = |stream: &str| v1::AnchorStreamRequest { stream_id: stream.to_owned() };
    let kept = || requester.pending().unwrap().len();

    // Honest: kept, anchored, forgotten.
    let honest = write(&mut client, &signer, "honest").await;
    client.request_anchor(anchor(&honest)).await.unwrap();
    assert_eq!(kept(), 1);
    cas.trigger().unwrap().expect("a batch");
    eventually("the honest anchor applied", async || {
        state(&mut client, &honest).await["anchorStatus"] == "ANCHORED"
    })
    .await;
    assert_eq!(state(&mut client, &honest).await["anchorProof"]["chainId"], "inmemory:12345");
    eventually("the honest request forgotten", async || kept() == 0).await;
    eventually("the anchor posted by the webhook hook", async || {
        let hooked = front.hooked.lock().unwrap();
        hooked.iter().any(|body| body.contains("\"event\":\"anchored\"") && body.contains(&honest))
    })
    .await;

    // A witness without its proof: tried, then given up; the stream is not anchored.
    front.mode.store(NO_PROOF, Ordering::SeqCst);
    let unproven = write(&mut client, &signer, "unproven").await;
    client.request_anchor(anchor(&unproven)).await.unwrap();
    cas.trigger().unwrap().expect("a batch");
    let before = front.gets.load(Ordering::SeqCst);
    eventually("the unproven anchor given up", async || kept() == 0).await;
    assert!(front.gets.load(Ordering::SeqCst) - before >= 5, "asked at least 5 times");
    assert_ne!(state(&mut client, &unproven).await["anchorStatus"], "ANCHORED");

    // Another commit: the request fails, nothing is kept.
    front.mode.store(OTHER_COMMIT, Ordering::SeqCst);
    let other = write(&mut client, &signer, "other").await;
    let status = client.request_anchor(anchor(&other)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert_eq!(kept(), 0);

    // A CAS that forgets: the node asks again while the commit is the tip.
    front.mode.store(FORGET, Ordering::SeqCst);
    let forgotten = write(&mut client, &signer, "forgotten").await;
    let posts = front.posts.load(Ordering::SeqCst);
    client.request_anchor(anchor(&forgotten)).await.unwrap();
    eventually("the forgotten request sent again", async || {
        front.posts.load(Ordering::SeqCst) >= posts + 2
    })
    .await;
    front.mode.store(HONEST, Ordering::SeqCst);
    cas.trigger().unwrap().expect("a batch");
    eventually("the forgotten request anchored", async || {
        state(&mut client, &forgotten).await["anchorStatus"] == "ANCHORED"
    })
    .await;

    drop(client);
    stop.send(()).unwrap();
    tokio::time::timeout(TIMEOUT, task).await.unwrap().unwrap().unwrap();
}
