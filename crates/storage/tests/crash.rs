//! Crash test: no acknowledged commit is lost when the writer is killed with SIGKILL.
//!
//! The test binary re-invokes itself as a child (`CERAMIC_CRASH_CHILD=<dir>`) that opens a
//! [`RocksStorage`] and writes signed commits through the engine in a loop over a few streams
//! (data commits and anchors), printing `<stream> <commit> <log length>` after each
//! `Store::commit` returned. The parent reads those acknowledgements, kills the child with
//! SIGKILL (`Child::kill`) after a random number of them, reads the lines already in the pipe,
//! reopens the store and checks that every commit acknowledged in any round is there at its
//! place in its stream's state, that each stored state's log is complete and intact
//! (`Storage::log_blocks`), and that the content agrees with the log. Rounds alternate sync on
//! and off: `kill -9` must lose nothing either way (power loss is another matter; see
//! `Config::sync`).
//!
//! `CERAMIC_CRASH_SEED=<n>` replays a run (the seed is printed); `CERAMIC_CRASH_ROUNDS=<n>`
//! changes the number of kill rounds (default 24).
//!
//! Run with `cargo test -p ceramic-storage --test crash`.

#[path = "it/fixtures.rs"]
#[allow(dead_code)] // shared with the integration tests; this binary uses only part of it
mod fixtures;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ceramic_codecs::Cid;
use ceramic_doctype::CommitKind;
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_storage::{Config, RocksStorage, Storage};
use ceramic_streamid::StreamId;

use fixtures::{ADDER, Rng, add, anchor, engine, genesis, signer};

const NAME: &str = "kills_a_writer_at_random_points_and_loses_no_acknowledged_commit";
/// Streams the child writes to.
const STREAMS: usize = 16;
/// The most data and anchor commits acknowledged before a kill.
const MAX_ACKS_BEFORE_KILL: u64 = 600;

fn main() {
    if let Ok(dir) = std::env::var("CERAMIC_CRASH_CHILD") {
        child(Path::new(&dir));
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        println!("{NAME}: test");
        return;
    }
    let started = Instant::now();
    parent();
    println!("test {NAME} ... ok");
    println!(
        "\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s\n",
        started.elapsed().as_secs_f64()
    );
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Writes commits until killed.
fn child(dir: &Path) {
    let sync = env_u64("CERAMIC_CRASH_SYNC") == Some(1);
    let mut rng = Rng::new(env_u64("CERAMIC_CRASH_SEED").unwrap_or(1));
    let store =
        Arc::new(RocksStorage::open(dir, Config::default().with_sync(sync)).expect("opens"));
    let chain = Arc::new(FakeAnchorVerifier::default());
    let engine = engine(store, chain.clone());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut streams = Vec::new();
    for i in 0..STREAMS {
        let author = signer(1 + (i % 4) as u8);
        let (id, g) = genesis(&author, &format!("crash-{i}"), Some("crash"), &["t"]);
        // Returns the stored state if the stream exists.
        let state = engine.apply_commit(ADDER, g.cid, &g.blocks).expect("genesis applies");
        writeln!(out, "{id} {} {}", g.cid, 1).expect("stdout");
        streams.push((id, author, state));
    }
    loop {
        let (id, author, state) = &mut streams[rng.below(STREAMS as u64) as usize];
        let made = if rng.one_in(8) {
            anchor(&chain, id, state.tip(), 1_000_000 + rng.below(1_000_000))
        } else {
            add(author, id, state.tip(), 1)
        };
        *state = engine.apply_commit(ADDER, made.cid, &made.blocks).expect("commit applies");
        // Acknowledged: `Store::commit` returned.
        writeln!(out, "{id} {} {}", made.cid, state.log().len()).expect("stdout");
    }
}

/// An acknowledged commit: its stream, CID and the log length right after it.
type Ack = (StreamId, Cid, usize);

fn parse(line: &str) -> Ack {
    let mut parts = line.split_whitespace();
    let mut next = || parts.next().unwrap_or_else(|| panic!("malformed ack {line:?}"));
    let stream = next().parse().expect("a StreamID");
    let cid = next().parse().expect("a CID");
    let len = next().parse().expect("a length");
    (stream, cid, len)
}

fn parent() {
    let seed = env_u64("CERAMIC_CRASH_SEED").unwrap_or_else(|| {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(7, |d| d.as_nanos() as u64)
    });
    let rounds = env_u64("CERAMIC_CRASH_ROUNDS").unwrap_or(24);
    println!("crash test: seed {seed} (CERAMIC_CRASH_SEED={seed} replays it), {rounds} rounds");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let exe = std::env::current_exe().expect("the test binary");
    let mut acks: Vec<Ack> = Vec::new();
    let mut killed_during_startup = 0;
    for round in 0..rounds {
        let sync = round % 2 == 0;
        // Kill after this many lines: the first STREAMS acknowledge the geneses (written or
        // found at startup), so small values kill the child while it opens and recovers.
        // Every sixth round kills during startup for sure.
        let kill_after = if round % 6 == 5 {
            1 + rng.below(STREAMS as u64)
        } else {
            1 + rng.below(STREAMS as u64 + MAX_ACKS_BEFORE_KILL)
        };
        if kill_after <= STREAMS as u64 {
            killed_during_startup += 1;
        }
        let mut child = Command::new(&exe)
            .env("CERAMIC_CRASH_CHILD", dir.path())
            .env("CERAMIC_CRASH_SYNC", if sync { "1" } else { "0" })
            .env("CERAMIC_CRASH_SEED", rng.below(u64::MAX).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawns the child");
        let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut read_line = |acks: &mut Vec<Ack>| -> bool {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                // Only a complete line is an acknowledgement.
                Ok(n) if n > 0 && line.ends_with('\n') => {
                    acks.push(parse(&line));
                    true
                }
                _ => false,
            }
        };
        let before = acks.len();
        for _ in 0..kill_after {
            if !read_line(&mut acks) {
                let status = child.wait().expect("waits");
                panic!("round {round}: the child exited on its own ({status})");
            }
        }
        // SIGKILL: no destructor, no flush, no WAL sync beyond what each write did.
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("waits");
        assert!(!status.success(), "round {round}: the child was not killed");
        let read_before_kill = acks.len() - before;
        // Acknowledgements already in the pipe when the child died.
        while read_line(&mut acks) {}
        let (streams, commits) = check(dir.path(), &acks, round);
        println!(
            "round {round:2}: sync {:3}, killed after {read_before_kill:3} lines (+{} in the pipe); \
             {streams} streams, {commits} commits stored, all {} acks present",
            if sync { "on" } else { "off" },
            acks.len() - before - read_before_kill,
            acks.len(),
        );
    }
    let data_acks = acks.iter().filter(|(_, _, len)| *len > 1).count();
    println!(
        "crash test: {rounds} kill points ({killed_during_startup} during startup), {} \
         acknowledgements ({data_acks} data/anchor commits), 0 lost",
        acks.len()
    );
    assert!(rounds >= 20, "the acceptance criterion is at least 20 kill points");
}

/// Reopens the store and checks every acknowledgement and every stored log. Returns the number
/// of streams and of commits stored.
fn check(dir: &Path, acks: &[Ack], round: u64) -> (usize, usize) {
    let store = RocksStorage::open(dir, Config::default()).expect("reopens after SIGKILL");
    let mut states = HashMap::new();
    for (stream, cid, len) in acks {
        let state = states.entry(*stream).or_insert_with(|| {
            store
                .state(stream)
                .expect("reads")
                .unwrap_or_else(|| panic!("round {round}: LOST the state of {stream}"))
        });
        assert!(
            state.log().get(len - 1).is_some_and(|e| e.cid == *cid),
            "round {round}: LOST acknowledged commit {cid} at position {len} of {stream}"
        );
        assert!(store.block(cid).expect("reads").is_some(), "round {round}: LOST block {cid}");
    }
    let mut commits = 0;
    let mut after = None;
    let mut streams = 0;
    loop {
        let page = store.streams(after.as_ref(), 100).expect("lists");
        for stream in &page.streams {
            let state = store.state(stream).expect("reads").expect("listed");
            // Complete and intact: every block present, each prev the previous entry.
            store.log_blocks(&state).unwrap_or_else(|e| panic!("round {round}: {stream}: {e}"));
            let data = state.log().iter().filter(|e| e.kind == CommitKind::Data).count();
            assert_eq!(state.current_content()["n"], data, "round {round}: {stream}'s content");
            commits += state.log().len();
            streams += 1;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return (streams, commits),
        }
    }
}
