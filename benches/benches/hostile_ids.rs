//! `hostile_ids`: what a 1 MiB id costs the node now that every id is refused on its length
//! before any decoding (`specs/streamid.md` § Limits). Before the limit, base36 decoding was
//! quadratic: 300,000 characters cost 6 s of CPU and 1 MiB over a minute (issue 15).
//!
//! - `parse/*`: `StreamRef::from_str` on 1 MiB of base36 text, `StreamRef::from_bytes` on
//!   1 MiB of bytes, `cid_from_str` on 1 MiB of base58btc text, and for scale the longest valid
//!   CommitID text (286 characters, a real quadratic base36 decode of the longest input allowed).
//! - `http/*`: a node (`ceramic_core::Node`, RocksDB in a temporary directory, the Tile doctype)
//!   served in process on `127.0.0.1:0`, and one keep-alive HTTP/1 connection sending
//!   `POST /api/v0/commits` with `{"streamId": "<1 MiB - 2 KiB of base36>", "commit": …}`
//!   (just under the 1 MiB body limit); each answer must be a 400. `http/1MiB_streamId_cpu`
//!   is the CPU time of the whole bench process per request (the sum of
//!   `/proc/self/task/*/schedstat`, nanoseconds on CPU, over every thread: the node's runtime
//!   and the client's, so an upper bound on the node's share), `http/1MiB_streamId_wall` the
//!   wall-clock round trip. Linux only (`/proc`).
//!
//! Run: `cargo bench -p ceramic-benches --bench hostile_ids`. Figures: `benches/README.md`.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ceramic_core::{Node, NodeConfig};
use ceramic_doctype_tile::Tile;
use ceramic_streamid::{StreamRef, cid_from_str};
use criterion::{Criterion, Throughput};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

const GROUP: &str = "hostile_ids";
const MIB: usize = 1024 * 1024;

/// The CPU time of this process so far: every thread's time on CPU, in nanoseconds, from
/// `/proc/self/task/<tid>/schedstat` (its first field).
fn process_cpu() -> Duration {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task").expect("/proc/self/task (Linux)") {
        let path = task.expect("a task").path().join("schedstat");
        // A thread that exited since the listing has no file any more.
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        total += text.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    }
    Duration::from_nanos(total)
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group(GROUP);
    let text = format!("k{}", "z".repeat(MIB - 1));
    let bytes = vec![0xce; MIB];
    let cid = format!("z{}", "2".repeat(MIB - 1));
    group.throughput(Throughput::Bytes(MIB as u64));
    group.bench_function("parse/1MiB_text", |b| {
        b.iter(|| black_box(black_box(text.as_str()).parse::<StreamRef>()).unwrap_err())
    });
    group.bench_function("parse/1MiB_bytes", |b| {
        b.iter(|| black_box(StreamRef::from_bytes(black_box(&bytes))).unwrap_err())
    });
    group.bench_function("parse/1MiB_cid_text", |b| {
        b.iter(|| black_box(cid_from_str(black_box(&cid))).unwrap_err())
    });
    // The longest valid id: 10-byte varints everywhere and 64-byte digests (286 characters).
    let longest = {
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]; // varint(u64::MAX)
        let mut bytes = vec![0xce, 0x01];
        bytes.extend(max);
        for fill in [0xff, 0xfe] {
            bytes.push(0x01);
            bytes.extend(max);
            bytes.extend(max);
            bytes.push(64);
            bytes.extend([fill; 64]);
        }
        StreamRef::from_bytes(&bytes).expect("the longest valid id").to_string()
    };
    assert_eq!(longest.len(), ceramic_streamid::MAX_ID_TEXT_LEN);
    group.throughput(Throughput::Bytes(longest.len() as u64));
    group.bench_function("parse/longest_valid_text", |b| {
        b.iter(|| black_box(black_box(longest.as_str()).parse::<StreamRef>()).expect("valid"))
    });
    group.finish();
}

/// One POST on the connection; its status.
async fn post(sender: &mut SendRequest<Full<Bytes>>, addr: SocketAddr, body: &Bytes) -> u16 {
    let request = hyper::Request::post("/api/v0/commits")
        .header("host", addr.to_string())
        .header("content-type", "application/json")
        .body(Full::new(body.clone()))
        .expect("a request");
    sender.ready().await.expect("the connection is usable");
    let response = sender.send_request(request).await.expect("an HTTP answer");
    let status = response.status().as_u16();
    response.into_body().collect().await.expect("the body");
    status
}

fn http(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (addr, stop, served) = runtime.block_on(async {
        let mut config = NodeConfig::local(dir.path());
        config.doctypes = Some(vec!["tile".into()]);
        let node = Node::builder(config).with_doctype(Tile::new()).start().await.expect("starts");
        let addr = node.http_addr().expect("an HTTP address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(node.run(async move {
            let _ = stopped.await;
        }));
        (addr, stop, served)
    });
    let mut sender = runtime.block_on(async {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connects");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
        tokio::spawn(connection);
        sender
    });
    let (_, update) = ceramic_benches::signed_tile_update(9);
    let id = format!("k{}", "z".repeat(MIB - 2048 - 1));
    let body = serde_json::json!({"streamId": id, "commit": update.to_dag_jws_result()});
    let body = Bytes::from(serde_json::to_vec(&body).expect("JSON"));
    // The streamId alone is 1 MiB - 2 KiB; the commit is about 1 KiB; the limit is 1 MiB.
    assert!(body.len() <= MIB, "{} bytes", body.len());
    assert_eq!(runtime.block_on(post(&mut sender, addr, &body)), 400);

    let mut group = c.benchmark_group(GROUP);
    group.throughput(Throughput::Elements(1));
    group.bench_function("http/1MiB_streamId_cpu", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = process_cpu();
                for _ in 0..iters {
                    assert_eq!(post(&mut sender, addr, &body).await, 400);
                }
                process_cpu() - start
            })
        })
    });
    group.bench_function("http/1MiB_streamId_wall", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    assert_eq!(post(&mut sender, addr, &body).await, 400);
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    drop(sender);
    let _ = stop.send(());
    runtime.block_on(served).expect("joins").expect("the node stops cleanly");
}

criterion::criterion_group!(benches, parse, http);
criterion::criterion_main!(benches);
