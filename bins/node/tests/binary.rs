//! The real `ceramic-node` binary: it starts from a config file on a free port, prints its
//! address, answers Health and NodeInfo, and exits 0 on SIGTERM; a bad config is refused.
//! Every wait has a timeout, and a child left running by a failed test is killed on drop.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ceramic_proto::v1::node_client::NodeClient;
use ceramic_proto::v1::{HealthRequest, NodeInfoRequest, ServingStatus};

const BINARY: &str = env!("CARGO_BIN_EXE_ceramic-node");
const TIMEOUT: Duration = Duration::from_secs(60);
const READY: &str = "ceramic-node listening on ";

/// A running node; killed on drop unless it has already exited.
struct Running {
    pid: u32,
    exited: bool,
    /// The process's exit status, sent by the thread that waits for it.
    status: mpsc::Receiver<std::io::Result<ExitStatus>>,
    /// Standard output lines, sent by the thread that reads them.
    lines: mpsc::Receiver<String>,
}

impl Running {
    fn start(config: &Path) -> Result<Running> {
        let mut child: Child = Command::new(BINARY)
            .arg("--config")
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting ceramic-node")?;
        let pid = child.id();
        let stdout = child.stdout.take().context("stdout")?;
        let (line_tx, lines) = mpsc::sync_channel(64);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let (status_tx, status) = mpsc::sync_channel(1);
        std::thread::spawn(move || status_tx.send(child.wait()));
        Ok(Running { pid, exited: false, status, lines })
    }

    /// The address from the node's `listening on` line.
    fn address(&self) -> Result<SocketAddr> {
        loop {
            let line = self.lines.recv_timeout(TIMEOUT).context("waiting for the address")?;
            if let Some(addr) = line.strip_prefix(READY) {
                return addr.trim().parse().context("parsing the printed address");
            }
        }
    }

    fn signal(&self, name: &str) -> Result<()> {
        let status =
            Command::new("kill").arg(format!("-{name}")).arg(self.pid.to_string()).status()?;
        if !status.success() {
            bail!("kill -{name} {} failed", self.pid);
        }
        Ok(())
    }

    fn wait(&mut self) -> Result<ExitStatus> {
        let status =
            self.status.recv_timeout(TIMEOUT).context("waiting for the node to exit")??;
        self.exited = true;
        Ok(status)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if !self.exited && self.status.try_recv().is_err() {
            let _ = self.signal("KILL");
        }
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
        assert_eq!(names, ["tile", "caip10-link"]);
        anyhow::Ok(())
    })?;
    // Close the client's connection: a graceful HTTP/2 shutdown waits for clients to answer
    // (up to the node's grace period), and this runtime will not run again.
    drop(runtime);

    node.signal("TERM")?;
    let status = node.wait()?;
    assert!(status.success(), "ceramic-node exited with {status}");
    assert!(dir.path().join("data/store").is_dir(), "the store is under the data dir");
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
