//! What the node tests share: plain HTTP/1.1 requests to a node's API listener.

#![allow(dead_code, reason = "each test crate uses a part of this module")]

use std::net::SocketAddr;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// One HTTP/1.1 request (`Connection: close`): the status code and the body as text.
pub(crate) async fn http_text(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

/// One HTTP/1.1 request with an optional JSON body: the status code and the body as JSON (a
/// JSON string when it is not JSON).
pub(crate) async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let body = body.map(Value::to_string).unwrap_or_default();
    let (status, text) = http_text(addr, method, path, &body).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A GET that must answer 200: its body.
pub(crate) async fn http_get(addr: SocketAddr, path: &str) -> String {
    let (status, body) = http_text(addr, "GET", path, "").await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}
