//! The real `@ceramicnetwork/http-client` 6.4.0 (installed by `cargo xtask tools` into
//! `tools/http-client/`) against the real `ceramic-node` binary: `tools/http-client/e2e.mjs`
//! creates a signed TileDocument, updates it twice, loads it by StreamID and CommitID, lists its
//! commits and runs a multiquery; then the stream is cross-checked over gRPC. Every wait has a
//! timeout, and the node is killed on drop if a check fails.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{ListCommitsRequest, LoadStreamRequest};
use ceramic_testkit::{Process, Program, Signal, tools};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_ceramic-node");
const TIMEOUT: Duration = Duration::from_secs(60);
/// The did:key of the scripts' fixed seed 000102…1f: the node's admin in these tests.
const ADMIN_DID: &str = "did:key:z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd";

/// The node process; killed on drop.
struct Node {
    process: Process,
}

impl Node {
    /// A node on free ports, dialling `bootstrap` (a libp2p address) if given.
    fn start(dir: &Path, bootstrap: Option<&str>) -> Result<Node> {
        std::fs::create_dir_all(dir)?;
        let config = dir.join("node.toml");
        let bootstrap = bootstrap.map(|a| format!("{a:?}")).unwrap_or_default();
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\nlisten = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\nlog_level = \"warn\"\n\
                 admin_dids = [{ADMIN_DID:?}]\n\
                 [p2p]\nlisten = [\"/ip4/127.0.0.1/tcp/0\"]\nbootstrap = [{bootstrap}]\n\
                 [gc]\npin_on_write = false\n",
                dir.join("data")
            ),
        )?;
        let process = Program::new(BINARY).arg("--config").arg(&config).spawn()?;
        Ok(Node { process })
    }

    /// The gRPC, HTTP and (first) libp2p addresses from the node's ready lines.
    fn addresses(&mut self) -> Result<(SocketAddr, SocketAddr, String)> {
        const GRPC: &str = "ceramic-node listening on ";
        const HTTP: &str = "ceramic-node http on ";
        const P2P: &str = "ceramic-node p2p on ";
        let (mut grpc, mut http, mut p2p) = (None, None, None);
        while grpc.is_none() || http.is_none() || p2p.is_none() {
            let line = self.process.wait_for_line("the address lines", TIMEOUT, |l| {
                [GRPC, HTTP, P2P].iter().any(|p| l.starts_with(p))
            })?;
            if let Some(a) = line.strip_prefix(GRPC) {
                grpc = Some(a.trim().parse()?);
            } else if let Some(a) = line.strip_prefix(HTTP) {
                http = Some(a.trim().parse()?);
            } else if let Some(a) = line.strip_prefix(P2P) {
                p2p = Some(a.trim().to_owned());
            }
        }
        Ok((grpc.context("grpc")?, http.context("http")?, p2p.context("p2p")?))
    }
}

/// `tools/http-client/`, checked to be installed.
fn tool_dir() -> PathBuf {
    tools::tool_dir("http-client", &["node_modules/@ceramicnetwork/http-client/package.json"])
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `node e2e.mjs <url>` with a timeout; its exit status and stdout.
fn run_script(dir: &Path, url: &str, second: &str) -> Result<(bool, String, String)> {
    run_node(dir, &["e2e.mjs", "--anchor", "--second-node", second, url])
}

/// Runs `node <args>` in `dir` with a timeout (killed after it); its exit status and output.
fn run_node(dir: &Path, args: &[&str]) -> Result<(bool, String, String)> {
    let finished = Program::new("node")
        .args(args)
        .current_dir(dir)
        .run(Duration::from_secs(120))
        .context("running `node` (Node.js 20 or later must be on PATH)")?;
    Ok((finished.success(), finished.stdout, finished.stderr))
}

#[test]
fn the_real_js_http_client_creates_updates_loads_and_lists_a_tile() -> Result<()> {
    let tools = tool_dir();
    let dir = tempfile::tempdir()?;
    let mut node = Node::start(&dir.path().join("a"), None)?;
    let (grpc, http, p2p) = node.addresses()?;
    // A second node that knows only the first one's libp2p address.
    let mut second = Node::start(&dir.path().join("b"), Some(&p2p))?;
    let (_, second_http, _) = second.addresses()?;

    let (ok, stdout, stderr) =
        run_script(&tools, &format!("http://{http}"), &format!("http://{second_http}"))?;
    assert!(ok, "e2e.mjs failed:\nstdout: {stdout}\nstderr: {stderr}");
    let summary: Value = serde_json::from_str(stdout.trim())
        .with_context(|| format!("the script's summary is not JSON: {stdout}"))?;
    assert_eq!(summary["failures"], json!([]), "{summary}");
    assert_eq!(summary["did"], "did:key:z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd");
    assert_eq!(summary["commits"], 3, "{summary}");
    assert_eq!(summary["loadedByCommit"], json!([1, 2, 3]), "{summary}");
    assert_eq!(summary["multiquery"], 2, "{summary}");
    assert_eq!(summary["missingRefused"], true);
    // The client turns the state's `anchorStatus` name back into the enum's number.
    assert_eq!(summary["anchorStatus"], 0, "writes asked for no anchor");
    // Anchored on the embedded dev chain: PENDING (1) when asked, then an anchor commit.
    assert_eq!(summary["supportedChains"], json!(["inmemory:12345"]));
    assert_eq!(summary["requestedAnchorStatus"], 1);
    assert_eq!(summary["anchoredLog"], 4, "{summary}");
    // The second node loaded the stream from the first over the network.
    assert_eq!(summary["secondNode"], true, "{summary}");
    assert!(summary["anchorTimestamp"].as_u64().is_some(), "{summary}");
    let content =
        json!({"title": "hello world", "count": 3, "done": true, "tags": ["a", "b"], "ratio": 0.5});
    assert_eq!(summary["content"], content);

    // The same stream over gRPC: what the JS client wrote is what the node stored.
    let stream_id = summary["streamId"].as_str().context("streamId")?.to_string();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut client = NodeClient::connect(format!("http://{grpc}")).await?;
        let request = LoadStreamRequest { id: stream_id.clone(), at_time: None };
        let state = client.load_stream(request).await?.into_inner().state.context("state")?;
        assert_eq!(state.log_length, 4, "genesis, two updates, the anchor");
        let state_json: Value = serde_json::from_str(&state.state_json)?;
        let current = state_json["next"]["content"].clone();
        let current = if current.is_null() { state_json["content"].clone() } else { current };
        assert_eq!(current, content);
        assert_eq!(
            state_json["metadata"]["controllers"],
            json!(["did:key:z6MkehRgf7yJbgaGfYsdoAsKdBPE3dj2CYhowQdcjqSJgvVd"])
        );
        let listed = client.list_commits(ListCommitsRequest { id: stream_id }).await?.into_inner();
        let ids: Vec<&str> = listed.commits.iter().take(3).map(|c| c.commit_id.as_str()).collect();
        assert_eq!(listed.commits[3].kind(), ceramic_proto::v1::CommitKind::Anchor);
        let expected: Vec<&str> = summary["commitIds"]
            .as_array()
            .context("commitIds")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(ids, expected, "the CommitIDs the JS client saw are the node's log");
        anyhow::Ok(())
    })?;
    drop(runtime);

    // The admin API through the real client: pin, list, unpin with the configured admin DID;
    // another DID is refused. The node runs with `[gc] pin_on_write = false`, so only these
    // calls pin (admin.mjs starts from no pins); writes that pin are tested in core's ops tests.
    let (ok, stdout, stderr) = run_node(&tools, &["admin.mjs", &format!("http://{http}")])?;
    assert!(ok, "admin.mjs failed:\nstdout: {stdout}\nstderr: {stderr}");
    let admin: Value = serde_json::from_str(stdout.trim())?;
    assert_eq!(admin["admin"], ADMIN_DID);
    assert_eq!(admin["failures"], json!([]), "{admin}");

    // The metrics counted the writes (create and two updates; the anchor is applied as a tip).
    let metrics = http_get(http, "/metrics")?;
    // The admin script created one more stream.
    assert!(metrics.contains("ceramic_commits_applied_total 4"), "{metrics}");
    // The first stream's anchor was measured; the admin script's stream may be anchored (and
    // measured) before this read or after it.
    let anchors = metrics
        .lines()
        .find_map(|l| l.strip_prefix("ceramic_anchor_latency_seconds_count "))
        .and_then(|n| n.trim().parse::<u64>().ok());
    assert!(matches!(anchors, Some(1 | 2)), "{metrics}");

    // One SIGTERM stops both servers, and the node exits cleanly.
    node.process.signal(Signal::Term)?;
    let exit = node.process.wait_exit(TIMEOUT)?;
    assert!(exit.success(), "ceramic-node exited with {exit}");
    Ok(())
}

/// A plain HTTP/1.1 GET; the response body.
fn http_get(addr: SocketAddr, path: &str) -> Result<String> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").context("an HTTP response")?;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    Ok(body.to_owned())
}

/// The wallet of `e2e.mjs --session`: the address of the key sha256("ceramic-rs cacao ethereum
/// wallet"), as `crates/did/testdata/js-cacao.json` also uses it.
const SESSION_CONTROLLER: &str = "did:pkh:eip155:1:0x048ffe2432385d31369acdcb65760d1e60b97688";

#[test]
fn the_real_js_http_client_writes_through_an_ethereum_did_session() -> Result<()> {
    let tools = tool_dir();
    let dir = tempfile::tempdir()?;
    let mut node = Node::start(&dir.path().join("a"), None)?;
    let (grpc, http, p2p) = node.addresses()?;
    let mut second = Node::start(&dir.path().join("b"), Some(&p2p))?;
    let (_, second_http, _) = second.addresses()?;

    let url = format!("http://{http}");
    let second_url = format!("http://{second_http}");
    let args = ["e2e.mjs", "--session", "--anchor", "--second-node", &second_url, &url];
    let (ok, stdout, stderr) = run_node(&tools, &args)?;
    assert!(ok, "e2e.mjs --session failed:\nstdout: {stdout}\nstderr: {stderr}");
    let summary: Value = serde_json::from_str(stdout.trim())
        .with_context(|| format!("the script's summary is not JSON: {stdout}"))?;
    assert_eq!(summary["failures"], json!([]), "{summary}");
    assert_eq!(summary["did"], SESSION_CONTROLLER);
    assert_eq!(summary["commits"], 3, "{summary}");
    assert_eq!(summary["anchoredLog"], 4, "{summary}");
    assert_eq!(summary["secondNode"], true, "{summary}");

    // What the node stored: the wallet's did:pkh controls the stream.
    let stream_id = summary["streamId"].as_str().context("streamId")?.to_string();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut client = NodeClient::connect(format!("http://{grpc}")).await?;
        let request = LoadStreamRequest { id: stream_id, at_time: None };
        let state = client.load_stream(request).await?.into_inner().state.context("state")?;
        let state_json: Value = serde_json::from_str(&state.state_json)?;
        assert_eq!(state_json["metadata"]["controllers"], json!([SESSION_CONTROLLER]));
        anyhow::Ok(())
    })?;
    drop(runtime);
    node.process.signal(Signal::Term)?;
    assert!(node.process.wait_exit(TIMEOUT)?.success());
    Ok(())
}
