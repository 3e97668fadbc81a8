//! [`Program`] (what to run) and [`Process`] (a running program: its lines, its stdin, its
//! signals; killed with its process group on drop).

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::future::Future as _;
use std::io::{BufRead as _, BufReader, Read, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// Lines of each stream a [`Process`] keeps (older ones are dropped first). Bounds the memory
/// of a long-lived chatty program such as anvil, which logs every request.
const KEPT_LINES: usize = 10_000;
/// Lines of each stream an error message shows (the last ones).
const SHOWN_LINES: usize = 60;
/// How long [`Process::kill`] (and drop) waits for the killed program to be reaped.
const REAP_TIMEOUT: Duration = Duration::from_secs(10);

/// A signal to send with [`Process::signal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signal {
    /// `SIGTERM`: ask for a clean shutdown.
    Term,
    /// `SIGINT`: what Ctrl-C sends.
    Int,
    /// `SIGKILL`.
    Kill,
}

impl Signal {
    fn to_rustix(self) -> rustix::process::Signal {
        match self {
            Signal::Term => rustix::process::Signal::TERM,
            Signal::Int => rustix::process::Signal::INT,
            Signal::Kill => rustix::process::Signal::KILL,
        }
    }
}

/// A program to start: command, arguments, environment, working directory.
///
/// [`Program::spawn`] takes `&self`, so one `Program` can start the same program again (e.g.
/// to restart a binary on the same data directory).
#[derive(Debug, Clone)]
pub struct Program {
    program: OsString,
    name: String,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    current_dir: Option<PathBuf>,
    stdin: bool,
    echo: bool,
}

impl Program {
    /// `program` (a path, or a name looked up on `PATH`), with no arguments, the test's
    /// environment, stdin closed, and every output line echoed to the test's stderr (which
    /// the test harness shows only when the test fails).
    pub fn new(program: impl AsRef<OsStr>) -> Program {
        let program = program.as_ref().to_owned();
        let name = Path::new(&program)
            .file_name()
            .map_or_else(|| program.to_string_lossy(), |n| n.to_string_lossy())
            .into_owned();
        Program {
            program,
            name,
            args: Vec::new(),
            envs: Vec::new(),
            current_dir: None,
            stdin: false,
            echo: true,
        }
    }

    /// The name used in error messages and echoed lines (default: the program's file name).
    pub fn with_name(mut self, name: impl Into<String>) -> Program {
        self.name = name.into();
        self
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Program {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Program
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Program {
        self.envs.push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Runs the program in `dir`.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Program {
        self.current_dir = Some(dir.as_ref().to_owned());
        self
    }

    /// Gives the program a piped stdin, for [`Process::write_line`].
    pub fn stdin(mut self) -> Program {
        self.stdin = true;
        self
    }

    /// Whether to echo the program's lines to the test's stderr (default: yes).
    pub fn echo(mut self, echo: bool) -> Program {
        self.echo = echo;
        self
    }

    /// The name used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Starts the program in a process group of its own, reading its stdout and stderr.
    ///
    /// # Errors
    /// [`Error::Spawn`] if it cannot be started.
    pub fn spawn(&self) -> Result<Process> {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(if self.stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: drop kills the group, so programs it starts die too.
            .process_group(0);
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        let spawn_error = |source| Error::Spawn { program: self.name.clone(), source };
        let mut child = command.spawn().map_err(spawn_error)?;
        let shared = Arc::new(Shared::default());
        let mut process = Process {
            name: self.name.clone(),
            pid: child.id(),
            shared: shared.clone(),
            stdin: child.stdin.take(),
            cursor: 0,
            killed: false,
        };
        let echo = self.echo.then(|| self.name.clone());
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        // From here on, dropping `process` kills the child; the waiter thread reaps it.
        let threads = (|| {
            if let Some(stdout) = stdout {
                let (shared, echo) = (shared.clone(), echo.clone());
                std::thread::Builder::new()
                    .name(format!("{}-stdout", self.name))
                    .spawn(move || read_lines(stdout, &shared, Stream::Stdout, echo.as_deref()))?;
            }
            if let Some(stderr) = stderr {
                let (shared, echo) = (shared.clone(), echo.clone());
                std::thread::Builder::new()
                    .name(format!("{}-stderr", self.name))
                    .spawn(move || read_lines(stderr, &shared, Stream::Stderr, echo.as_deref()))?;
            }
            let waiter = shared.clone();
            std::thread::Builder::new().name(format!("{}-wait", self.name)).spawn(move || {
                let status = child.wait().ok();
                waiter.update(|state| state.exit = Some(status));
            })
        })();
        if let Err(source) = threads {
            process.kill();
            return Err(spawn_error(source));
        }
        Ok(process)
    }

    /// [`Program::spawn`], then [`Process::wait_for_prefix`]: starts the program and waits for
    /// its ready line; returns the process and the rest of that line (usually the address the
    /// program bound).
    ///
    /// # Errors
    /// [`Error::Spawn`], or the wait's errors ([`Error::Exited`], [`Error::Timeout`]).
    pub fn start(&self, ready_prefix: &str, timeout: Duration) -> Result<(Process, String)> {
        let mut process = self.spawn()?;
        let rest = process.wait_for_prefix(ready_prefix, timeout)?;
        Ok((process, rest))
    }

    /// [`Program::start`] for async tests: the wait does not block the runtime.
    ///
    /// # Errors
    /// As [`Program::start`].
    pub async fn start_async(
        &self,
        ready_prefix: &str,
        timeout: Duration,
    ) -> Result<(Process, String)> {
        let mut process = self.spawn()?;
        let rest = process.wait_for_prefix_async(ready_prefix, timeout).await?;
        Ok((process, rest))
    }

    /// Runs the program to completion (exit, and both output streams closed) within `timeout`;
    /// killed if it takes longer.
    ///
    /// # Errors
    /// [`Error::Spawn`], or [`Error::NotFinished`] on timeout.
    pub fn run(&self, timeout: Duration) -> Result<Finished> {
        self.spawn()?.finish(timeout)
    }
}

/// What a program left when it finished ([`Process::finish`]).
#[derive(Debug, Clone)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its stdout lines (the last 10,000), each ended by `\n`.
    pub stdout: String,
    /// Its stderr lines (the last 10,000), each ended by `\n`.
    pub stderr: String,
}

impl Finished {
    /// Whether it exited with status 0.
    pub fn success(&self) -> bool {
        self.status.success()
    }
}

/// A running program. Dropping it kills the program's whole process group.
///
/// Each stdout line is handed to at most one wait: a wait consumes the lines it looks at up to
/// and including the one it returns. [`Process::stdout_lines`] still lists them all.
#[derive(Debug)]
pub struct Process {
    name: String,
    pid: u32,
    shared: Arc<Shared>,
    stdin: Option<ChildStdin>,
    /// Index (counted from the first line ever printed) of the next stdout line to look at.
    cursor: usize,
    killed: bool,
}

impl Process {
    /// Its process id (also its process group id).
    pub fn id(&self) -> u32 {
        self.pid
    }

    /// The name used in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits for the next stdout line for which `matches` holds, skipping the others.
    /// `what` names the awaited line in the error message.
    ///
    /// This blocks the thread: in an async test use [`Process::wait_for_line_async`].
    ///
    /// # Errors
    /// [`Error::Exited`] if the program exits (and closes its stdout) first, [`Error::Timeout`]
    /// after `timeout`.
    pub fn wait_for_line(
        &mut self,
        what: &str,
        timeout: Duration,
        mut matches: impl FnMut(&str) -> bool,
    ) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            match state.next_match(&mut self.cursor, &mut matches) {
                Poll::Ready(Some(line)) => return Ok(line),
                Poll::Ready(None) => return Err(state.exited_error(&self.name, what)),
                Poll::Pending => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(state.timeout_error(&self.name, what, timeout));
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// [`Process::wait_for_line`] for async tests: waiting does not block the runtime.
    ///
    /// Dropping the future midway is safe; the lines it already looked at stay consumed.
    ///
    /// # Errors
    /// As [`Process::wait_for_line`].
    pub async fn wait_for_line_async(
        &mut self,
        what: &str,
        timeout: Duration,
        mut matches: impl FnMut(&str) -> bool,
    ) -> Result<String> {
        let mut delay = futures_timer::Delay::new(timeout);
        let shared = self.shared.clone();
        std::future::poll_fn(|cx| {
            let mut state = shared.lock();
            match state.next_match(&mut self.cursor, &mut matches) {
                Poll::Ready(Some(line)) => return Poll::Ready(Ok(line)),
                Poll::Ready(None) => return Poll::Ready(Err(state.exited_error(&self.name, what))),
                Poll::Pending => {}
            }
            // Registered under the lock that new lines are pushed under: no wake-up is lost.
            if !state.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                state.wakers.push(cx.waker().clone());
            }
            if Pin::new(&mut delay).poll(cx).is_ready() {
                return Poll::Ready(Err(state.timeout_error(&self.name, what, timeout)));
            }
            Poll::Pending
        })
        .await
    }

    /// Waits for the next stdout line starting with `prefix` and returns the rest of it.
    ///
    /// # Errors
    /// As [`Process::wait_for_line`].
    pub fn wait_for_prefix(&mut self, prefix: &str, timeout: Duration) -> Result<String> {
        let line =
            self.wait_for_line(&format!("{prefix:?} line"), timeout, |l| l.starts_with(prefix))?;
        Ok(line[prefix.len()..].to_owned())
    }

    /// [`Process::wait_for_prefix`] for async tests.
    ///
    /// # Errors
    /// As [`Process::wait_for_line`].
    pub async fn wait_for_prefix_async(
        &mut self,
        prefix: &str,
        timeout: Duration,
    ) -> Result<String> {
        let what = format!("{prefix:?} line");
        let line = self.wait_for_line_async(&what, timeout, |l| l.starts_with(prefix)).await?;
        Ok(line[prefix.len()..].to_owned())
    }

    /// Every stdout line kept so far (the last 10,000), including those waits consumed.
    pub fn stdout_lines(&self) -> Vec<String> {
        self.shared.lock().stdout.lines.iter().cloned().collect()
    }

    /// The captured output as error messages show it: the last lines of stdout and stderr.
    pub fn output(&self) -> String {
        self.shared.lock().output()
    }

    /// Writes `line` and a newline to the program's stdin, and flushes.
    ///
    /// # Errors
    /// [`Error::StdinNotPiped`] without [`Program::stdin`]; [`Error::Stdin`] if the write
    /// fails (the program closed its stdin or exited).
    pub fn write_line(&mut self, line: &str) -> Result<()> {
        let Some(stdin) = self.stdin.as_mut() else {
            return Err(Error::StdinNotPiped { program: self.name.clone() });
        };
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        stdin
            .write_all(&bytes)
            .and_then(|()| stdin.flush())
            .map_err(|source| Error::Stdin { program: self.name.clone(), source })
    }

    /// Closes the program's stdin (many programs exit on end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Sends `signal` to the program itself (not to its group).
    ///
    /// # Errors
    /// [`Error::Signal`] if it cannot be sent (e.g. the program has been reaped).
    pub fn signal(&self, signal: Signal) -> Result<()> {
        let error =
            |source: std::io::Error| Error::Signal { program: self.name.clone(), signal, source };
        let pid =
            self.rustix_pid().ok_or_else(|| error(std::io::ErrorKind::InvalidInput.into()))?;
        if self.shared.lock().exit.is_some() {
            // Reaped: the id may belong to another process by now.
            return Err(error(rustix::io::Errno::SRCH.into()));
        }
        rustix::process::kill_process(pid, signal.to_rustix()).map_err(|e| error(e.into()))
    }

    /// Its exit status, if it has exited.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.shared.lock().exit.flatten()
    }

    /// Waits until the program exits; returns its status.
    ///
    /// # Errors
    /// [`Error::NotFinished`] after `timeout` (the program keeps running until dropped),
    /// [`Error::Wait`] if its status could not be read.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let state = self.wait_until(timeout, |s| s.exit.is_some())?;
        state.exit.flatten().ok_or_else(|| Error::Wait { program: self.name.clone() })
    }

    /// Waits until the program exits and its stdout and stderr are closed; returns its status
    /// and all its output. Kills it on timeout.
    ///
    /// # Errors
    /// [`Error::NotFinished`] after `timeout`, [`Error::Wait`] if its status could not be
    /// read.
    pub fn finish(self, timeout: Duration) -> Result<Finished> {
        let done = |s: &State| s.exit.is_some() && s.stdout.closed && s.stderr.closed;
        let state = self.wait_until(timeout, done)?;
        let status =
            state.exit.flatten().ok_or_else(|| Error::Wait { program: self.name.clone() })?;
        let join = |lines: &VecDeque<String>| lines.iter().map(|l| format!("{l}\n")).collect();
        Ok(Finished {
            status,
            stdout: join(&state.stdout.lines),
            stderr: join(&state.stderr.lines),
        })
    }

    fn wait_until(
        &self,
        timeout: Duration,
        done: impl Fn(&State) -> bool,
    ) -> Result<MutexGuard<'_, State>> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if done(&state) {
                return Ok(state);
            }
            let now = Instant::now();
            if now >= deadline {
                let output = state.output();
                return Err(Error::NotFinished { program: self.name.clone(), timeout, output });
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Kills the program's process group with SIGKILL and waits (up to 10 s) until the
    /// program is reaped. Drop does the same; calling it twice is harmless.
    pub fn kill(&mut self) {
        self.stdin = None;
        if self.killed {
            return;
        }
        self.killed = true;
        let Some(pid) = self.rustix_pid() else { return };
        {
            let state = self.shared.lock();
            // Once the leader is reaped its id can be reused; kill the group then only if a
            // descendant evidently lives on (it still holds the output pipes). The kernel does
            // not reuse an id while it names a live process group.
            let descendants = !state.stdout.closed || !state.stderr.closed;
            if state.exit.is_none() || descendants {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
        }
        // Best effort: on timeout the program is left to the kernel.
        drop(self.wait_until(REAP_TIMEOUT, |s| s.exit.is_some()));
    }

    fn rustix_pid(&self) -> Option<rustix::process::Pid> {
        i32::try_from(self.pid).ok().and_then(rustix::process::Pid::from_raw)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Debug, Clone, Copy)]
enum Stream {
    Stdout,
    Stderr,
}

/// Lines of one stream.
#[derive(Debug, Default)]
struct Lines {
    lines: VecDeque<String>,
    /// How many lines were dropped from the front (index of `lines[0]` among all lines).
    dropped: usize,
    closed: bool,
}

impl Lines {
    fn push(&mut self, line: String) {
        self.lines.push_back(line);
        if self.lines.len() > KEPT_LINES {
            self.lines.pop_front();
            self.dropped += 1;
        }
    }

    fn tail(&self, name: &str) -> String {
        let total = self.dropped + self.lines.len();
        let shown = self.lines.len().min(SHOWN_LINES);
        let mut text = if shown < total {
            format!("--- {name} (last {shown} of {total} lines) ---\n")
        } else {
            format!("--- {name} ({total} lines) ---\n")
        };
        for line in self.lines.iter().skip(self.lines.len() - shown) {
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

#[derive(Debug, Default)]
struct State {
    stdout: Lines,
    stderr: Lines,
    /// `Some` once the program has exited: `Some(None)` if waiting for it failed.
    exit: Option<Option<ExitStatus>>,
    /// Async waits to wake on any change.
    wakers: Vec<Waker>,
}

impl State {
    /// The next stdout line from `cursor` on that matches, advancing `cursor` past it;
    /// `Ready(None)` when the program has exited and closed its stdout without one (and its
    /// stderr, so that the error carries everything it wrote).
    fn next_match(
        &self,
        cursor: &mut usize,
        matches: &mut impl FnMut(&str) -> bool,
    ) -> Poll<Option<String>> {
        let out = &self.stdout;
        *cursor = (*cursor).max(out.dropped);
        while let Some(line) = out.lines.get(*cursor - out.dropped) {
            *cursor += 1;
            if matches(line) {
                return Poll::Ready(Some(line.clone()));
            }
        }
        if out.closed && self.stderr.closed && self.exit.is_some() {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }

    fn output(&self) -> String {
        format!("{}{}", self.stdout.tail("stdout"), self.stderr.tail("stderr"))
    }

    fn exited_error(&self, program: &str, what: &str) -> Error {
        Error::Exited {
            program: program.to_owned(),
            waited_for: what.to_owned(),
            status: self.exit.flatten(),
            output: self.output(),
        }
    }

    fn timeout_error(&self, program: &str, what: &str, timeout: Duration) -> Error {
        Error::Timeout {
            program: program.to_owned(),
            waited_for: what.to_owned(),
            timeout,
            status: self.exit.flatten(),
            stdout_closed: self.stdout.closed,
            output: self.output(),
        }
    }
}

/// The state the reading and waiting threads share with the [`Process`].
#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the state usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the state and wakes every waiter.
    fn update(&self, change: impl FnOnce(&mut State)) {
        let wakers = {
            let mut state = self.lock();
            change(&mut state);
            std::mem::take(&mut state.wakers)
        };
        self.changed.notify_all();
        for waker in wakers {
            waker.wake();
        }
    }
}

/// Reads `stream` line by line into the shared state until end of file.
fn read_lines(stream: impl Read, shared: &Shared, which: Stream, echo: Option<&str>) {
    let mut reader = BufReader::new(stream);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        let line = String::from_utf8_lossy(&buf).into_owned();
        if let Some(name) = echo {
            // Captured by the test harness (threads inherit the test's output capture).
            eprintln!("[{name}] {line}");
        }
        shared.update(|state| match which {
            Stream::Stdout => state.stdout.push(line),
            Stream::Stderr => state.stderr.push(line),
        });
    }
    shared.update(|state| match which {
        Stream::Stdout => state.stdout.closed = true,
        Stream::Stderr => state.stderr.closed = true,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: Duration = Duration::from_secs(30);

    fn sh(script: &str) -> Program {
        Program::new("sh").arg("-c").arg(script).with_name("sh")
    }

    /// Whether a process with this id still exists (zombies count as gone: `kill -0` on a
    /// zombie succeeds, so read its state).
    fn alive(pid: u32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => {
                let state = stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next());
                !matches!(state, Some('Z' | 'X') | None)
            }
            Err(_) => false,
        }
    }

    #[test]
    fn finds_the_ready_line_and_kills_the_program_on_drop() {
        let (process, rest) = sh("echo starting; echo 'ready at 127.0.0.1:1234'; sleep 30")
            .start("ready at ", LONG)
            .unwrap();
        assert_eq!(rest, "127.0.0.1:1234");
        let pid = process.id();
        assert!(alive(pid));
        assert_eq!(process.stdout_lines(), ["starting", "ready at 127.0.0.1:1234"]);
        drop(process);
        assert!(!alive(pid), "the program survived the drop");
    }

    #[test]
    fn drop_kills_the_programs_children_too() {
        // The child sleeps in the background and prints its pid; the shell waits for it.
        let (process, child) =
            sh("sleep 30 & echo \"child $!\"; wait").start("child ", LONG).unwrap();
        let child: u32 = child.parse().unwrap();
        assert!(alive(child));
        drop(process);
        // The grandchild is not ours to reap: wait (bounded) for init to reap it.
        let deadline = Instant::now() + LONG;
        while alive(child) {
            assert!(Instant::now() < deadline, "the program's child survived the drop");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_program_that_exits_early_is_a_clear_error() {
        let error = sh("echo 'about to fail'; echo 'bad config' >&2; exit 3")
            .start("ready", LONG)
            .unwrap_err();
        let Error::Exited { ref status, ref output, .. } = error else {
            panic!("not an Exited error: {error}")
        };
        assert_eq!(status.and_then(|s| s.code()), Some(3));
        assert!(output.contains("about to fail") && output.contains("bad config"), "{output}");
        let message = error.to_string();
        assert!(message.contains("exit status: 3"), "{message}");
        assert!(message.contains("\"ready\" line"), "{message}");
    }

    #[test]
    fn a_program_that_never_prints_times_out() {
        let started = Instant::now();
        let error = sh("echo 'nothing useful'; sleep 30")
            .start("ready", Duration::from_millis(300))
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
        let Error::Timeout { status, ref output, .. } = error else {
            panic!("not a Timeout error: {error}")
        };
        assert_eq!(status, None, "still running when the wait gave up");
        assert!(output.contains("nothing useful"), "{output}");
        assert!(error.to_string().contains("still running"), "{error}");
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let error = Program::new("/nonexistent/program").spawn().unwrap_err();
        assert!(matches!(error, Error::Spawn { .. }), "{error}");
        assert!(error.to_string().contains("program"), "{error}");
    }

    #[test]
    fn later_lines_stay_available_and_stdin_drives_the_program() {
        let script = "echo ready; while read line; do echo \"GOT $line\"; done; echo bye";
        let (mut process, _) = sh(script).stdin().start("ready", LONG).unwrap();
        process.write_line("one").unwrap();
        process.write_line("two").unwrap();
        assert_eq!(process.wait_for_prefix("GOT ", LONG).unwrap(), "one");
        assert_eq!(process.wait_for_line("two", LONG, |l| l.ends_with("two")).unwrap(), "GOT two");
        process.close_stdin();
        assert_eq!(process.wait_for_prefix("bye", LONG).unwrap(), "");
        assert_eq!(process.wait_exit(LONG).unwrap().code(), Some(0));
        // Everything is consumed: the next wait reports the exit.
        let error = process.wait_for_prefix("GOT ", LONG).unwrap_err();
        assert!(matches!(error, Error::Exited { .. }), "{error}");
    }

    #[test]
    fn writing_without_a_piped_stdin_is_an_error() {
        let (mut process, _) = sh("echo ready; sleep 30").start("ready", LONG).unwrap();
        let error = process.write_line("x").unwrap_err();
        assert!(matches!(error, Error::StdinNotPiped { .. }), "{error}");
    }

    #[test]
    fn a_signal_stops_the_program_and_wait_exit_reports_it() {
        let (mut process, _) =
            sh("trap 'echo term; exit 7' TERM; echo ready; while :; do sleep 1; done")
                .start("ready", LONG)
                .unwrap();
        process.signal(Signal::Term).unwrap();
        assert_eq!(process.wait_exit(LONG).unwrap().code(), Some(7));
        assert!(process.signal(Signal::Term).is_err(), "no signal to a reaped program");
    }

    #[test]
    fn wait_exit_times_out_on_a_running_program() {
        let (mut process, _) = sh("echo ready; sleep 30").start("ready", LONG).unwrap();
        let error = process.wait_exit(Duration::from_millis(100)).unwrap_err();
        assert!(matches!(error, Error::NotFinished { .. }), "{error}");
        assert_eq!(process.exit_status(), None);
    }

    #[test]
    fn run_collects_all_output_and_the_status() {
        let finished = sh("echo a; echo b >&2; printf 'no newline'; exit 2")
            .env("UNUSED", "1")
            .run(LONG)
            .unwrap();
        assert!(!finished.success());
        assert_eq!(finished.status.code(), Some(2));
        assert_eq!(finished.stdout, "a\nno newline\n");
        assert_eq!(finished.stderr, "b\n");
    }

    #[test]
    fn run_passes_environment_and_directory() {
        let dir = std::env::temp_dir();
        let finished =
            sh("echo \"$GREETING $(pwd)\"").env("GREETING", "hi").current_dir(&dir).run(LONG);
        let finished = finished.unwrap();
        assert!(finished.success());
        let expected = format!("hi {}\n", dir.canonicalize().unwrap().display());
        assert_eq!(finished.stdout, expected);
    }

    #[test]
    fn run_kills_a_program_that_does_not_finish() {
        let started = Instant::now();
        let error = sh("echo started; sleep 30").run(Duration::from_millis(300)).unwrap_err();
        let Error::NotFinished { ref output, .. } = error else { panic!("{error}") };
        assert!(output.contains("started"), "{output}");
        assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    }

    #[test]
    fn only_the_last_lines_are_kept_and_shown() {
        let script = format!("seq 1 {}; echo done", KEPT_LINES + 5);
        let (mut process, _) = sh(&script).start("done", LONG).unwrap();
        let lines = process.stdout_lines();
        assert_eq!(lines.len(), KEPT_LINES);
        assert_eq!(lines.last().map(String::as_str), Some("done"));
        assert_eq!(lines.first().map(String::as_str), Some("7"));
        let output = process.output();
        assert!(output.contains(&format!("last {SHOWN_LINES} of {} lines", KEPT_LINES + 6)));
        let error = process.wait_for_prefix("never", LONG).unwrap_err();
        assert!(matches!(error, Error::Exited { .. }), "{error}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn async_waits_do_not_block_the_runtime() {
        let script = "echo ready; read line; echo \"PUT $line\"; sleep 30";
        let (mut process, _) = sh(script).stdin().start_async("ready", LONG).await.unwrap();
        let mut stdin = process.stdin.take().unwrap();
        // One runtime thread, and the line comes only after the second future writes: a wait
        // that blocked the thread would never see it.
        let (put, ()) = tokio::join!(process.wait_for_prefix_async("PUT ", LONG), async move {
            tokio::task::yield_now().await;
            stdin.write_all(b"abc\n").unwrap();
            stdin.flush().unwrap();
        });
        assert_eq!(put.unwrap(), "abc");
        let error = process.wait_for_prefix_async("never", Duration::from_millis(200)).await;
        assert!(matches!(error, Err(Error::Timeout { .. })), "{error:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn async_wait_reports_an_early_exit() {
        let error = sh("echo oops >&2; exit 4").start_async("ready", LONG).await.unwrap_err();
        let Error::Exited { status, ref output, .. } = error else { panic!("{error}") };
        assert_eq!(status.and_then(|s| s.code()), Some(4));
        assert!(output.contains("oops"), "{output}");
    }
}
