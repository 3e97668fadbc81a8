//! One harness for the external programs the tests drive: anvil, helia, the js-libp2p peers,
//! our own binaries, the JS http-client and s3rver (the backup tests' S3 server).
//!
//! Layer: the lowest of the workspace, with no ceramic dependency. It is only a
//! dev-dependency, or a dependency of the `test-utils` features of crates that ship a harness
//! (`ceramic_anchor_eth::test_utils::Anvil`).
//!
//! The rules every harness follows:
//! - the program binds port 0 and prints the address it got; the test waits for that *ready
//!   line* ([`Process::wait_for_prefix`]), never for a fixed time;
//! - every wait has a timeout, and a failed wait reports the program's captured output (and
//!   its exit status if it died);
//! - stdout and stderr are read line by line on threads, so the program never blocks on a full
//!   pipe, and later lines (`ADDR`, `PUT <cid>`, ...) stay available for the next wait;
//! - the program runs in a process group of its own, and the whole group is killed when the
//!   [`Process`] is dropped (wrappers such as npm's `node` launcher included).
//!
//! Waits come in a blocking form for sync tests and an `_async` form for async tests. The async
//! form does not block the runtime: its timeout runs on `futures-timer`'s thread, so it works
//! under any executor.
//!
//! ```no_run
//! use std::time::Duration;
//! use ceramic_testkit::Program;
//!
//! # fn main() -> ceramic_testkit::Result<()> {
//! let (mut anvil, address) = Program::new("anvil")
//!     .args(["--host", "127.0.0.1", "--port", "0"])
//!     .start("Listening on ", Duration::from_secs(60))?;
//! println!("anvil (pid {}) is at http://{address}", anvil.id());
//! anvil.kill(); // or just drop it
//! # Ok(())
//! # }
//! ```
//!
//! [`tools`] finds the programs `cargo xtask tools` installs under `tools/`, and [`Helia`] is
//! the one harness of the helia bitswap peer (`tools/helia/peer.mjs`).
//!
//! A test process killed with SIGKILL cannot run drops: programs it started are then left
//! running (they are in their own process group, so a terminal's Ctrl-C does not reach them
//! either).
//!
//! No feature flags.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

mod error;
mod helia;
mod process;
mod s3rver;
pub mod tools;

pub use error::{Error, Result};
pub use helia::Helia;
pub use process::{Finished, Process, Program, Signal};
pub use s3rver::S3rver;
