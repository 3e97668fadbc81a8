//! The local S3-compatible server of the backup tests and bench: s3rver (npm) run by
//! `tools/s3rver/serve.mjs`.

use std::path::Path;
use std::time::Duration;

use crate::{Process, Program, Result, tools};

/// s3rver on 127.0.0.1 holding its objects in a directory, killed on drop. Its credentials
/// are [`S3rver::ACCESS_KEY`] / [`S3rver::SECRET_KEY`]; region `us-east-1`.
#[derive(Debug)]
pub struct S3rver {
    process: Process,
    endpoint: String,
    port: u16,
}

impl S3rver {
    /// The access key id s3rver accepts.
    pub const ACCESS_KEY: &'static str = "S3RVER";
    /// The secret key s3rver accepts.
    pub const SECRET_KEY: &'static str = "S3RVER";
    /// How long it may take to print its ready line (under a loaded build machine).
    pub const STARTUP: Duration = Duration::from_secs(60);

    /// Starts s3rver on `port` (0: any free port) over `dir`, creating `buckets`; returns once it
    /// prints `S3 <endpoint>`. Restarting on the same port and directory keeps the objects.
    ///
    /// # Errors
    /// [`crate::Error::ToolMissing`] before `cargo xtask tools`; the errors of
    /// [`Program::start`].
    pub fn start(dir: &Path, port: u16, buckets: &[&str]) -> Result<S3rver> {
        let tool = tools::tool_dir("s3rver", &["node_modules/s3rver"])?;
        let program = Program::new("node")
            .arg(tool.join("serve.mjs"))
            .arg(dir)
            .arg(port.to_string())
            .args(buckets)
            .current_dir(&tool)
            .with_name("s3rver");
        let (process, endpoint) = program.start("S3 ", Self::STARTUP)?;
        let port = endpoint.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(port);
        Ok(S3rver { process, endpoint, port })
    }

    /// Its endpoint, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops it (the objects stay in its directory).
    pub fn stop(mut self) {
        self.process.kill();
    }
}
