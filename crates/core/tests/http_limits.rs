//! The node's HTTP server under hostile and careless clients, over real TCP sockets on
//! 127.0.0.1 (and 127.0.0.2 as a second client address), against the whole node: slowloris
//! clients cut off after the header timeout, idle keep-alive connections closed, the
//! connection cap (idle connections make room, busy ones refuse), the per-IP cap, a shutdown
//! that does not wait for idle clients, bounded admin codes, parallel multiqueries within their
//! deadline, and the counters at `/metrics`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ceramic_core::{Node, NodeConfig};
use ceramic_doctype_tile::Tile;
use ceramic_net::{Config as NetConfig, Multiaddr};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};

/// The longest any single wait in these tests may take before it counts as a failure.
const PATIENCE: Duration = Duration::from_secs(5);
const HEALTH: &str = "GET /api/v0/node/healthcheck HTTP/1.1\r\nhost: node\r\n\r\n";

struct Running {
    http: SocketAddr,
    addrs: Vec<Multiaddr>,
    network: Option<ceramic_net::NetworkHandle>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), ceramic_core::Error>>,
    _dir: tempfile::TempDir,
}

impl Running {
    async fn start(http: &str) -> Running {
        Running::start_with(http, None).await
    }

    /// A node whose `[http]` table is `http` (TOML lines), with the network config `network`.
    async fn start_with(http: &str, network: Option<NetConfig>) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let mut config = NodeConfig::local(dir.path());
        config.http = NodeConfig::parse(&format!("[http]\n{http}")).unwrap().http;
        config.shutdown_grace_secs = 20;
        let mut builder = Node::builder(config).with_doctype(Tile::new());
        if let Some(network) = network {
            builder = builder.with_network_config(network);
        }
        let node = builder.start().await.unwrap();
        let http = node.http_addr().unwrap();
        let addrs = node.p2p_addrs();
        let network = node.network().cloned();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(node.run(async move {
            let _ = stopped.await;
        }));
        Running { http, addrs, network, stop: Some(stop), task, _dir: dir }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.http).await.unwrap()
    }

    /// A connection from 127.0.0.2 (another client address on the loopback).
    async fn connect_from_other_ip(&self) -> TcpStream {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from(([127, 0, 0, 2], 0))).unwrap();
        socket.connect(self.http).await.unwrap()
    }

    /// Stops the node; how long `run` took to return.
    async fn stop(mut self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(60), &mut self.task)
            .await
            .expect("the node stops within a minute")
            .unwrap()
            .unwrap();
        started.elapsed()
    }
}

/// Sends `request` and reads one answer: its status and body.
async fn exchange(tcp: &mut TcpStream, request: &str) -> (u16, String) {
    tcp.write_all(request.as_bytes()).await.unwrap();
    tokio::time::timeout(PATIENCE, read_answer(tcp)).await.expect("an answer in time")
}

async fn read_answer(tcp: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = tcp.read(&mut chunk).await.unwrap();
        assert!(
            n > 0,
            "the connection closed before an answer: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    let status: u16 = head[9..12].parse().unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 4096];
        let n = tcp.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the body was cut");
        buf.extend_from_slice(&chunk[..n]);
    }
    (status, String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned())
}

/// Whether the server closes `tcp` within `within` (EOF or reset), reading and dropping
/// whatever it sends first.
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let closed = async {
        let mut chunk = [0u8; 1024];
        loop {
            match tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, closed).await.is_ok()
}

/// A healthcheck on a new connection answers 200 within `PATIENCE`.
async fn healthy(node: &Running) {
    let mut tcp = node.connect().await;
    assert_eq!(exchange(&mut tcp, HEALTH).await.0, 200);
}

async fn metrics(node: &Running) -> String {
    let mut tcp = node.connect_from_other_ip().await;
    let (status, body) = exchange(&mut tcp, "GET /metrics HTTP/1.1\r\nhost: node\r\n\r\n").await;
    assert_eq!(status, 200);
    body
}

/// The value of the metric line starting with `name`.
fn counter(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_clients_are_cut_off_after_the_header_timeout() {
    let node = Running::start("header_timeout_ms = 400\nidle_timeout_ms = 30000").await;
    let mut clients = Vec::new();
    for _ in 0..20 {
        let tcp = node.connect().await;
        let (mut read, mut write) = tcp.into_split();
        // One byte of header every 100 ms, for as long as the server takes them.
        let trickle = tokio::spawn(async move {
            let _ = write.write_all(b"GET /api/v0/node/healthcheck HTTP/1.1\r\n").await;
            for _ in 0..600 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if write.write_all(b"x").await.is_err() {
                    return;
                }
            }
        });
        let closed = tokio::spawn(async move {
            let started = Instant::now();
            let mut chunk = [0u8; 1024];
            let cut = tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    match read.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                }
            })
            .await;
            cut.ok().map(|()| started.elapsed())
        });
        clients.push((trickle, closed));
    }
    // The node keeps serving while they trickle.
    healthy(&node).await;
    for (trickle, closed) in clients {
        let after = closed.await.unwrap().expect("a slowloris client is cut off");
        assert!(after < Duration::from_secs(3), "cut after {after:?}");
        trickle.abort();
    }
    healthy(&node).await;
    let text = metrics(&node).await;
    assert!(
        text.contains("ceramic_http_connections_cut_total{reason=\"header_timeout\"} 20"),
        "{text}"
    );
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let node = Running::start("header_timeout_ms = 10000\nidle_timeout_ms = 400").await;
    // A keep-alive connection after one request, and one that never sent a byte.
    let mut used = node.connect().await;
    assert_eq!(exchange(&mut used, HEALTH).await.0, 200);
    let mut silent = node.connect().await;
    let started = Instant::now();
    assert!(closed_within(&mut used, PATIENCE).await, "the idle keep-alive connection stays open");
    assert!(closed_within(&mut silent, PATIENCE).await, "the silent connection stays open");
    assert!(started.elapsed() < Duration::from_secs(3), "closed after {:?}", started.elapsed());
    // A connection in use is not idle: requests 200 ms apart keep it open past the timeout.
    let mut busy = node.connect().await;
    for _ in 0..5 {
        assert_eq!(exchange(&mut busy, HEALTH).await.0, 200);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let text = metrics(&node).await;
    // The two above, and perhaps the one in use, idle since its last request.
    let idle_cuts = counter(&text, "ceramic_http_connections_cut_total{reason=\"idle_timeout\"}");
    assert!((2..=3).contains(&idle_cuts), "{text}");
    node.stop().await;
}

/// A request the server holds in flight: a POST whose body never comes.
const STALLED_POST: &str = "POST /api/v0/commits HTTP/1.1\r\nhost: node\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_cap_idle_connections_make_room_and_busy_ones_refuse() {
    let node = Running::start("max_connections = 8\nmax_connections_per_ip = 8").await;
    // The cap filled with idle keep-alive connections.
    let mut idle = Vec::new();
    for _ in 0..8 {
        let mut tcp = node.connect().await;
        assert_eq!(exchange(&mut tcp, HEALTH).await.0, 200);
        idle.push(tcp);
    }
    // A new client is answered at once: the longest idle connection made room.
    let started = Instant::now();
    let mut newcomer = node.connect_from_other_ip().await;
    assert_eq!(exchange(&mut newcomer, HEALTH).await.0, 200);
    drop(newcomer);
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    assert!(closed_within(&mut idle[0], PATIENCE).await, "the oldest idle connection was evicted");
    for tcp in &mut idle[1..] {
        assert!(!closed_within(tcp, Duration::from_millis(50)).await, "only one was evicted");
    }
    drop(idle);
    tokio::time::sleep(Duration::from_millis(200)).await;

    // The cap filled with requests in flight: a new client is refused at once with 503.
    let mut busy = Vec::new();
    for _ in 0..8 {
        let mut tcp = node.connect().await;
        tcp.write_all(STALLED_POST.as_bytes()).await.unwrap();
        busy.push(tcp);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut tcp = node.connect_from_other_ip().await;
    let started = Instant::now();
    let (status, body) = exchange(&mut tcp, HEALTH).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("too many connections"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    // Once one finishes (its client leaves), the node serves again.
    drop(busy.pop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    healthy(&node).await;
    drop(busy);
    let text = metrics(&node).await;
    assert!(
        text.contains("ceramic_http_connections_refused_total{reason=\"capacity\"} 1"),
        "{text}"
    );
    // Phase one evicted exactly one connection (checked on the sockets above). Phase two may
    // evict one more: a connection the clients closed just before (the newcomer's, an idle one)
    // can still be open on the server's side, idle, when the stalled requests fill the cap.
    let evicted = text
        .lines()
        .find_map(|l| l.strip_prefix("ceramic_http_connections_cut_total{reason=\"evicted\"} "))
        .and_then(|v| v.parse::<u64>().ok());
    assert!(matches!(evicted, Some(1 | 2)), "evicted {evicted:?}: {text}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holds_at_most_its_share_of_connections() {
    let node = Running::start("max_connections = 64\nmax_connections_per_ip = 4").await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut tcp = node.connect().await;
        assert_eq!(exchange(&mut tcp, HEALTH).await.0, 200);
        held.push(tcp);
    }
    let mut fifth = node.connect().await;
    let (status, body) = exchange(&mut fifth, HEALTH).await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("too many connections from this address"), "{body}");
    assert!(closed_within(&mut fifth, PATIENCE).await);
    // Another address is served; and a freed slot serves this one again.
    let mut other = node.connect_from_other_ip().await;
    assert_eq!(exchange(&mut other, HEALTH).await.0, 200);
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    healthy(&node).await;
    let text = metrics(&node).await;
    assert!(text.contains("ceramic_http_connections_refused_total{reason=\"per_ip\"} 1"), "{text}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_idle_clients() {
    // The grace is 20 s: a shutdown that waited for these clients would take that long.
    let node = Running::start("header_timeout_ms = 60000\nidle_timeout_ms = 60000").await;
    let mut clients = Vec::new();
    for i in 0..12 {
        let mut tcp = node.connect().await;
        match i % 3 {
            0 => assert_eq!(exchange(&mut tcp, HEALTH).await.0, 200),
            1 => tcp.write_all(b"GET /api/v0/node/healthcheck HTTP/1.1\r\nhost: no").await.unwrap(),
            _ => {}
        }
        clients.push(tcp);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let took = node.stop().await;
    assert!(took < Duration::from_secs(8), "shutdown took {took:?} with idle clients connected");
    for tcp in &mut clients {
        assert!(closed_within(tcp, PATIENCE).await, "a client connection stayed open");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_use_up_the_admin_codes() {
    let node = Running::start("admin_codes_per_client = 8").await;
    const GET_CODE: &str = "GET /api/v0/admin/getCode HTTP/1.1\r\nhost: node\r\n\r\n";
    let mut greedy = node.connect().await;
    let (mut issued, mut refused) = (0, 0);
    // More than the whole store (1,000) from one address.
    for _ in 0..1_001 {
        let (status, body) = exchange(&mut greedy, GET_CODE).await;
        match status {
            200 => issued += 1,
            429 => {
                assert!(body.contains("unused admin codes"), "{body}");
                refused += 1;
            }
            other => panic!("getCode answered {other}: {body}"),
        }
    }
    assert_eq!((issued, refused), (8, 993));
    let mut other = node.connect_from_other_ip().await;
    let (status, body) = exchange(&mut other, GET_CODE).await;
    assert_eq!(status, 200, "another client is locked out: {body}");
    node.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multiquery_of_unknown_streams_returns_within_its_deadline() {
    // B asks the network for each unknown stream; A is on the topic and never answers, so
    // each load waits B's whole sync timeout (2 s): 100 of them one after another take 200 s.
    let a = Running::start_with("", Some(NetConfig::new("http-limits-test"))).await;
    let b = Running::start_with(
        "multiquery_concurrency = 16\nmultiquery_timeout_ms = 3000",
        Some(
            NetConfig::new("http-limits-test")
                .with_sync_timeout(Duration::from_secs(2))
                .with_bootstrap(a.addrs.clone()),
        ),
    )
    .await;
    let handle = b.network.clone().unwrap();
    let on_topic = async {
        while handle.topic_peers().await.unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), on_topic).await.expect("A joins B's topic");

    let queries: Vec<_> = (0..100u8)
        .map(|i| {
            let genesis = ceramic_codecs::cid_of(0x71, &[i; 8]);
            let id = ceramic_streamid::StreamId::new(ceramic_streamid::StreamType::TILE, genesis)
                .unwrap();
            serde_json::json!({ "streamId": id.to_string() })
        })
        .collect();
    let body = serde_json::json!({ "queries": queries }).to_string();
    let request = format!(
        "POST /api/v0/multiqueries HTTP/1.1\r\nhost: node\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut tcp = b.connect().await;
    tcp.write_all(request.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (status, answer) = tokio::time::timeout(Duration::from_secs(20), read_answer(&mut tcp))
        .await
        .expect("the multiquery answers within 20 s");
    let took = started.elapsed();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, "{}", "unknown streams are left out");
    assert!(took < Duration::from_secs(6), "took {took:?} (deadline 3 s)");
    assert!(took >= Duration::from_millis(2_500), "the loads did wait for the network ({took:?})");
    b.stop().await;
    a.stop().await;
}
