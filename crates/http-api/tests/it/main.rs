//! Integration tests of `ceramic-http-api` through its public API: the router driven in
//! process (tower `oneshot`, no sockets) over a node with in-memory storage and the Tile
//! doctype, and the serialized-commit conversions against the JS golden vectors. One admin test
//! serves the router on a local port for the real JS client (`tools/http-client/admin.mjs`).

mod admin;
mod hostile;
mod routes;
mod serialize;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use ceramic_codecs::{Cid, Payload};
use ceramic_did::{KeySigner, KeyType, SignedCommit, sign_commit};
use ceramic_doctype::{AnchorStatus, Registry, StreamState};
use ceramic_doctype_tile::{GenesisOptions, Tile, genesis_payload, update_payload};
use ceramic_engine::Engine;
use ceramic_engine::memory::{FakeAnchorVerifier, RecordingPublisher};
use ceramic_http_api::Api;
use ceramic_service::{
    AnchorFuture, AnchorRequestError, AnchorRequester, Info, Service, ServiceBuilder,
};
use ceramic_storage::{MemoryStorage, Storage};
use ceramic_streamid::StreamId;
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// A node over in-memory storage, with its router.
pub(crate) struct TestNode {
    pub(crate) storage: Arc<MemoryStorage>,
    pub(crate) router: Router,
    pub(crate) signer: KeySigner,
}

impl TestNode {
    pub(crate) fn new() -> TestNode {
        TestNode::with(|api| api)
    }

    pub(crate) fn with(configure: impl FnOnce(Api) -> Api) -> TestNode {
        TestNode::build(|service| service, configure)
    }

    /// A node whose service is configured by `service` (e.g. with an anchor requester).
    pub(crate) fn with_service(service: impl FnOnce(ServiceBuilder) -> ServiceBuilder) -> TestNode {
        TestNode::build(service, |api| api)
    }

    pub(crate) fn build(
        service: impl FnOnce(ServiceBuilder) -> ServiceBuilder,
        configure: impl FnOnce(Api) -> Api,
    ) -> TestNode {
        let storage = Arc::new(MemoryStorage::new());
        let mut registry = Registry::new();
        registry.register(Tile::new()).expect("tile registers");
        let engine = Engine::new(
            storage.clone(),
            registry,
            Arc::new(FakeAnchorVerifier::default()),
            Arc::new(RecordingPublisher::default()),
        );
        let storage_dyn: Arc<dyn Storage> = storage.clone();
        let builder = Service::builder(Arc::new(engine), storage_dyn).with_info(Info::new("test"));
        let service = service(builder).build();
        let router = configure(Api::new(service)).router();
        let signer = KeySigner::from_seed(KeyType::Ed25519, &[7; 32]).expect("seed");
        TestNode { storage, router, signer }
    }

    /// Sends a request; the status and the body (JSON if it parses, else a string).
    pub(crate) async fn send(
        &self,
        method: Method,
        uri: &str,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(body.map_or_else(Body::empty, Body::from)).expect("request");
        let response = self.router.clone().oneshot(request).await.expect("infallible");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    pub(crate) async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.send(Method::GET, uri, None).await
    }

    pub(crate) async fn post(&self, uri: &str, body: &Value) -> (StatusCode, Value) {
        self.send(Method::POST, uri, Some(body.to_string().into_bytes())).await
    }

    pub(crate) fn did(&self) -> String {
        self.signer.did_key().did().to_string()
    }

    /// A signed Tile genesis with `content`.
    pub(crate) fn genesis(&self, content: &Value, unique: &str) -> SignedCommit {
        let options = GenesisOptions { unique: Some(unique.into()), ..GenesisOptions::default() };
        let payload = genesis_payload(&self.did(), Some(content), &options).expect("payload");
        sign_commit(&self.signer, &payload).expect("signs")
    }

    /// A signed update of the state (in js serialized form) to `content`.
    pub(crate) fn update(&self, state: &Value, content: &Value) -> SignedCommit {
        let state = StreamState::from_js_json(state).expect("state");
        let payload: Payload = update_payload(&state, content).expect("payload");
        sign_commit(&self.signer, &payload).expect("signs")
    }

    /// Creates a stream; its StreamID and state.
    pub(crate) async fn create(&self, content: &Value, unique: &str) -> (StreamId, Value) {
        let genesis = self.genesis(content, unique);
        let (status, body) = self
            .post("/api/v0/streams", &json!({"type": 0, "genesis": genesis.to_dag_jws_result()}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = body["streamId"].as_str().expect("streamId").parse().expect("a StreamID");
        (id, body["state"].clone())
    }

    /// How many streams are stored.
    pub(crate) fn stream_count(&self) -> usize {
        self.storage.streams(None, 1000).expect("reads").streams.len()
    }

    pub(crate) fn has_block(&self, cid: &Cid) -> bool {
        self.storage.block(cid).expect("reads").is_some()
    }
}

/// An anchor requester that records requests and answers PENDING, or fails.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    pub(crate) calls: Mutex<Vec<(StreamId, Cid)>>,
    pub(crate) fail: bool,
}

impl AnchorRequester for Recorder {
    fn request_anchor(&self, stream: StreamId, tip: Cid) -> AnchorFuture<'_> {
        self.calls.lock().expect("lock").push((stream, tip));
        let fail = self.fail;
        Box::pin(async move {
            if fail {
                Err(AnchorRequestError::Unavailable("down".into()))
            } else {
                Ok(AnchorStatus::Pending)
            }
        })
    }
}
