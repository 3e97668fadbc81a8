//! What can go wrong while driving a program.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use crate::Signal;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A program could not be started, did not print what a test waited for, or did not stop.
///
/// The `output` fields hold the last lines the program printed on stdout and stderr, so that a
/// failed test shows why the program did not get ready.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The program (or a thread reading its output) could not be started.
    #[error("starting {program}: {source}")]
    Spawn {
        /// The program's name.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The program exited (and closed its stdout) before printing the awaited line.
    #[error("{program} exited ({}) before printing {waited_for}\n{output}", status_text(.status))]
    Exited {
        /// The program's name.
        program: String,
        /// What the test waited for.
        waited_for: String,
        /// Its exit status (`None` if waiting for it failed).
        status: Option<ExitStatus>,
        /// Its captured output.
        output: String,
    },
    /// The awaited line did not come in time.
    #[error(
        "{program} printed no {waited_for} within {timeout:?} ({}{})\n{output}",
        running_text(.status),
        if *.stdout_closed { ", stdout closed" } else { "" }
    )]
    Timeout {
        /// The program's name.
        program: String,
        /// What the test waited for.
        waited_for: String,
        /// How long it waited.
        timeout: Duration,
        /// Its exit status if it has exited (a descendant may still hold its stdout).
        status: Option<ExitStatus>,
        /// Whether its stdout had been closed.
        stdout_closed: bool,
        /// Its captured output.
        output: String,
    },
    /// The program did not exit (or did not close its output) in time.
    #[error("{program} did not finish within {timeout:?}\n{output}")]
    NotFinished {
        /// The program's name.
        program: String,
        /// How long it waited.
        timeout: Duration,
        /// Its captured output.
        output: String,
    },
    /// The program's exit status could not be read.
    #[error("waiting for {program} to exit failed")]
    Wait {
        /// The program's name.
        program: String,
    },
    /// A line was written to a program started without a piped stdin.
    #[error("{program} was started without a piped stdin (use `Program::stdin`)")]
    StdinNotPiped {
        /// The program's name.
        program: String,
    },
    /// Writing to the program's stdin failed (usually: it exited).
    #[error("writing to {program}'s stdin: {source}")]
    Stdin {
        /// The program's name.
        program: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Sending a signal failed.
    #[error("sending {signal:?} to {program}: {source}")]
    Signal {
        /// The program's name.
        program: String,
        /// The signal.
        signal: Signal,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A program under `tools/` is not installed.
    #[error("{} is missing: run `cargo xtask tools` (npm ci in {})", .path.display(), .tool_dir.display())]
    ToolMissing {
        /// The file or directory that should exist.
        path: PathBuf,
        /// The tool's directory.
        tool_dir: PathBuf,
    },
}

fn status_text(status: &Option<ExitStatus>) -> String {
    match status {
        Some(status) => status.to_string(),
        None => "exit status unknown".to_owned(),
    }
}

fn running_text(status: &Option<ExitStatus>) -> String {
    match status {
        Some(status) => format!("it exited: {status}"),
        None => "still running".to_owned(),
    }
}
