//! Load on a real `ceramic-node` binary over the wire, HTTP (`/api/v0`, as the js-ceramic
//! http-client sends it) beside gRPC (`ceramic.v1.Node`), with the node's own CPU per commit.
//!
//! The node is the binary named by `CERAMIC_NODE_BIN` (else `ceramic-node` next to this bench's
//! target directory, e.g. `target/release/ceramic-node`), started as a child process per
//! transport on a fresh temporary data directory: RocksDB with an fsync per write (`sync =
//! true`), the Tile doctype, the dev anchor chain, p2p disabled, gRPC and HTTP on `127.0.0.1:0`.
//! The bench waits for the printed `ceramic-node listening on` / `ceramic-node http on` lines,
//! then for each transport (`NODE_WIRE_TRANSPORT=http|grpc|both`, default both):
//!
//! 1. prefill: `NODE_WIRE_STREAMS` streams (default 1,000) created with signed Tile genesis
//!    commits by 64 concurrent clients (stream `i` by client `i % 64`);
//! 2. settle (only with `NODE_WIRE_SETTLE_SECS` > 0): wait until the node is idle — less than
//!    [`IDLE_CORES`] of a core over [`IDLE_WINDOW`], i.e. RocksDB's flushes and compactions
//!    after the prefill are done — for at most that many seconds;
//! 3. update: 64 clients write `NODE_WIRE_UPDATES` (default 100) signed Tile updates to each
//!    of `NODE_WIRE_UPDATE_STREAMS` prefilled streams (default 64: one per client; stream `i`
//!    by client `i % 64`, the oldest streams of each client), one write at a time, a client
//!    going round its streams (update 1 of each, then update 2, …). More update streams make
//!    the phase last longer (and touch more of the store) at the same log length.
//!
//! Every commit is signed before the clock starts. Each client has its own connection: hyper's
//! HTTP/1 client with keep-alive, or its own tonic channel (`CreateStream` / `ApplyCommit`).
//! HTTP bodies are what `@ceramicnetwork/http-client` 6.x sends for `TileDocument.create(…,
//! {anchor: false, publish: false})` and `doc.update(…, undefined, {anchor: false, publish:
//! false})`: `POST /api/v0/streams` `{type, genesis, opts: {anchor, publish, sync: 0, pin,
//! syncTimeoutSeconds: 0}}` and `POST /api/v0/commits` `{streamId, commit, opts: {anchor,
//! publish, sync: 0}}`, each commit a `DagJWSResult` (`{jws: {payload, signatures, link},
//! linkedBlock}`), built here from `ceramic_did::SignedCommit` (not the node's HTTP code). No
//! anchors are requested (gRPC writes cannot request one), so both transports do the same work.
//!
//! Printed per transport and phase: commits/s, p50/p99/max latency of one write, the node's
//! CPU per commit (utime + stime of `/proc/<pid>/stat`, delta over the phase / commits, in
//! `getconf CLK_TCK` ticks) and its RSS (`VmRSS` of `/proc/<pid>/status`) after the phase. The
//! node is killed at the end, and on a panic (kill on drop). Linux only (`/proc`).
//!
//! `CERAMIC_NODE_BIN=… cargo bench -p ceramic-benches --bench node_wire_load` (env
//! `NODE_WIRE_STREAMS`, `NODE_WIRE_UPDATES`, `NODE_WIRE_UPDATE_STREAMS`,
//! `NODE_WIRE_SETTLE_SECS`, `NODE_WIRE_TRANSPORT`; `NODE_WIRE_PERF=<path>`
//! also runs `perf record $NODE_WIRE_PERF_ARGS` (default `-F 999 -g`) on the node during each
//! update phase, into `<path>.<transport>.data`). Under `cargo test
//! --benches` it runs once with 4 clients, 8 streams and 3 updates, and says so and stops when
//! it finds no node binary.

use std::fmt;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ceramic_codecs::{Block, DataCommit, Header, Payload};
use ceramic_did::{KeySigner, KeyType, SignedCommit, Signer as _, sign_commit};
use ceramic_doctype::json_to_ipld;
use ceramic_doctype_tile::{GenesisOptions, genesis_payload};
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{self, CommitRequest, LoadStreamRequest};
use ceramic_streamid::{StreamId, StreamType};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tonic::transport::Channel;

/// Concurrent clients of a full run.
const CLIENTS: usize = 64;
/// How long the node may take to print its addresses.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one write may take before the bench gives up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// The settle step's idle threshold: the node's CPU over [`IDLE_WINDOW`], in cores.
const IDLE_CORES: f64 = 0.02;
/// The settle step's measuring window.
const IDLE_WINDOW: Duration = Duration::from_secs(1);
/// The printed gRPC address line.
const GRPC_LINE: &str = "ceramic-node listening on ";
/// The printed HTTP address line.
const HTTP_LINE: &str = "ceramic-node http on ";
/// `opts` of `TileDocument.create(…, {anchor: false, publish: false})` after the stream's and
/// the client's defaults are merged in (http-client 6.x, stream-tile 6.x).
const CREATE_OPTS: &str =
    r#"{"anchor":false,"publish":false,"sync":0,"pin":true,"syncTimeoutSeconds":0}"#;
/// `opts` of `doc.update(…, undefined, {anchor: false, publish: false})`, merged likewise.
const UPDATE_OPTS: &str = r#"{"anchor":false,"publish":false,"sync":0}"#;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Http,
    Grpc,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Http => "http",
            Transport::Grpc => "grpc",
        })
    }
}

/// A running `ceramic-node`, killed on drop.
struct Node {
    child: Child,
    grpc: SocketAddr,
    http: SocketAddr,
    clock_ticks: f64,
    _dir: tempfile::TempDir,
}

impl Node {
    fn start(binary: &Path, clock_ticks: f64) -> Node {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = dir.path().join("node.toml");
        let data = dir.path().join("data");
        let text = format!(
            "data_dir = {data:?}\nlisten = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\n\
             network = \"inmemory\"\ndoctypes = [\"tile\"]\nsync = true\nlog_level = \"warn\"\n\
             \n[p2p]\nenabled = false\n\n[anchoring]\nchain = \"dev\"\n",
            data = data.display().to_string(),
        );
        std::fs::write(&config, text).expect("writes the node's config");
        let mut child = Command::new(binary)
            .arg("--config")
            .arg(&config)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (lines_tx, lines) = mpsc::sync_channel(16);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut node = Node { child, grpc: unbound(), http: unbound(), clock_ticks, _dir: dir };
        let deadline = Instant::now() + START_TIMEOUT;
        let (mut grpc, mut http) = (None, None);
        while grpc.is_none() || http.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = lines.recv_timeout(left).expect("the node prints its addresses in time");
            if let Some(addr) = line.strip_prefix(GRPC_LINE) {
                grpc = Some(addr.trim().parse().expect("a gRPC socket address"));
            } else if let Some(addr) = line.strip_prefix(HTTP_LINE) {
                http = Some(addr.trim().parse().expect("an HTTP socket address"));
            }
        }
        node.grpc = grpc.expect("seen above");
        node.http = http.expect("seen above");
        node
    }

    /// The node's CPU time so far (user + system, all threads), in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("the node's /proc/<pid>/stat");
        // Fields after the command name (which may hold spaces) start at field 3 (`state`);
        // utime and stime are fields 14 and 15.
        let rest = &stat[stat.rfind(')').expect("a command name in parentheses") + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| fields[i - 3].parse::<u64>().expect("a tick count");
        (ticks(14) + ticks(15)) as f64 / self.clock_ticks
    }

    /// Bytes the node has caused to be written to storage so far (`write_bytes` of
    /// `/proc/<pid>/io`; 0 where the kernel does not account I/O).
    fn write_bytes(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/io", self.child.id()))
            .ok()
            .and_then(|io| {
                io.lines()
                    .find_map(|l| l.strip_prefix("write_bytes:"))
                    .and_then(|v| v.trim().parse().ok())
            })
            .unwrap_or(0)
    }

    /// Waits until the node used less than [`IDLE_CORES`] over one [`IDLE_WINDOW`], at most
    /// `limit`. Returns the wait, the node's CPU seconds and the bytes it wrote meanwhile, and
    /// whether it went idle.
    fn settle(&self, limit: Duration) -> Settled {
        let start = Instant::now();
        let (cpu_start, written_start) = (self.cpu_seconds(), self.write_bytes());
        let mut idle = false;
        while start.elapsed() < limit {
            let before = self.cpu_seconds();
            std::thread::sleep(IDLE_WINDOW.min(limit.saturating_sub(start.elapsed())));
            if self.cpu_seconds() - before < IDLE_CORES * IDLE_WINDOW.as_secs_f64() {
                idle = true;
                break;
            }
        }
        Settled {
            waited: start.elapsed(),
            cpu: self.cpu_seconds() - cpu_start,
            written: self.write_bytes().saturating_sub(written_start),
            idle,
        }
    }

    /// The node's resident set size, in MiB.
    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the node's /proc/<pid>/status");
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("a VmRSS line");
        kib as f64 / 1024.0
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `perf record` attached to the node, stopped (SIGINT, so it writes its file) on drop.
struct Perf {
    child: Child,
}

impl Perf {
    fn start(node: &Node, out: &Path, args: &[String]) -> Perf {
        let child = Command::new("perf")
            .arg("record")
            .args(args)
            .arg("-o")
            .arg(out)
            .arg("-p")
            .arg(node.child.id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("starts perf record");
        // perf needs a moment to attach to every thread before the phase starts.
        std::thread::sleep(Duration::from_millis(500));
        println!("node_wire_load: perf record of the node into {}", out.display());
        Perf { child }
    }
}

impl Drop for Perf {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-INT").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

/// What the settle step saw.
struct Settled {
    waited: Duration,
    cpu: f64,
    written: u64,
    idle: bool,
}

fn unbound() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// `getconf CLK_TCK` (the unit of /proc/<pid>/stat times), 100 if it cannot be read.
fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(100.0)
}

/// The node binary: `CERAMIC_NODE_BIN`, else `ceramic-node` in this bench's target profile
/// directory (`target/<profile>/deps/<bench>` → `target/<profile>/ceramic-node`).
fn node_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CERAMIC_NODE_BIN") {
        return Some(PathBuf::from(path));
    }
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.parent()?.join("ceramic-node");
    candidate.is_file().then_some(candidate)
}

/// One write in its transport's form.
enum Wire {
    Http(Bytes),
    Grpc(CommitRequest),
}

fn grpc_request(signed: &SignedCommit) -> CommitRequest {
    let block = |b: &Block| v1::Block { cid: b.cid().to_string(), data: b.data().to_vec() };
    CommitRequest {
        stream_type: StreamType::TILE.code(),
        commit: signed.envelope_block().cid().to_string(),
        blocks: vec![block(signed.envelope_block()), block(signed.payload_block())],
    }
}

/// The `POST /api/v0/streams` body js sends: `{type, genesis, opts}`, keys in js's order.
fn http_create(signed: &SignedCommit) -> Bytes {
    let opts: Value = serde_json::from_str(CREATE_OPTS).expect("valid JSON");
    let body = json!({
        "type": StreamType::TILE.code(),
        "genesis": signed.to_dag_jws_result(),
        "opts": opts,
    });
    Bytes::from(serde_json::to_vec(&body).expect("serializes"))
}

/// The `POST /api/v0/commits` body js sends: `{streamId, commit, opts}`.
fn http_update(stream: &StreamId, signed: &SignedCommit) -> Bytes {
    let opts: Value = serde_json::from_str(UPDATE_OPTS).expect("valid JSON");
    let body = json!({
        "streamId": stream.to_string(),
        "commit": signed.to_dag_jws_result(),
        "opts": opts,
    });
    Bytes::from(serde_json::to_vec(&body).expect("serializes"))
}

fn wire(transport: Transport, signed: &SignedCommit, stream: Option<&StreamId>) -> Wire {
    match (transport, stream) {
        (Transport::Grpc, _) => Wire::Grpc(grpc_request(signed)),
        (Transport::Http, None) => Wire::Http(http_create(signed)),
        (Transport::Http, Some(stream)) => Wire::Http(http_update(stream, signed)),
    }
}

/// The writes of one run, per client, all signed.
struct Plan {
    /// Genesis commits, per client.
    creates: Vec<Vec<Wire>>,
    /// Updates, per client, in the order the client sends them (round its streams).
    updates: Vec<Vec<Wire>>,
    /// The streams each client updates.
    updated: Vec<Vec<StreamId>>,
}

/// js's `unique`: base64 of 12 bytes (here the transport and the stream's index, not random).
fn unique(transport: Transport, index: usize) -> String {
    let mut bytes = [0u8; 12];
    bytes[0] = transport as u8;
    bytes[4..].copy_from_slice(&(index as u64).to_be_bytes());
    STANDARD.encode(bytes)
}

fn signers(clients: usize) -> Vec<KeySigner> {
    (0..clients)
        .map(|c| {
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(c as u64).to_be_bytes());
            seed[31] = 1;
            KeySigner::from_seed(KeyType::Ed25519, &seed).expect("an Ed25519 seed")
        })
        .collect()
}

fn genesis(signer: &KeySigner, transport: Transport, index: usize) -> SignedCommit {
    let options = GenesisOptions { unique: Some(unique(transport, index)), ..Default::default() };
    let content = json!({"title": "load", "n": 0});
    let payload = genesis_payload(signer.did(), Some(&content), &options).expect("a genesis");
    sign_commit(signer, &payload).expect("signs")
}

/// Signs every write of the run (on all cores: 100,000 creates take a while). Client `c`
/// updates the streams `i < update_streams` with `i % clients == c`: its oldest ones.
fn plan(
    transport: Transport,
    clients: usize,
    streams: usize,
    update_streams: usize,
    updates: usize,
) -> Plan {
    let signers = signers(clients);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(clients);
    let mut creates: Vec<Vec<Wire>> = (0..clients).map(|_| Vec::new()).collect();
    let mut updated = Vec::new();
    let mut chains: Vec<Vec<Wire>> = Vec::new();
    std::thread::scope(|scope| {
        let signers = &signers;
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    // Thread `t` signs for clients t, t + threads, …
                    let mut out = Vec::new();
                    for client in (t..clients).step_by(threads) {
                        let signer = &signers[client];
                        let mut creates = Vec::new();
                        let mut chain = Vec::new();
                        // (genesis, tip, StreamID) of each stream this client updates.
                        let mut tips = Vec::new();
                        for index in (client..streams).step_by(clients) {
                            let signed = genesis(signer, transport, index);
                            if index < update_streams {
                                let cid = *signed.envelope_block().cid();
                                let id = StreamId::new(StreamType::TILE, cid).expect("a StreamID");
                                tips.push((cid, cid, id));
                            }
                            creates.push(wire(transport, &signed, None));
                        }
                        for n in 1..=updates {
                            for (genesis_cid, prev, stream_id) in &mut tips {
                                let patch = json!([{"op": "replace", "path": "/n", "value": n}]);
                                let payload = Payload::Data(DataCommit {
                                    id: *genesis_cid,
                                    prev: *prev,
                                    header: Some(Header::default()),
                                    data: Some(json_to_ipld(&patch).expect("a patch")),
                                });
                                let signed = sign_commit(signer, &payload).expect("signs");
                                *prev = *signed.envelope_block().cid();
                                chain.push(wire(transport, &signed, Some(stream_id)));
                            }
                        }
                        let ids = tips.into_iter().map(|(_, _, id)| id).collect::<Vec<_>>();
                        out.push((client, creates, chain, ids));
                    }
                    out
                })
            })
            .collect();
        let mut all: Vec<_> =
            handles.into_iter().flat_map(|h| h.join().expect("a signing thread")).collect();
        all.sort_by_key(|(client, ..)| *client);
        for (client, client_creates, chain, ids) in all {
            creates[client] = client_creates;
            chains.push(chain);
            updated.push(ids);
        }
    });
    Plan { creates, updates: chains, updated }
}

/// One client's connection.
enum Conn {
    Http(SendRequest<Full<Bytes>>, SocketAddr),
    Grpc(NodeClient<Channel>),
}

impl Conn {
    async fn open(transport: Transport, node: &Node) -> Conn {
        match transport {
            Transport::Http => {
                let stream =
                    tokio::net::TcpStream::connect(node.http).await.expect("connects (HTTP)");
                stream.set_nodelay(true).expect("TCP_NODELAY");
                let (sender, connection) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream))
                        .await
                        .expect("HTTP/1 handshake");
                tokio::spawn(connection);
                Conn::Http(sender, node.http)
            }
            Transport::Grpc => Conn::Grpc(
                NodeClient::connect(format!("http://{}", node.grpc))
                    .await
                    .expect("connects (gRPC)"),
            ),
        }
    }

    /// Sends one write and waits for the whole answer.
    async fn write(&mut self, write: Wire, create: bool) {
        match (self, write) {
            (Conn::Http(sender, addr), Wire::Http(body)) => {
                let path = if create { "/api/v0/streams" } else { "/api/v0/commits" };
                let request = hyper::Request::post(path)
                    .header("host", addr.to_string())
                    .header("content-type", "application/json")
                    .body(Full::new(body))
                    .expect("a request");
                sender.ready().await.expect("the connection is usable");
                let response = sender.send_request(request).await.expect("an HTTP answer");
                let status = response.status();
                let body = response.into_body().collect().await.expect("the body").to_bytes();
                assert!(
                    status.is_success(),
                    "the node refused a write: {status} {}",
                    String::from_utf8_lossy(&body)
                );
            }
            (Conn::Grpc(client), Wire::Grpc(request)) => {
                let result = if create {
                    client.create_stream(request).await
                } else {
                    client.apply_commit(request).await
                };
                result.expect("the node accepts the write");
            }
            _ => unreachable!("a connection only gets writes of its own transport"),
        }
    }

    /// The length of `stream`'s log, loaded through this connection.
    async fn log_length(&mut self, stream: &StreamId) -> usize {
        let state: Value = match self {
            Conn::Http(sender, addr) => {
                let request = hyper::Request::get(format!("/api/v0/streams/{stream}"))
                    .header("host", addr.to_string())
                    .body(Full::new(Bytes::new()))
                    .expect("a request");
                sender.ready().await.expect("the connection is usable");
                let response = sender.send_request(request).await.expect("an HTTP answer");
                let body = response.into_body().collect().await.expect("the body").to_bytes();
                let answer: Value = serde_json::from_slice(&body).expect("a JSON answer");
                answer["state"].clone()
            }
            Conn::Grpc(client) => {
                let request = LoadStreamRequest { id: stream.to_string(), at_time: None };
                let answer = client.load_stream(request).await.expect("loads").into_inner();
                let state = answer.state.expect("a state");
                serde_json::from_str(&state.state_json).expect("JSON state")
            }
        };
        state["log"].as_array().map_or(0, Vec::len)
    }
}

/// What one phase measured.
struct Phase {
    commits: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    cpu: f64,
    rss: f64,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.commits as f64 / self.elapsed.as_secs_f64()
    }

    fn cpu_ms_per_commit(&self) -> f64 {
        self.cpu * 1e3 / self.commits as f64
    }

    fn percentile(&self, p: f64) -> Duration {
        let rank = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies
            .get(rank.min(self.latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    }

    fn report(&self, transport: Transport, name: &str, what: &str) {
        println!(
            "node_wire_load {transport} {name}: {what} = {} signed Tile commits in {:.2} s: \
             {:.0} commits/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; node CPU \
             {:.3} ms/commit ({:.2} cores); node RSS {:.1} MiB after",
            self.commits,
            self.elapsed.as_secs_f64(),
            self.rate(),
            ms(self.percentile(0.50)),
            ms(self.percentile(0.99)),
            ms(self.latencies.last().copied().unwrap_or_default()),
            self.cpu_ms_per_commit(),
            self.cpu / self.elapsed.as_secs_f64(),
            self.rss,
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs every client's writes concurrently, each client one write at a time.
async fn phase(
    node: &Node,
    conns: Vec<Conn>,
    work: Vec<Vec<Wire>>,
    create: bool,
) -> (Vec<Conn>, Phase) {
    let commits = work.iter().map(Vec::len).sum();
    let cpu_before = node.cpu_seconds();
    let start = Instant::now();
    let tasks: Vec<_> = conns
        .into_iter()
        .zip(work)
        .map(|(mut conn, writes)| {
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(writes.len());
                for write in writes {
                    let sent = Instant::now();
                    tokio::time::timeout(WRITE_TIMEOUT, conn.write(write, create))
                        .await
                        .expect("the write is answered in time");
                    latencies.push(sent.elapsed());
                }
                (conn, latencies)
            })
        })
        .collect();
    let mut conns = Vec::with_capacity(tasks.len());
    let mut latencies = Vec::with_capacity(commits);
    for task in tasks {
        let (conn, l) = task.await.expect("a client task");
        conns.push(conn);
        latencies.extend(l);
    }
    let elapsed = start.elapsed();
    let cpu = node.cpu_seconds() - cpu_before;
    latencies.sort();
    (conns, Phase { commits, elapsed, latencies, cpu, rss: node.rss_mib() })
}

struct Settings {
    binary: PathBuf,
    /// `NODE_WIRE_PERF`: record the node with `perf` during each update phase into
    /// `<this>.<transport>.data`.
    perf: Option<PathBuf>,
    /// `NODE_WIRE_PERF_ARGS`: `perf record` options (default `-F 999 -g`).
    perf_args: Vec<String>,
    clients: usize,
    streams: usize,
    /// `NODE_WIRE_UPDATE_STREAMS`: how many streams the update phase writes to.
    update_streams: usize,
    updates: usize,
    /// `NODE_WIRE_SETTLE_SECS`: the longest wait for the node to go idle after the prefill
    /// (zero: no wait).
    settle: Duration,
    clock_ticks: f64,
}

/// One transport against a fresh node: prefill, then updates. Returns both phases.
fn run(transport: Transport, settings: &Settings) -> (Phase, Phase) {
    let Settings { clients, streams, update_streams, updates, .. } = *settings;
    let signing = Instant::now();
    let plan = plan(transport, clients, streams, update_streams, updates);
    println!(
        "node_wire_load {transport}: signed {} creates and {} updates in {:.1} s (not timed)",
        streams,
        update_streams * updates,
        signing.elapsed().as_secs_f64()
    );
    let node = Node::start(&settings.binary, settings.clock_ticks);
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let mut conns = Vec::with_capacity(clients);
        for _ in 0..clients {
            conns.push(Conn::open(transport, &node).await);
        }
        let rss_start = node.rss_mib();
        let (conns, prefill) = phase(&node, conns, plan.creates, true).await;
        prefill.report(
            transport,
            "prefill",
            &format!(
                "{clients} clients creating {streams} streams (RSS {rss_start:.1} MiB before)"
            ),
        );
        if !settings.settle.is_zero() {
            let settled = node.settle(settings.settle);
            println!(
                "node_wire_load {transport} settle: {} after {:.1} s (node CPU {:.2} s, \
                 {:.1} MiB written meanwhile)",
                if settled.idle { "idle" } else { "NOT idle (limit reached)" },
                settled.waited.as_secs_f64(),
                settled.cpu,
                settled.written as f64 / (1 << 20) as f64,
            );
        }
        let perf = settings.perf.as_ref().map(|out| {
            Perf::start(
                &node,
                &out.with_extension(format!("{transport}.data")),
                &settings.perf_args,
            )
        });
        let (mut conns, update) = phase(&node, conns, plan.updates, false).await;
        drop(perf);
        update.report(
            transport,
            "update",
            &format!("{clients} clients x {updates} updates of {update_streams} streams"),
        );
        // The writes really landed: each updated stream's log is its genesis and the updates
        // (the first and the last stream of the first clients).
        for (conn, streams) in conns.iter_mut().zip(&plan.updated).take(4) {
            for stream in [streams.first(), streams.last()].into_iter().flatten() {
                let length = conn.log_length(stream).await;
                assert_eq!(length, updates + 1, "stream {stream} holds every update");
            }
        }
        (prefill, update)
    })
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once with few writes.
    let quick = std::env::args().all(|a| a != "--bench");
    let Some(binary) = node_binary() else {
        let message = "node_wire_load: no node binary: set CERAMIC_NODE_BIN to a ceramic-node \
                       (e.g. `cargo build --release -p ceramic-node`, target/release/ceramic-node)";
        if quick {
            println!("{message}; skipped");
            return;
        }
        panic!("{message}");
    };
    let clients = if quick { 4 } else { CLIENTS };
    let settings = Settings {
        binary,
        clients,
        streams: if quick { 8 } else { env("NODE_WIRE_STREAMS", 1_000) },
        update_streams: if quick { 8 } else { env("NODE_WIRE_UPDATE_STREAMS", clients) },
        updates: if quick { 3 } else { env("NODE_WIRE_UPDATES", 100) },
        settle: Duration::from_secs(if quick { 1 } else { env("NODE_WIRE_SETTLE_SECS", 0) } as u64),
        clock_ticks: clock_ticks(),
        perf: std::env::var_os("NODE_WIRE_PERF").map(PathBuf::from),
        perf_args: std::env::var("NODE_WIRE_PERF_ARGS")
            .unwrap_or_else(|_| "-F 999 -g".into())
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    };
    assert!(
        settings.streams >= settings.clients,
        "NODE_WIRE_STREAMS must be at least {}",
        settings.clients
    );
    assert!(
        (settings.clients..=settings.streams).contains(&settings.update_streams),
        "NODE_WIRE_UPDATE_STREAMS must be between {} and NODE_WIRE_STREAMS ({})",
        settings.clients,
        settings.streams
    );
    let transports = match std::env::var("NODE_WIRE_TRANSPORT").as_deref() {
        Ok("http") => vec![Transport::Http],
        Ok("grpc") => vec![Transport::Grpc],
        Ok("both") | Err(_) => vec![Transport::Http, Transport::Grpc],
        Ok(other) => panic!("NODE_WIRE_TRANSPORT is http, grpc or both, not {other:?}"),
    };
    println!(
        "node_wire_load: node {}, {} clients, {} streams, {} updates to each of {} streams, \
         settle up to {} s, CLK_TCK {}",
        settings.binary.display(),
        settings.clients,
        settings.streams,
        settings.updates,
        settings.update_streams,
        settings.settle.as_secs(),
        settings.clock_ticks
    );
    let mut rows = Vec::new();
    for transport in transports {
        let (prefill, update) = run(transport, &settings);
        rows.push((transport, prefill, update));
    }
    println!(
        "\n| transport | streams | phase | commits | commits/s | p50 ms | p99 ms | max ms | \
         node CPU ms/commit | node RSS MiB after |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (transport, prefill, update) in &rows {
        for (name, p) in [("prefill (creates)", prefill), ("updates", update)] {
            println!(
                "| {transport} | {} | {name} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.3} | {:.1} |",
                settings.streams,
                p.commits,
                p.rate(),
                ms(p.percentile(0.50)),
                ms(p.percentile(0.99)),
                ms(p.latencies.last().copied().unwrap_or_default()),
                p.cpu_ms_per_commit(),
                p.rss,
            );
        }
    }
    if let [(Transport::Http, _, http), (Transport::Grpc, _, grpc)] = rows.as_slice()
        && grpc.cpu > 0.0
    {
        println!(
            "HTTP/gRPC node CPU per update: {:.2}x",
            http.cpu_ms_per_commit() / grpc.cpu_ms_per_commit()
        );
    }
}
