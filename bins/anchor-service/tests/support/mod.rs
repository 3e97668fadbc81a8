//! The helpers the tests of the real `ceramic-anchor-service` binary share: start it from a
//! config file, read its printed addresses, signal it, and speak HTTP/1.1 to it.
#![allow(dead_code)] // each test binary uses its own part of the helpers

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::time::Duration;

use anyhow::{Context, Result};
use ceramic_testkit::{Process, Program, Signal};
use serde_json::Value;

pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_ceramic-anchor-service");
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);
pub(crate) const HTTP_READY: &str = "ceramic-anchor-service http listening on ";
pub(crate) const GRPC_READY: &str = "ceramic-anchor-service grpc listening on ";

/// A running service; killed on drop unless it has already exited.
pub(crate) struct Running {
    process: Process,
}

impl Running {
    pub(crate) fn start(config: &Path) -> Result<Running> {
        let process = Program::new(BINARY).arg("--config").arg(config).spawn()?;
        Ok(Running { process })
    }

    /// The HTTP and gRPC addresses from the printed lines.
    pub(crate) fn addresses(&mut self) -> Result<(SocketAddr, SocketAddr)> {
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

    pub(crate) fn signal(&self, signal: Signal) -> Result<()> {
        Ok(self.process.signal(signal)?)
    }

    pub(crate) fn wait(&mut self) -> Result<ExitStatus> {
        Ok(self.process.wait_exit(TIMEOUT)?)
    }
}

/// One HTTP/1.1 request on a new connection (`Connection: close`): status and body.
pub(crate) fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, String)> {
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

pub(crate) fn write_config(dir: &Path, extra: &str) -> Result<PathBuf> {
    let path = dir.join("cas.toml");
    let data = dir.join("data");
    let config = format!(
        "data_dir = {data:?}\nhttp_listen = \"127.0.0.1:0\"\ngrpc_listen = \"127.0.0.1:0\"\nlog_level = \"warn\"\n{extra}"
    );
    std::fs::write(&path, config)?;
    Ok(path)
}
