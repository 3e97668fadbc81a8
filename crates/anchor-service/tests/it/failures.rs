//! A store that fails: the HTTP API answers 503 `{error}` (healthcheck 503, empty), gRPC
//! answers `UNAVAILABLE`, and nothing is stored.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ceramic_anchor::DevChain;
use ceramic_anchor_service::{
    CasBuilder, Column, Entries, MemoryStore, Op, RocksStore, Store, StoreError, grpc, http,
};
use ceramic_proto::v1::RequestAnchorRequest;
use ceramic_proto::v1::anchor_service_client::AnchorServiceClient;

use crate::{commit, stream};

/// A memory store whose every call fails with a real RocksDB error while `down` is set.
#[derive(Debug)]
struct Failing {
    inner: MemoryStore,
    down: AtomicBool,
    error: rocksdb::Error,
}

impl Failing {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Rocks(self.error.clone()));
        }
        Ok(())
    }
}

impl Store for Failing {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.check()?;
        self.inner.get(column, key)
    }
    fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        self.check()?;
        self.inner.write(ops)
    }
    fn scan(&self, column: Column, prefix: &[u8], limit: usize) -> Result<Entries, StoreError> {
        self.check()?;
        self.inner.scan(column, prefix, limit)
    }
}

/// A real RocksDB error: opening a database under a regular file.
fn rocks_error() -> rocksdb::Error {
    let file = tempfile::NamedTempFile::new().unwrap();
    match RocksStore::open(file.path().join("db")) {
        Err(StoreError::Open { source, .. }) => source,
        other => panic!("expected an open error, got {other:?}"),
    }
}

async fn raw_http(addr: std::net::SocketAddr, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    reply
}

#[tokio::test]
async fn a_failing_store_is_503_over_http_and_unavailable_over_grpc() {
    let store = Arc::new(Failing {
        inner: MemoryStore::new(),
        down: AtomicBool::new(false),
        error: rocks_error(),
    });
    let cas = CasBuilder::new(store.clone(), Arc::new(DevChain::new())).open().unwrap();
    store.down.store(true, Ordering::SeqCst);

    let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http_addr = http_listener.local_addr().unwrap();
    tokio::spawn(http::serve(http_listener, cas.clone(), std::future::pending()));
    let health = raw_http(
        http_addr,
        "GET /api/v0/healthcheck HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 503"), "{health}");
    let body =
        serde_json::json!({"streamId": stream(1).to_string(), "cid": commit(1, 0).to_string()})
            .to_string();
    let post = raw_http(
        http_addr,
        &format!(
            "POST /api/v0/requests HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert!(post.starts_with("HTTP/1.1 503"), "{post}");
    let reply: serde_json::Value =
        serde_json::from_str(post.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert!(reply["error"].as_str().unwrap().contains("rocksdb"), "{reply}");

    let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let grpc_addr = grpc_listener.local_addr().unwrap();
    tokio::spawn(grpc::serve(grpc_listener, cas.clone(), std::future::pending()));
    let mut client = AnchorServiceClient::connect(format!("http://{grpc_addr}")).await.unwrap();
    let request = RequestAnchorRequest {
        stream_id: stream(1).to_string(),
        cid: commit(1, 0).to_string(),
        timestamp_ms: None,
    };
    let status = client.request_anchor(request).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unavailable);

    store.down.store(false, Ordering::SeqCst);
    assert!(cas.get(&commit(1, 0)).unwrap().is_none(), "nothing was stored");
    assert!(cas.trigger().unwrap().is_none());
}
