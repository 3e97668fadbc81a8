//! The one harness of the helia 7 / js-libp2p 3 bitswap peer (`tools/helia/peer.mjs`), shared
//! by the interop tests of `ceramic-bitswap` and `ceramic-net`.

use std::time::Duration;

use crate::{Process, Result, tools};

/// A helia peer on 127.0.0.1 (tcp, noise, yamux, identify, bitswap 1.2.0), run by the
/// npm-installed Node 22 and driven through its stdin and stdout; killed on drop.
///
/// It holds one dag-cbor block from the start ([`Helia::cid`], [`Helia::data_hex`]) and
/// answers the commands `peer.mjs` documents, one line each:
/// `DIAL <multiaddr>` → `DIALED <peer>`; `FETCH <cid>` → `GOT <cid> <hex>` or
/// `ERR <cid> <message>`; `PUT <hex>` → `PUT <cid>`; `PUTCID <cid> <hex>` → `PUT <cid>`.
///
/// Values are the text helia prints; the tests parse them into their own types (this crate
/// depends on no ceramic or libp2p crate).
#[derive(Debug)]
pub struct Helia {
    process: Process,
    addr: String,
    cid: String,
    data: String,
}

impl Helia {
    /// How long helia may take to print its address: 1–5 s, and up to 15 s while cargo
    /// builds on both cores.
    pub const STARTUP: Duration = Duration::from_secs(120);

    /// Starts `peer.mjs <text>` (`text` goes into its block) and waits for its address.
    ///
    /// # Errors
    /// [`crate::Error::ToolMissing`] before `cargo xtask tools`; the errors of
    /// [`Process::wait_for_prefix`] if it prints no address within [`Helia::STARTUP`].
    pub async fn start(text: &str) -> Result<Helia> {
        let program = tools::node_script("helia", "peer.mjs", &["node_modules/helia"])?
            .arg(text)
            .stdin()
            .with_name("helia");
        let mut process = program.spawn()?;
        // peer.mjs prints CID, DATA, then one ADDR per listen address.
        let cid = process.wait_for_prefix_async("CID ", Self::STARTUP).await?;
        let data = process.wait_for_prefix_async("DATA ", Self::STARTUP).await?;
        let addr = process.wait_for_prefix_async("ADDR ", Self::STARTUP).await?;
        Ok(Helia { process, addr, cid, data })
    }

    /// Its (first) listen address, ending in `/p2p/<peer id>`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Its peer id (the end of [`Helia::addr`]).
    pub fn peer_id(&self) -> &str {
        self.addr.rsplit_once("/p2p/").map_or("", |(_, id)| id)
    }

    /// The CID of the block it holds from the start.
    pub fn cid(&self) -> &str {
        &self.cid
    }

    /// That block's bytes, in hex.
    pub fn data_hex(&self) -> &str {
        &self.data
    }

    /// Sends one command line.
    ///
    /// # Errors
    /// [`crate::Error::Stdin`] if helia has exited.
    pub fn send(&mut self, command: &str) -> Result<()> {
        self.process.write_line(command)
    }

    /// The next line starting with one of `answers`, skipping others.
    ///
    /// # Errors
    /// [`crate::Error::Timeout`] or [`crate::Error::Exited`], with helia's output.
    pub async fn next_answer(&mut self, answers: &[&str], timeout: Duration) -> Result<String> {
        let what = format!("{answers:?} line");
        let matches = |line: &str| answers.iter().any(|a| line.starts_with(a));
        self.process.wait_for_line_async(&what, timeout, matches).await
    }

    /// Sends `command` and returns the next line starting with one of `answers`.
    ///
    /// # Errors
    /// As [`Helia::send`] and [`Helia::next_answer`].
    pub async fn ask(
        &mut self,
        command: &str,
        answers: &[&str],
        timeout: Duration,
    ) -> Result<String> {
        self.send(command)?;
        self.next_answer(answers, timeout).await
    }

    /// The process, e.g. for its captured output.
    pub fn process(&self) -> &Process {
        &self.process
    }
}
