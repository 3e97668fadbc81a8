//! Hostile input to `/api/v0`: ids far longer than any id (refused on their length before any
//! decoding, `specs/streamid.md` § Limits), an oversized signed genesis (refused naming its
//! size), and multiquery paths nested deeper than a stack.

use axum::http::{Method, StatusCode};
use ceramic_codecs::MAX_BLOCK_SIZE;
use serde_json::{Value, json};

use crate::TestNode;

/// Just under the 1 MiB body limit once wrapped in `{"streamId": …, "commit": …}`.
const LONG: usize = 1024 * 1024 - 2048;

/// Base36 digits all along (`k` then `z`s): before the length limit, this decoded for over a
/// minute of CPU (quadratic) before being refused.
fn long_id(len: usize) -> String {
    format!("k{}", "z".repeat(len - 1))
}

fn error_of(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_else(|| panic!("no `error` in {body}"))
}

#[tokio::test]
async fn a_1_mib_stream_id_is_answered_400_naming_its_length() {
    let node = TestNode::new();
    let (id, state) = node.create(&json!({"a": 1}), "aG9zdGlsZQ").await;
    let update = node.update(&state, &json!({"a": 2}));
    let long = long_id(LONG);
    let too_long = format!("{LONG} bytes is longer than the 443");

    let body = json!({"streamId": long, "commit": update.to_dag_jws_result()});
    let (status, response) = node.post("/api/v0/commits", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{response}");
    assert!(error_of(&response).contains(&too_long), "{response}");

    let body = json!({"queries": [{"streamId": id.to_string()}, {"streamId": long}]});
    let (status, response) = node.post("/api/v0/multiqueries", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{response}");
    assert!(error_of(&response).contains(&too_long), "{response}");

    // A URI is at most 64 KiB (the `http` crate's limit; hyper's is lower still), so the
    // longest id a path can carry is that.
    let path_len = 60_000;
    let too_long = format!("{path_len} bytes is longer than the 443");
    for route in ["/api/v0/streams/{}", "/api/v0/streams/{}/content", "/api/v0/commits/{}"] {
        let uri = route.replace("{}", &long_id(path_len));
        let (status, response) = node.get(&uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{route}: {response}");
        assert!(error_of(&response).contains(&too_long), "{route}: {response}");
    }
    let uri = format!("/api/v0/streams/{}/anchor", long_id(path_len));
    let (status, response) = node.send(Method::POST, &uri, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{response}");

    // A 1 MiB CID where a commit's `jws.link` goes.
    let mut commit = update.to_dag_jws_result();
    commit["jws"]["link"] = Value::String(format!("b{}", "a".repeat(LONG - 2048)));
    let (status, response) =
        node.post("/api/v0/commits", &json!({"streamId": id.to_string(), "commit": commit})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{response}");

    // Nothing was written, and the node still answers.
    let (status, loaded) = node.get(&format!("/api/v0/streams/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{loaded}");
    assert_eq!(loaded["state"]["log"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn an_oversized_signed_genesis_is_refused_naming_its_size() {
    let node = TestNode::new();
    let mut genesis = node.genesis(&json!({"a": 1}), "YmlnZ2Vy").to_dag_jws_result();
    // What a js client sends for a genesis whose payload is over the block limit.
    let size = MAX_BLOCK_SIZE + 44_000;
    genesis["linkedBlock"] = Value::String("A".repeat(size / 3 * 4));
    let (status, response) =
        node.post("/api/v0/streams", &json!({"type": 0, "genesis": genesis})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{response}");
    let error = error_of(&response);
    assert!(error.contains(&format!("block of {size} bytes is larger than the {MAX_BLOCK_SIZE}")));
    assert!(!error.contains("does not hash"), "{error}");
    assert_eq!(node.stream_count(), 0);
}

#[tokio::test]
async fn multiquery_paths_deeper_than_the_limit_are_refused() {
    let node = TestNode::new();
    let (id, _) = node.create(&json!({"a": 1}), "ZGVlcA").await;
    // 400,000 levels: a path trie that deep overflowed the stack when it was dropped.
    let deep = "a/".repeat(400_000);
    let body = json!({"queries": [{"streamId": id.to_string(), "paths": [deep]}]});
    let (status, response) = node.post("/api/v0/multiqueries", &body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{response}");
    assert!(error_of(&response).contains("queries[].paths[]"), "{response}");
    // A path as deep as the limit still works.
    let path = vec!["a"; ceramic_http_api::request::MAX_PATH_DEPTH].join("/");
    let body = json!({"queries": [{"streamId": id.to_string(), "paths": [path]}]});
    let (status, response) = node.post("/api/v0/multiqueries", &body).await;
    assert_eq!(status, StatusCode::OK, "{response}");
}
