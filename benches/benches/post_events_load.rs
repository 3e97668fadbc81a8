//! `POST /ceramic/events` under load on a real `ceramic-node` binary: ModelInstanceDocument
//! creates and updates per second from 64 concurrent clients, RocksDB with an fsync per write
//! (issue 13; target ≥ 3,000 events/s on the 2-core machine).
//!
//! The node is the binary named by `CERAMIC_NODE_BIN` (else `ceramic-node` next to this bench's
//! target directory, e.g. `target/release/ceramic-node`), started on a fresh temporary data
//! directory: `sync = true`, the `model` and `MID` doctypes, p2p disabled, HTTP on
//! `127.0.0.1:0`. Before the clock starts, every event is made in Rust with `ceramic_event` and
//! signed with a did:key (one Ed25519 key per client), as `@ceramic-sdk/model-instance-client`
//! makes them: a Model (`list` relation, schema `{text: string ≤ 100, n: integer}`, required
//! `text`) posted once, then
//!
//! 1. creates: `POST_EVENTS_STREAMS` (default 2,000) signed MID init events with content
//!    `{text, n: 0}` and a 12-byte `unique`, stream `i` by client `i % 64`;
//! 2. updates: each client writes a chain of `POST_EVENTS_UPDATES` (default 50) signed data
//!    events (a JSON patch `replace /n`) on its first stream, one at a time on its tip.
//!
//! Each client has its own HTTP/1 keep-alive connection (hyper) and sends `{"data": "<base64
//! multibase CAR>"}` (the SDK's `carToString`), waiting for the 204 before its next event.
//! Every event is checked by the node's doctypes (signature, Model held, JSON schema) and stored
//! with its feed entry in one fsynced batch.
//!
//! Printed per phase: events/s, p50/p99/max latency, the node's CPU per event (utime + stime of
//! `/proc/<pid>/stat`) and RSS after. Afterwards the feed head must equal the number of events
//! posted and the updated streams' tips their last update. The node is killed at the end and on
//! a panic. Linux only (`/proc`).
//!
//! `CERAMIC_NODE_BIN=… cargo bench --workspace --all-features --bench post_events_load` (env
//! `POST_EVENTS_STREAMS`, `POST_EVENTS_UPDATES`). Under `cargo test --benches` (and so `cargo
//! xtask ci`) it runs once with 4 clients, 8 creates and 3 updates each, and says so and stops
//! when it finds no node binary.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ceramic_codecs::Cid;
use ceramic_did::{KeySigner, KeyType, Signer as _};
use ceramic_doctype::json_to_ipld;
use ceramic_event::{CarBase, DataPayload, Event, InitHeader, InitPayload, METAMODEL_STREAM_ID};
use ceramic_streamid::StreamId;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// Concurrent clients of a full run.
const CLIENTS: usize = 64;
/// How long the node may take to print its addresses.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one write may take before the bench gives up.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// The printed HTTP address line.
const HTTP_LINE: &str = "ceramic-node http on ";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A running `ceramic-node`, killed on drop.
struct Node {
    child: Child,
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
             network = \"inmemory\"\ndoctypes = [\"model\", \"MID\"]\nsync = true\n\
             log_level = \"warn\"\nmin_free_bytes = 67108864\n\n[p2p]\nenabled = false\n\n\
             [anchoring]\nchain = \"dev\"\n",
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
        let deadline = Instant::now() + START_TIMEOUT;
        let http = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = lines.recv_timeout(left).expect("the node prints its addresses in time");
            if let Some(addr) = line.strip_prefix(HTTP_LINE) {
                break addr.trim().parse().expect("an HTTP socket address");
            }
        };
        Node { child, http, clock_ticks, _dir: dir }
    }

    /// The node's CPU time so far (user + system, all threads), in seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("the node's /proc/<pid>/stat");
        let rest = &stat[stat.rfind(')').expect("a command name in parentheses") + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| fields[i - 3].parse::<u64>().expect("a tick count");
        (ticks(14) + ticks(15)) as f64 / self.clock_ticks
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

/// The `POST /ceramic/events` body of an event: `{"data": "<base64 multibase CAR>"}`.
fn body(event: &Event) -> Bytes {
    let data = event.encode_multibase(CarBase::Base64).expect("an event encodes");
    Bytes::from(json!({ "data": data }).to_string())
}

fn signer(client: usize) -> KeySigner {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&(client as u64).to_be_bytes());
    seed[31] = 13;
    KeySigner::from_seed(KeyType::Ed25519, &seed).expect("an Ed25519 seed")
}

/// The Model every instance belongs to, signed by client 0's key.
fn model_event() -> Event {
    let definition = json!({
        "version": "2.0",
        "name": "LoadNote",
        "description": "post_events_load bench",
        "accountRelation": {"type": "list"},
        "interface": false,
        "implements": [],
        "schema": {
            "type": "object",
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "properties": {"text": {"type": "string", "maxLength": 100}, "n": {"type": "integer"}},
            "required": ["text"],
            "additionalProperties": false,
        },
        "relations": {},
        "views": {},
    });
    let signer = signer(0);
    let metamodel = StreamId::from_bytes(&METAMODEL_STREAM_ID).expect("the meta-model");
    let payload = InitPayload {
        header: InitHeader::new(signer.did(), metamodel),
        data: Some(json_to_ipld(&definition).expect("JSON")),
    };
    Event::sign(&signer, payload.into()).expect("signs")
}

/// The events of one client, all signed.
struct ClientPlan {
    creates: Vec<Bytes>,
    updates: Vec<Bytes>,
    /// The stream updated and its last event.
    updated: (StreamId, Cid),
}

/// Makes and signs every event of the run (on all cores).
fn plan(model: StreamId, clients: usize, streams: usize, updates: usize) -> Vec<ClientPlan> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(clients);
    let mut plans: Vec<(usize, ClientPlan)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for client in (t..clients).step_by(threads) {
                        out.push((client, client_plan(model, client, clients, streams, updates)));
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a signing thread")).collect()
    });
    plans.sort_by_key(|(client, _)| *client);
    plans.into_iter().map(|(_, plan)| plan).collect()
}

fn client_plan(
    model: StreamId,
    client: usize,
    clients: usize,
    streams: usize,
    updates: usize,
) -> ClientPlan {
    let signer = signer(client);
    let mut creates = Vec::new();
    let mut first = None;
    for index in (client..streams).step_by(clients) {
        let mut unique = vec![0u8; 12];
        unique[4..].copy_from_slice(&(index as u64).to_be_bytes());
        let header = InitHeader::new(signer.did(), model).with_unique(unique);
        let content = json!({"text": format!("note {index}"), "n": 0});
        let payload = InitPayload { header, data: Some(json_to_ipld(&content).expect("JSON")) };
        let event = Event::sign(&signer, payload.into()).expect("signs");
        first.get_or_insert(*event.cid());
        creates.push(body(&event));
    }
    let init = first.expect("client < streams");
    let stream = StreamId::new(ceramic_streamid::StreamType::MID, init).expect("a StreamID");
    let mut prev = init;
    let mut chain = Vec::with_capacity(updates);
    for n in 1..=updates {
        let patch = json!([{"op": "replace", "path": "/n", "value": n}]);
        let payload = DataPayload {
            id: init,
            prev,
            header: None,
            data: Some(json_to_ipld(&patch).expect("a patch")),
        };
        let event = Event::sign(&signer, payload.into()).expect("signs");
        prev = *event.cid();
        chain.push(body(&event));
    }
    ClientPlan { creates, updates: chain, updated: (stream, prev) }
}

/// One client's HTTP/1 keep-alive connection.
struct Conn {
    sender: SendRequest<Full<Bytes>>,
    addr: SocketAddr,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Conn {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connects");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1 handshake");
        tokio::spawn(connection);
        Conn { sender, addr }
    }

    async fn send(&mut self, request: hyper::Request<Full<Bytes>>) -> (hyper::StatusCode, Bytes) {
        self.sender.ready().await.expect("the connection is usable");
        let response = self.sender.send_request(request).await.expect("an HTTP answer");
        let status = response.status();
        (status, response.into_body().collect().await.expect("the body").to_bytes())
    }

    /// `POST /ceramic/events`; panics unless the node answers 204.
    async fn post(&mut self, body: Bytes) {
        let request = hyper::Request::post("/ceramic/events")
            .header("host", self.addr.to_string())
            .header("content-type", "application/json")
            .body(Full::new(body))
            .expect("a request");
        let (status, body) = self.send(request).await;
        assert_eq!(
            status,
            hyper::StatusCode::NO_CONTENT,
            "the node refused an event: {}",
            String::from_utf8_lossy(&body)
        );
    }

    async fn get(&mut self, path: &str) -> Value {
        let request = hyper::Request::get(path)
            .header("host", self.addr.to_string())
            .body(Full::new(Bytes::new()))
            .expect("a request");
        let (status, body) = self.send(request).await;
        assert!(status.is_success(), "GET {path}: {status}");
        serde_json::from_slice(&body).expect("a JSON answer")
    }
}

/// What one phase measured.
struct Phase {
    events: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    cpu: f64,
    rss: f64,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let rank = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies
            .get(rank.min(self.latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    }

    fn report(&self, name: &str, what: &str) {
        println!(
            "post_events_load {name}: {what} = {} events in {:.2} s: {:.0} events/s; latency \
             p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; node CPU {:.3} ms/event ({:.2} cores); \
             node RSS {:.1} MiB after",
            self.events,
            self.elapsed.as_secs_f64(),
            self.rate(),
            ms(self.percentile(0.50)),
            ms(self.percentile(0.99)),
            ms(self.latencies.last().copied().unwrap_or_default()),
            self.cpu * 1e3 / self.events as f64,
            self.cpu / self.elapsed.as_secs_f64(),
            self.rss,
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs every client's events concurrently, each client one event at a time.
async fn phase(node: &Node, conns: Vec<Conn>, work: Vec<Vec<Bytes>>) -> (Vec<Conn>, Phase) {
    let events = work.iter().map(Vec::len).sum();
    let cpu_before = node.cpu_seconds();
    let start = Instant::now();
    let tasks: Vec<_> = conns
        .into_iter()
        .zip(work)
        .map(|(mut conn, bodies)| {
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(bodies.len());
                for body in bodies {
                    let sent = Instant::now();
                    tokio::time::timeout(WRITE_TIMEOUT, conn.post(body))
                        .await
                        .expect("the event is answered in time");
                    latencies.push(sent.elapsed());
                }
                (conn, latencies)
            })
        })
        .collect();
    let mut conns = Vec::with_capacity(tasks.len());
    let mut latencies = Vec::with_capacity(events);
    for task in tasks {
        let (conn, l) = task.await.expect("a client task");
        conns.push(conn);
        latencies.extend(l);
    }
    let elapsed = start.elapsed();
    let cpu = node.cpu_seconds() - cpu_before;
    latencies.sort();
    (conns, Phase { events, elapsed, latencies, cpu, rss: node.rss_mib() })
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this once with few events.
    let quick = std::env::args().all(|a| a != "--bench");
    let Some(binary) = node_binary() else {
        let message = "post_events_load: no node binary: set CERAMIC_NODE_BIN to a ceramic-node \
                       (e.g. `cargo build --release -p ceramic-node`, target/release/ceramic-node)";
        if quick {
            println!("{message}; skipped");
            return;
        }
        panic!("{message}");
    };
    let clients = if quick { 4 } else { CLIENTS };
    let streams = if quick { 8 } else { env("POST_EVENTS_STREAMS", 2_000) };
    let updates = if quick { 3 } else { env("POST_EVENTS_UPDATES", 50) };
    assert!(streams >= clients, "POST_EVENTS_STREAMS must be at least {clients}");
    println!(
        "post_events_load: node {}, {clients} clients, {streams} MID creates, {updates} updates \
         per client{}",
        binary.display(),
        if quick { " (quick: cargo test --benches)" } else { "" }
    );
    let signing = Instant::now();
    let model = model_event();
    let model_id = model.stream_id().expect("an init event");
    let plans = plan(model_id, clients, streams, updates);
    println!(
        "post_events_load: signed {streams} creates and {} updates in {:.1} s (not timed)",
        clients * updates,
        signing.elapsed().as_secs_f64()
    );
    let node = Node::start(&binary, clock_ticks());
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let mut conns = Vec::with_capacity(clients);
        for _ in 0..clients {
            conns.push(Conn::open(node.http).await);
        }
        conns[0].post(body(&model)).await;
        let rss_start = node.rss_mib();
        let creates: Vec<Vec<Bytes>> = plans.iter().map(|p| p.creates.clone()).collect();
        let (conns, created) = phase(&node, conns, creates).await;
        created.report(
            "creates",
            &format!("{clients} clients creating {streams} MIDs (RSS {rss_start:.1} MiB before)"),
        );
        let chains: Vec<Vec<Bytes>> = plans.iter().map(|p| p.updates.clone()).collect();
        let (mut conns, updated) = phase(&node, conns, chains).await;
        updated.report("updates", &format!("{clients} clients x {updates} updates"));
        // The events really landed: the feed holds each one, and the tips are the last updates.
        let head = conns[0].get("/ceramic/feed/resumeToken").await;
        let total = 1 + streams + clients * updates;
        assert_eq!(head["resumeToken"], json!(total.to_string()), "the feed holds every event");
        for (conn, plan) in conns.iter_mut().zip(&plans).take(4) {
            let (stream, tip) = plan.updated;
            let state = conn.get(&format!("/ceramic/streams/{stream}")).await;
            assert_eq!(
                state["event_cid"],
                json!(tip.to_string()),
                "{stream} is at its last update"
            );
        }
        println!("\n| phase | events | events/s | p50 ms | p99 ms | max ms | node CPU ms/event |");
        println!("| --- | --- | --- | --- | --- | --- | --- |");
        for (name, p) in [("MID creates", &created), ("MID updates", &updated)] {
            println!(
                "| {name} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.3} |",
                p.events,
                p.rate(),
                ms(p.percentile(0.50)),
                ms(p.percentile(0.99)),
                ms(p.latencies.last().copied().unwrap_or_default()),
                p.cpu * 1e3 / p.events as f64,
            );
        }
        let all = created.events + updated.events;
        let seconds = created.elapsed.as_secs_f64() + updated.elapsed.as_secs_f64();
        println!(
            "post_events_load: both phases {all} events, {:.0} events/s",
            all as f64 / seconds
        );
    });
}
