//! The real `@ceramic-sdk/*` 0.12.0 packages (`http-client`, `model-client`,
//! `model-instance-client`, `stream-client`, `events`; installed by `cargo xtask tools` into
//! `tools/ceramic-sdk/`) against the real `ceramic-node` binary on RocksDB with fsync:
//! `tools/ceramic-sdk/e2e.mjs write` creates two Models (a `list` one and a `single` one with a
//! document relation) and documents of both with a did:key and with a CACAO session, updates and
//! reads them back, sends bad input (refused, the feed unmoved) and reads half of the feed; the
//! node is then RESTARTED on the same data directory and `e2e.mjs resume` updates the documents
//! again and reads the rest of the feed from the saved token: every event posted appears once,
//! in order. gRPC `ListInstances` and `SubscribeEvents` are checked against what the SDK wrote.
//! Every wait has a timeout, and the node is killed on drop if a check fails.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::subscribe_events_request::Filter;
use ceramic_proto::v1::{ListInstancesRequest, SubscribeEventsRequest};
use ceramic_testkit::{Process, Program, Signal, tools};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_ceramic-node");
const TIMEOUT: Duration = Duration::from_secs(60);

/// The node process; killed on drop.
struct Node {
    process: Process,
    grpc: SocketAddr,
    http: SocketAddr,
}

impl Node {
    /// A node on free ports, without a network, fsyncing each write, its store in `dir/data`.
    fn start(dir: &Path) -> Result<Node> {
        std::fs::create_dir_all(dir)?;
        let config = dir.join("node.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\n\
                 log_level = \"warn\"\nsync = true\nmin_free_bytes = 4194304\n\
                 [p2p]\nenabled = false\n",
                dir.join("data")
            ),
        )?;
        let mut process = Program::new(BINARY).arg("--config").arg(&config).spawn()?;
        const GRPC: &str = "ceramic-node listening on ";
        const HTTP: &str = "ceramic-node http on ";
        let (mut grpc, mut http) = (None, None);
        while grpc.is_none() || http.is_none() {
            let line = process.wait_for_line("the address lines", TIMEOUT, |l| {
                l.starts_with(GRPC) || l.starts_with(HTTP)
            })?;
            if let Some(a) = line.strip_prefix(GRPC) {
                grpc = Some(a.trim().parse()?);
            } else if let Some(a) = line.strip_prefix(HTTP) {
                http = Some(a.trim().parse()?);
            }
        }
        Ok(Node { process, grpc: grpc.context("grpc")?, http: http.context("http")? })
    }

    /// SIGTERM, and a clean exit.
    fn stop(mut self) -> Result<()> {
        self.process.signal(Signal::Term)?;
        let exit = self.process.wait_exit(TIMEOUT)?;
        anyhow::ensure!(exit.success(), "ceramic-node exited with {exit}");
        Ok(())
    }
}

/// `tools/ceramic-sdk/`, checked to be installed.
fn tool_dir() -> PathBuf {
    let needs = [
        "node_modules/@ceramic-sdk/http-client/package.json",
        "node_modules/@ceramic-sdk/model-instance-client/package.json",
    ];
    tools::tool_dir("ceramic-sdk", &needs).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `node e2e.mjs <args>` in `dir` with a timeout; its JSON summary.
fn run_script(dir: &Path, args: &[&str]) -> Result<Value> {
    let finished = Program::new("node")
        .arg("e2e.mjs")
        .args(args)
        .current_dir(dir)
        .run(Duration::from_secs(120))
        .context("running `node` (Node.js 20 or later must be on PATH)")?;
    let (stdout, stderr) = (&finished.stdout, &finished.stderr);
    anyhow::ensure!(
        finished.success(),
        "e2e.mjs {args:?} failed:\nstdout: {stdout}\nstderr: {stderr}"
    );
    serde_json::from_str(stdout.trim())
        .with_context(|| format!("the script's summary is not JSON: {stdout}\nstderr: {stderr}"))
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from).collect()
}

/// A plain HTTP/1.1 GET; the JSON body.
fn http_get(addr: SocketAddr, path: &str) -> Result<Value> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").context("an HTTP response")?;
    anyhow::ensure!(head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
    Ok(serde_json::from_str(body)?)
}

/// Every event id of the node's feed, read in one page over HTTP.
fn whole_feed(node: &Node) -> Result<Vec<String>> {
    let page = http_get(node.http, "/ceramic/feed/events?limit=10000")?;
    Ok(page["events"]
        .as_array()
        .context("events")?
        .iter()
        .filter_map(|e| e["id"].as_str().map(String::from))
        .collect())
}

#[test]
fn the_real_ceramic_sdk_writes_reads_and_resumes_the_feed_across_a_restart() -> Result<()> {
    let tools = tool_dir();
    let dir = tempfile::tempdir()?;
    let node = Node::start(dir.path())?;
    let url = format!("http://{}", node.http);

    let first = run_script(&tools, &["write", &url])?;
    assert_eq!(first["failures"], json!([]), "{first:#}");
    let written = strings(&first["written"]);
    // 2 Models; 2 Notes and their updates; 2 Profiles and their updates.
    assert_eq!(written.len(), 10, "{first:#}");
    assert_eq!(whole_feed(&node)?, written, "the feed is every event posted, in order");
    for refusal in first["refused"].as_array().context("refused")? {
        let message = refusal["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("Failed to post event: "), "{refusal}");
    }
    let refusal = |name: &str| -> String {
        first["refused"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["name"] == name)
            .and_then(|r| r["message"].as_str())
            .unwrap_or_default()
            .to_lowercase()
    };
    assert!(refusal("schema: missing required text").contains("schema"), "{first:#}");
    assert!(refusal("schema: text too long").contains("schema"), "{first:#}");
    assert!(refusal("second instance of a single relation").contains("single"), "{first:#}");
    assert!(refusal("relation to a stream of the wrong model").contains("model"), "{first:#}");
    assert!(refusal("model that does not exist").contains("model"), "{first:#}");
    assert!(refusal("update by another DID").contains("controller"), "{first:#}");
    let seen_before_restart = strings(&first["feed"]);
    assert!(
        !seen_before_restart.is_empty() && seen_before_restart.len() < written.len(),
        "the first reader stops half way: {first:#}"
    );
    let token = first["resumeToken"].as_str().context("resumeToken")?.to_string();
    assert_eq!(token, seen_before_restart.len().to_string());

    // gRPC over what the SDK wrote: the Note model's instances (all, and Alice's), and the
    // subscription to that model's events from the start.
    let (note, session_note) =
        (first["note"].as_str().unwrap(), first["sessionNote"].as_str().unwrap());
    let note_model = first["noteModel"].as_str().context("noteModel")?.to_string();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut client = NodeClient::connect(format!("http://{}", node.grpc)).await?;
        let all = ListInstancesRequest { model: note_model.clone(), ..Default::default() };
        let mut listed = client.list_instances(all).await?.into_inner().stream_ids;
        listed.sort();
        let mut expected = vec![note.to_string(), session_note.to_string()];
        expected.sort();
        assert_eq!(listed, expected);
        let alices = ListInstancesRequest {
            model: note_model.clone(),
            controller: first["alice"].as_str().unwrap().to_string(),
            ..Default::default()
        };
        assert_eq!(client.list_instances(alices).await?.into_inner().stream_ids, [note]);
        let request = SubscribeEventsRequest {
            resume_after: 0,
            filter: Some(Filter::Model(note_model.clone())),
        };
        let mut events = client.subscribe_events(request).await?.into_inner();
        let mut got = Vec::new();
        while got.len() < 4 {
            let event = tokio::time::timeout(TIMEOUT, events.message()).await??.context("ended")?;
            assert!([note, session_note].contains(&event.stream_id.as_str()), "{event:?}");
            got.push(event.event_cid);
        }
        // The Notes' inits and updates: feed entries 3..=6.
        assert_eq!(got, written[2..6]);
        anyhow::Ok(())
    })?;

    // Restart on the same data directory; the reader resumes from its token.
    node.stop()?;
    let node = Node::start(dir.path())?;
    let url = format!("http://{}", node.http);
    let second = run_script(&tools, &["resume", &url, &token, note, session_note])?;
    assert_eq!(second["failures"], json!([]), "{second:#}");
    let written_after = strings(&second["written"]);
    assert_eq!(written_after.len(), 2, "{second:#}");
    let mut everything = written.clone();
    everything.extend(written_after);
    let mut read = seen_before_restart;
    read.extend(strings(&second["feed"]));
    assert_eq!(read, everything, "nothing missing, nothing repeated across the restart");
    assert_eq!(whole_feed(&node)?, everything);
    assert_eq!(second["resumeToken"], json!(everything.len().to_string()));
    node.stop()
}
