//! The real `ceramic-anchor-service` binary: it starts from a config file on free ports,
//! prints both addresses, answers the HTTP API (healthcheck, a request anchored by the manual
//! trigger) and gRPC, exits 0 on SIGTERM, and finds the request again after a restart; a bad
//! config is refused. Every wait has a timeout, and a child left running is killed on drop.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use anyhow::{Context, Result};
use ceramic_proto::v1::SupportedChainsRequest;
use ceramic_proto::v1::anchor_service_client::AnchorServiceClient;
use ceramic_testkit::{Process, Program, Signal};
use serde_json::{Value, json};

const BINARY: &str = env!("CARGO_BIN_EXE_ceramic-anchor-service");
const TIMEOUT: Duration = Duration::from_secs(60);
const HTTP_READY: &str = "ceramic-anchor-service http listening on ";
const GRPC_READY: &str = "ceramic-anchor-service grpc listening on ";

/// A running service; killed on drop unless it has already exited.
struct Running {
    process: Process,
}

impl Running {
    fn start(config: &Path) -> Result<Running> {
        let process = Program::new(BINARY).arg("--config").arg(config).spawn()?;
        Ok(Running { process })
    }

    /// The HTTP and gRPC addresses from the printed lines.
    fn addresses(&mut self) -> Result<(SocketAddr, SocketAddr)> {
        let (mut http, mut grpc) = (None, None);
        while http.is_none() || grpc.is_none() {
            let line = self.process.wait_for_line("the address lines", TIMEOUT, |l| {
                l.starts_with(HTTP_READY) || l.starts_with(GRPC_READY)
            })?;
            if let Some(addr) = line.strip_prefix(HTTP_READY) {
                http = Some(addr.trim().parse()?);
            } else if let Some(addr) = line.strip_prefix(GRPC_READY) {
                grpc = Some(addr.trim().parse()?);
            }
        }
        Ok((http.context("http")?, grpc.context("grpc")?))
    }

    fn signal(&self, signal: Signal) -> Result<()> {
        Ok(self.process.signal(signal)?)
    }

    fn wait(&mut self) -> Result<ExitStatus> {
        Ok(self.process.wait_exit(TIMEOUT)?)
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`): status and body.
fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let status = reply.get(9..12).context("a status line")?.parse()?;
    let body = reply.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

fn write_config(dir: &Path, extra: &str) -> Result<PathBuf> {
    let path = dir.join("cas.toml");
    let data = dir.join("data");
    let config = format!(
        "data_dir = {data:?}\nhttp_listen = \"127.0.0.1:0\"\ngrpc_listen = \"127.0.0.1:0\"\nlog_level = \"warn\"\n{extra}"
    );
    std::fs::write(&path, config)?;
    Ok(path)
}

const STREAM: &str = "kjzl6cwe1jw147dvq16zluojmraqvwdmbh61dx9e0c59i344lcrsgqfohexp60s";
const COMMIT: &str = "bafyreib3kxq7j5sxmqd4ek2mu6tt3yffwgfmw7wyqe6sxucjwvd7b5ojxe";

#[test]
fn the_binary_serves_anchors_and_exits_cleanly_on_sigterm() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = write_config(dir.path(), "")?;
    let mut service = Running::start(&config)?;
    let (http_addr, grpc_addr) = service.addresses()?;

    assert_eq!(http(http_addr, "GET", "/api/v0/healthcheck", None)?, (200, String::new()));
    let request = json!({"streamId": STREAM, "cid": COMMIT, "timestamp": "2024-01-02T03:04:05Z"});
    let (status, body) = http(http_addr, "POST", "/api/v0/requests", Some(&request))?;
    assert_eq!(status, 201, "{body}");
    let (status, body) = http(http_addr, "POST", "/api/v0/anchors", None)?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body)?["anchored"], 1);
    let path = format!("/api/v0/requests/{COMMIT}");
    let (status, body) = http(http_addr, "GET", &path, None)?;
    assert_eq!(status, 200);
    let anchored: Value = serde_json::from_str(&body)?;
    assert_eq!(anchored["status"], "COMPLETED");

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut client = AnchorServiceClient::connect(format!("http://{grpc_addr}")).await?;
        let chains = client.supported_chains(SupportedChainsRequest {}).await?.into_inner();
        assert_eq!(chains.supported_chains, ["inmemory:12345"]);
        anyhow::Ok(())
    })?;
    drop(runtime);

    service.signal(Signal::Term)?;
    let status = service.wait()?;
    assert!(status.success(), "ceramic-anchor-service exited with {status}");
    assert!(dir.path().join("data/requests").is_dir(), "the store is under the data dir");

    // A restart finds the request as it was.
    let mut service = Running::start(&config)?;
    let (http_addr, _) = service.addresses()?;
    let (status, body) = http(http_addr, "GET", &path, None)?;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body)?, anchored);
    service.signal(Signal::Int)?;
    assert!(service.wait()?.success());
    Ok(())
}

#[test]
fn logs_written_to_a_pipe_carry_no_colour_codes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = write_config(dir.path(), "")?;
    // Info level, so the service logs its start and stop; stderr is a pipe here.
    let mut service =
        Program::new(BINARY).arg("--config").arg(&config).env("RUST_LOG", "info").spawn()?;
    service.wait_for_prefix(GRPC_READY, TIMEOUT)?;
    service.signal(Signal::Term)?;
    let finished = service.finish(TIMEOUT)?;
    assert!(finished.success(), "{}", finished.stderr);
    assert!(finished.stderr.contains("INFO"), "no log lines: {}", finished.stderr);
    assert!(!finished.stderr.contains('\x1b'), "ANSI escapes in {:?}", finished.stderr);
    Ok(())
}

#[test]
fn the_binary_refuses_a_config_with_an_unknown_key() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = write_config(dir.path(), "colour = \"blue\"\n")?;
    let mut service = Running::start(&config)?;
    let status = service.wait()?;
    assert!(!status.success(), "a bad config was accepted");
    Ok(())
}

#[test]
fn the_binary_anchors_on_ethereum_and_the_proof_checks_on_the_chain() -> Result<()> {
    use base64::Engine as _;
    use ceramic_anchor::{Chain as _, Witness};
    use ceramic_anchor_eth::test_utils::{Anvil, DEV_KEY_1};

    let anvil = Anvil::start();
    let (chain, contract) = anvil.chain_with_contract();
    let dir = tempfile::tempdir()?;
    let key = dir.path().join("eth.key");
    std::fs::write(&key, DEV_KEY_1)?;
    let contract = format!("0x{}", hex::encode(contract));
    let extra = format!(
        "chain = \"eth\"\n[eth]\nrpc_url = {:?}\nchain_id = 1337\ncontract = {contract:?}\nprivate_key_file = {key:?}\n",
        anvil.url()
    );
    let config = write_config(dir.path(), &extra)?;
    let mut service = Running::start(&config)?;
    let (http_addr, _) = service.addresses()?;

    let request = json!({"streamId": STREAM, "cid": COMMIT});
    assert_eq!(http(http_addr, "POST", "/api/v0/requests", Some(&request))?.0, 201);
    let (status, body) = http(http_addr, "POST", "/api/v0/anchors", None)?;
    assert_eq!(status, 200, "{body}");
    let (_, body) = http(http_addr, "GET", &format!("/api/v0/requests/{COMMIT}"), None)?;
    let anchored: Value = serde_json::from_str(&body)?;
    assert_eq!(anchored["status"], "COMPLETED", "{anchored}");
    let car = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(anchored["witnessCar"].as_str().context("a witness CAR")?)?;
    let witness = Witness::from_car(&car)?;
    assert_eq!(witness.proof().chain_id, "eip155:1337");
    // The chain itself confirms the proof: the root is in a transaction to the contract.
    assert!(chain.check_proof(witness.proof()).is_ok());
    service.signal(Signal::Term)?;
    assert!(service.wait()?.success());
    Ok(())
}
