//! The real `ceramic-node` binary: it starts from a config file on a free port, prints its
//! address, answers Health and NodeInfo, and exits 0 on SIGTERM; a bad config is refused.
//! Every wait has a timeout, and a child left running by a failed test is killed on drop.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

use anyhow::{Context, Result};
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{HealthRequest, NodeInfoRequest, ServingStatus};
use ceramic_testkit::{Process, Program, Signal};

const BINARY: &str = env!("CARGO_BIN_EXE_ceramic-node");
const TIMEOUT: Duration = Duration::from_secs(60);
const READY: &str = "ceramic-node listening on ";

/// A running node; killed on drop unless it has already exited.
struct Running {
    process: Process,
}

impl Running {
    fn start(config: &Path) -> Result<Running> {
        let process = Program::new(BINARY).arg("--config").arg(config).spawn()?;
        Ok(Running { process })
    }

    /// The address from the node's `listening on` line.
    fn address(&mut self) -> Result<SocketAddr> {
        let addr = self.process.wait_for_prefix(READY, TIMEOUT)?;
        addr.trim().parse().context("parsing the printed address")
    }

    fn signal(&self, signal: Signal) -> Result<()> {
        Ok(self.process.signal(signal)?)
    }

    fn wait(&mut self) -> Result<ExitStatus> {
        Ok(self.process.wait_exit(TIMEOUT)?)
    }
}

fn write_config(dir: &Path, extra: &str) -> Result<std::path::PathBuf> {
    let path = dir.join("node.toml");
    let data = dir.join("data");
    let config = format!(
        "data_dir = {data:?}\nlisten = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\nnetwork = \"test-net\"\nlog_level = \"warn\"\n{extra}\n[p2p]\nlisten = [\"/ip4/127.0.0.1/tcp/0\"]\n"
    );
    std::fs::write(&path, config)?;
    Ok(path)
}

#[test]
fn the_binary_serves_health_and_exits_cleanly_on_sigterm() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = write_config(dir.path(), "")?;
    let mut node = Running::start(&config)?;
    let addr = node.address()?;

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let mut client = NodeClient::connect(format!("http://{addr}")).await?;
        let health = client.health(HealthRequest {}).await?.into_inner();
        assert_eq!(health.status(), ServingStatus::Serving, "{}", health.reason);
        let info = client.node_info(NodeInfoRequest {}).await?.into_inner();
        assert_eq!(info.network, "test-net");
        assert_eq!(info.anchor_verifier, "dev (inmemory:12345)");
        let names: Vec<&str> = info.doctypes.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["tile", "caip10-link", "model", "MID"]);
        anyhow::Ok(())
    })?;
    // Close the client's connection: a graceful HTTP/2 shutdown waits for clients to answer
    // (up to the node's grace period), and this runtime will not run again.
    drop(runtime);

    node.signal(Signal::Term)?;
    let status = node.wait()?;
    assert!(status.success(), "ceramic-node exited with {status}");
    assert!(dir.path().join("data/store").is_dir(), "the store is under the data dir");
    Ok(())
}

#[test]
fn logs_written_to_a_pipe_carry_no_colour_codes() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = write_config(dir.path(), "")?;
    // Info level, so the node logs its start and stop; stderr is a pipe here.
    let mut node =
        Program::new(BINARY).arg("--config").arg(&config).env("RUST_LOG", "info").spawn()?;
    node.wait_for_prefix(READY, TIMEOUT)?;
    node.signal(Signal::Term)?;
    let finished = node.finish(TIMEOUT)?;
    assert!(finished.success(), "{}", finished.stderr);
    assert!(finished.stderr.contains("INFO"), "no log lines: {}", finished.stderr);
    assert!(!finished.stderr.contains('\x1b'), "ANSI escapes in {:?}", finished.stderr);
    Ok(())
}

#[test]
fn the_binary_refuses_a_config_with_an_unknown_key() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let config = write_config(dir.path(), "colour = \"blue\"\n")?;
    let mut node = Running::start(&config)?;
    let status = node.wait()?;
    assert!(!status.success(), "a bad config was accepted");
    Ok(())
}
