//! `cargo xtask fuzz <target> [--secs N]`, `cargo xtask fuzz --all [--secs N]` and
//! `cargo xtask fuzz --list`.
//!
//! Runs cargo-fuzz targets of `fuzz/` on their committed corpus for N seconds each (60 by
//! default), installing cargo-fuzz first if `cargo fuzz --version` fails. cargo-fuzz needs
//! nightly flags (`-Zsanitizer`); `RUSTC_BOOTSTRAP=1` lets the pinned stable toolchain take them.
//! libFuzzer adds the inputs it finds interesting to `fuzz/corpus/<target>/` and writes crashes
//! to `fuzz/artifacts/<target>/`; `python3 fuzz/seeds.py --clean` resets the corpus to the seeds.
//!
//! The fuzz workspace builds in `$FUZZ_TARGET_DIR` if set, else `${CARGO_TARGET_DIR}-libfuzzer`
//! when `CARGO_TARGET_DIR` is set (keeping sanitizer builds out of the repo and apart from the
//! main workspace's artifacts), else cargo-fuzz's default `fuzz/target/`.
//!
//! Each run's libFuzzer output is passed through and read: the coverage when the corpus was
//! loaded (`#N INITED cov: X ft: Y`), at the end (`#N DONE cov: X ft: Y`, or the last status
//! line before a crash), the number of runs, and the path of any crash input. `--all` runs every
//! target in turn, prints one line per target as it ends and a table at the end, and fails if
//! any target crashed.

use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

const DEFAULT_SECS: u64 = 60;
const USAGE: &str = "usage: cargo xtask fuzz <target> [--secs N] | cargo xtask fuzz --all [--secs N] | cargo xtask fuzz --list";

pub(crate) fn run(root: &Path, args: &[&str]) -> Result<()> {
    let fuzz_dir = root.join("fuzz");
    let targets = targets(&fuzz_dir)?;
    let secs = |text: &str| -> Result<u64> {
        text.parse().with_context(|| format!("--secs {text}: not a number"))
    };
    let (chosen, secs) = match args {
        ["--list"] => {
            targets.iter().for_each(|target| println!("{target}"));
            return Ok(());
        }
        ["--all"] => (targets.clone(), DEFAULT_SECS),
        ["--all", "--secs", n] => (targets.clone(), secs(n)?),
        [target] => (vec![target.to_string()], DEFAULT_SECS),
        [target, "--secs", n] => (vec![target.to_string()], secs(n)?),
        _ => bail!("{USAGE}"),
    };
    for target in &chosen {
        if !targets.contains(target) {
            bail!("unknown fuzz target {target:?}; the targets are: {}", targets.join(", "));
        }
    }
    install_cargo_fuzz()?;

    let mut results = Vec::new();
    for target in &chosen {
        let started = Instant::now();
        let stats = run_target(&fuzz_dir, target, secs)?;
        let line = stats.summary(target, started.elapsed().as_secs());
        eprintln!("fuzz: {line}");
        results.push((target.clone(), stats, started.elapsed().as_secs()));
    }
    if chosen.len() > 1 {
        println!("{}", table(&results));
    }
    let crashed: Vec<String> = results
        .iter()
        .filter(|(_, stats, _)| stats.failed())
        .map(|(target, stats, _)| match &stats.crash {
            Some(path) => format!("{target} ({path})"),
            None => format!("{target} (exit {})", stats.exit.as_deref().unwrap_or("?")),
        })
        .collect();
    if !crashed.is_empty() {
        bail!("fuzz targets crashed or failed: {}", crashed.join(", "));
    }
    Ok(())
}

/// Where the fuzz workspace builds (see the module docs).
fn fuzz_target_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FUZZ_TARGET_DIR") {
        return Some(dir.into());
    }
    let main = std::env::var_os("CARGO_TARGET_DIR")?;
    let mut dir = main;
    dir.push("-libfuzzer");
    Some(dir.into())
}

/// Runs one target, passing its output through, and reads what libFuzzer reported.
fn run_target(fuzz_dir: &Path, target: &str, secs: u64) -> Result<RunStats> {
    let corpus = format!("corpus/{target}");
    let max_time = format!("-max_total_time={secs}");
    let mut args: Vec<String> = vec!["fuzz".into(), "run".into()];
    if let Some(dir) = fuzz_target_dir() {
        args.push("--target-dir".into());
        args.push(dir.display().to_string());
    }
    args.extend([target.into(), corpus, "--".into(), max_time, "-print_final_stats=1".into()]);
    eprintln!("$ (cd fuzz && RUSTC_BOOTSTRAP=1 cargo {})", args.join(" "));
    let mut child = cargo_command()
        .args(&args)
        .env("RUSTC_BOOTSTRAP", "1")
        .current_dir(fuzz_dir)
        .stderr(Stdio::piped())
        .spawn()
        .context("running cargo fuzz")?;
    let mut stats = RunStats::default();
    if let Some(stderr) = child.stderr.take() {
        let mut out = std::io::stderr().lock();
        for line in BufReader::new(stderr).lines() {
            let line = line.context("reading cargo fuzz's output")?;
            // Best effort: a closed terminal must not stop the run.
            let _ = writeln!(out, "{line}");
            stats.read_line(&line);
        }
    }
    let status = child.wait().context("waiting for cargo fuzz")?;
    if !status.success() {
        stats.exit = Some(status.to_string());
        if let Some(path) = &stats.crash {
            // cargo fuzz runs in fuzz/: say where the crash input is from the repo root.
            if Path::new(path).is_relative() {
                stats.crash = Some(format!("fuzz/{}", path.trim_start_matches("./")));
            }
        }
    }
    Ok(stats)
}

/// libFuzzer's coverage counters on one status line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Coverage {
    /// `cov:` — covered code edges (PCs).
    cov: u64,
    /// `ft:` — features (edges with hit-count buckets, comparisons, …).
    ft: u64,
}

/// What libFuzzer said during one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RunStats {
    /// Coverage once the corpus was loaded (`INITED`).
    inited: Option<Coverage>,
    /// Coverage on the last status line (`DONE` on a clean finish).
    last: Option<Coverage>,
    /// Runs: `stat::number_of_executed_units`, else the last status line's `#N`.
    runs: Option<u64>,
    /// Whether libFuzzer reported `DONE`.
    done: bool,
    /// The crash (or timeout, or out-of-memory) input libFuzzer wrote.
    crash: Option<String>,
    /// The exit status when the run failed.
    exit: Option<String>,
}

impl RunStats {
    fn read_line(&mut self, line: &str) {
        if let Some(path) = line.split("Test unit written to ").nth(1) {
            self.crash = Some(path.trim().to_string());
            return;
        }
        if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            if let Ok(n) = n.trim().parse() {
                self.runs = Some(n);
            }
            return;
        }
        let Some((runs, event, coverage)) = status_line(line) else { return };
        if event == "INITED" {
            // The last INITED: after the corpus was loaded (the first is after one empty input).
            self.inited = Some(coverage);
        }
        self.last = Some(coverage);
        self.done |= event == "DONE";
        // The final stats, printed after the last status line, overwrite this.
        self.runs = Some(runs);
    }

    fn failed(&self) -> bool {
        self.crash.is_some() || self.exit.is_some()
    }

    fn new_coverage(&self) -> Option<Coverage> {
        let (start, end) = (self.inited?, self.last?);
        Some(Coverage {
            cov: end.cov.saturating_sub(start.cov),
            ft: end.ft.saturating_sub(start.ft),
        })
    }

    fn summary(&self, target: &str, secs: u64) -> String {
        let show =
            |c: Option<Coverage>| c.map_or("?".into(), |c| format!("cov {} ft {}", c.cov, c.ft));
        let runs = self.runs.map_or("?".into(), |n| n.to_string());
        let outcome = match (&self.crash, &self.exit) {
            (Some(path), _) => format!("CRASH {path}"),
            (None, Some(exit)) => format!("FAILED ({exit})"),
            (None, None) => "ok".into(),
        };
        format!(
            "{target}: {runs} runs in {secs} s; start {}, end {}, new {}; {outcome}",
            show(self.inited),
            show(self.last),
            show(self.new_coverage()),
        )
    }
}

/// `#<runs>\t<EVENT> cov: <X> ft: <Y> …` → (runs, event, coverage).
fn status_line(line: &str) -> Option<(u64, &str, Coverage)> {
    let rest = line.strip_prefix('#')?;
    let mut words = rest.split_whitespace();
    let runs = words.next()?.parse().ok()?;
    let event = words.next()?;
    let mut coverage = Coverage::default();
    let (mut cov, mut ft) = (None, None);
    while let Some(word) = words.next() {
        match word {
            "cov:" => cov = words.next().and_then(|n| n.parse().ok()),
            "ft:" => ft = words.next().and_then(|n| n.parse().ok()),
            _ => {}
        }
    }
    coverage.cov = cov?;
    coverage.ft = ft?;
    Some((runs, event, coverage))
}

/// The end-of-`--all` table.
fn table(results: &[(String, RunStats, u64)]) -> String {
    let width = results.iter().map(|(t, _, _)| t.len()).max().unwrap_or(6).max(6);
    let mut out = format!(
        "{:width$}  {:>10}  {:>6}  {:>15}  {:>15}  {:>13}  result\n",
        "target", "runs", "secs", "cov start→end", "ft start→end", "new cov/ft"
    );
    for (target, stats, secs) in results {
        let pair = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => format!("{a}→{b}"),
            _ => "?".into(),
        };
        let (start, end, new) = (stats.inited, stats.last, stats.new_coverage());
        let result = match (&stats.crash, &stats.exit) {
            (Some(path), _) => format!("CRASH {path}"),
            (None, Some(exit)) => format!("FAILED ({exit})"),
            (None, None) => "ok".into(),
        };
        out += &format!(
            "{target:width$}  {:>10}  {secs:>6}  {:>15}  {:>15}  {:>13}  {result}\n",
            stats.runs.map_or("?".into(), |n| n.to_string()),
            pair(start.map(|c| c.cov), end.map(|c| c.cov)),
            pair(start.map(|c| c.ft), end.map(|c| c.ft)),
            new.map_or("?".into(), |c| format!("+{}/+{}", c.cov, c.ft)),
        );
    }
    out
}

/// The `[[bin]]` names of `fuzz/Cargo.toml`, in file order.
fn targets(fuzz_dir: &Path) -> Result<Vec<String>> {
    let manifest = fuzz_dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let mut targets = Vec::new();
    let mut in_bin = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
        } else if in_bin
            && let Some(rest) = line.strip_prefix("name")
            && let Some(value) = rest.trim_start().strip_prefix('=')
        {
            targets.push(value.trim().trim_matches('"').to_owned());
        }
    }
    if targets.is_empty() {
        bail!("no [[bin]] targets in {}", manifest.display());
    }
    Ok(targets)
}

/// Installs cargo-fuzz unless `cargo fuzz --version` already works.
fn install_cargo_fuzz() -> Result<()> {
    let installed = cargo_command()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if installed {
        return Ok(());
    }
    eprintln!("$ cargo install cargo-fuzz --locked   (about 2 minutes)");
    let status = cargo_command()
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .context("running cargo install cargo-fuzz")?;
    if !status.success() {
        bail!("cargo install cargo-fuzz --locked failed ({status})");
    }
    Ok(())
}

/// The cargo that runs xtask (`$CARGO`), else `cargo` from PATH.
fn cargo_command() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libFuzzer's output of a clean run (trimmed from a real `cargo xtask fuzz` run).
    const CLEAN: &str = "\
INFO: Running with entropic power schedule (0xFF, 100).
INFO: Seed: 3140375577
INFO: Loaded 1 modules   (79532 inline 8-bit counters): 79532 [0x5581, 0x5594), 
INFO:       60 files found in corpus/streamid_from_str
#2\tINITED cov: 2 ft: 2 corp: 1/1b exec/s: 0 rss: 32Mb
#61\tINITED cov: 1204 ft: 3411 corp: 55/4390b exec/s: 0 rss: 45Mb
#128\tNEW    cov: 1210 ft: 3420 corp: 56/4401b lim: 112 exec/s: 0 rss: 46Mb L: 11/96 MS: 1 ChangeBit-
#4096\tpulse  cov: 1210 ft: 3433 corp: 57/4410b lim: 4096 exec/s: 2048 rss: 50Mb
#9001\tREDUCE cov: 1215 ft: 3450 corp: 57/4400b lim: 4096 exec/s: 3000 rss: 51Mb L: 9/96 MS: 2 EraseBytes-
#181234\tDONE   cov: 1215 ft: 3461 corp: 57/4400b lim: 4096 exec/s: 6041 rss: 60Mb
Done 181234 runs in 31 second(s)
stat::number_of_executed_units: 181235
stat::average_exec_per_sec:     6041
stat::new_units_added:          3
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              60
";

    const CRASH: &str = "\
#70\tINITED cov: 500 ft: 900 corp: 60/3Kb exec/s: 0 rss: 40Mb
#512\tNEW    cov: 505 ft: 910 corp: 61/3Kb lim: 4096 exec/s: 0 rss: 41Mb L: 4/4096 MS: 1 InsertByte-
thread '<unnamed>' panicked at crates/x/src/fuzzing.rs:10:5:
==4242== ERROR: libFuzzer: deadly signal
MS: 2 ChangeByte-CopyPart-; base unit: 0123456789abcdef0123456789abcdef01234567
artifact_prefix='/work/wt-fuzz/fuzz/artifacts/x/'; Test unit written to /work/wt-fuzz/fuzz/artifacts/x/crash-da39a3ee5e6b4b0d3255bfef95601890afd80709
Base64: AAEC
";

    fn read(text: &str) -> RunStats {
        let mut stats = RunStats::default();
        text.lines().for_each(|line| stats.read_line(line));
        stats
    }

    #[test]
    fn reads_a_clean_run() {
        let stats = read(CLEAN);
        assert_eq!(stats.inited, Some(Coverage { cov: 1204, ft: 3411 }), "the last INITED");
        assert_eq!(stats.last, Some(Coverage { cov: 1215, ft: 3461 }));
        assert_eq!(stats.runs, Some(181_235), "the final stats win over the DONE line");
        assert!(stats.done);
        assert_eq!(stats.crash, None);
        assert_eq!(stats.new_coverage(), Some(Coverage { cov: 11, ft: 50 }));
        assert_eq!(
            stats.summary("t", 31),
            "t: 181235 runs in 31 s; start cov 1204 ft 3411, end cov 1215 ft 3461, new cov 11 ft 50; ok"
        );
    }

    #[test]
    fn reads_a_crash_and_its_input() {
        let mut stats = read(CRASH);
        assert_eq!(stats.inited, Some(Coverage { cov: 500, ft: 900 }));
        assert_eq!(stats.last, Some(Coverage { cov: 505, ft: 910 }), "the last status line");
        assert_eq!(stats.runs, Some(512));
        assert!(!stats.done);
        assert_eq!(
            stats.crash.as_deref(),
            Some("/work/wt-fuzz/fuzz/artifacts/x/crash-da39a3ee5e6b4b0d3255bfef95601890afd80709")
        );
        stats.exit = Some("exit status: 77".into());
        assert!(stats.failed());
        assert!(stats.summary("x", 5).ends_with(
            "CRASH /work/wt-fuzz/fuzz/artifacts/x/crash-da39a3ee5e6b4b0d3255bfef95601890afd80709"
        ));
    }

    #[test]
    fn without_final_stats_the_done_line_counts_the_runs() {
        let text: String =
            CLEAN.lines().filter(|l| !l.starts_with("stat::")).collect::<Vec<_>>().join("\n");
        assert_eq!(read(&text).runs, Some(181_234));
    }

    #[test]
    fn ignores_lines_that_are_not_status_lines() {
        for line in [
            "#abc INITED cov: 1 ft: 2",
            "#5 INITED cov: x ft: 2",
            "#5 NEW",
            "INITED cov: 1 ft: 1",
            "",
        ] {
            assert_eq!(read(line), RunStats::default(), "{line:?}");
        }
        // A build that never got to fuzzing: nothing known, and the table says so.
        let table = table(&[("t".into(), RunStats::default(), 0)]);
        assert!(table.lines().nth(1).is_some_and(|l| l.contains('?') && l.ends_with("ok")));
    }

    #[test]
    fn the_table_has_a_row_per_target() {
        let mut crashed = read(CRASH);
        crashed.exit = Some("exit status: 77".into());
        let table = table(&[("clean".into(), read(CLEAN), 31), ("x".into(), crashed, 5)]);
        let rows: Vec<&str> = table.lines().collect();
        assert_eq!(rows.len(), 3);
        assert!(
            rows[1].starts_with("clean")
                && rows[1].contains("1204→1215")
                && rows[1].contains("+11/+50")
        );
        assert!(
            rows[2].starts_with("x ")
                && rows[2].contains("CRASH /work/wt-fuzz/fuzz/artifacts/x/crash-")
        );
    }
}
