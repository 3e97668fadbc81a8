//! `cargo xtask <task>`: the project's tasks, plain Rust over `std::process::Command`.
//!
//! - `ci`: exactly what CI runs: `cargo fmt --check`, `layers`, `cargo clippy -D warnings` on
//!   all targets and features, `vectors --check` (needs Node and npm), then the whole test
//!   suite (`cargo test --workspace --all-features`, then the doc tests) and one closing line
//!   `summary: N passed, N failed, N skipped`.
//! - `layers`: check that every crate depends only on crates of its own or a lower layer of
//!   README.md's `## Layers`, and the named rules of `layers.rs` (e.g. `ceramic-net` links no
//!   RocksDB), against `cargo metadata`.
//! - `test`: only the test suite (after `tools`).
//! - `tools`: install the real external programs the tests drive (anvil, js-libp2p, the
//!   js-ceramic http-client, ...): every `tools/<name>/` with a `package.json` gets `npm ci`.
//! - `node [-- args]`: run the reference node (`ceramic-node`) on its embedded defaults.
//! - `codegen [--check]`: regenerate `crates/proto/src/generated/` from the `.proto` files.
//! - `contract [--check]`: compile the anchor contract (`crates/anchor-eth/contract/`) with
//!   solc-js from `tools/solc/` into its committed bytecode and ABI (`ci` runs the check).
//!
//! `ci` and `test` first install the Debian packages the build links against (RocksDB,
//! libclang) when they are missing: see `setup.rs`.
//! - `vectors [--check]`: regenerate the golden vectors from the JavaScript libraries (needs
//!   Node and npm), or check that the committed ones are what the generator makes.
//! - `fuzz <target> [--secs N]`: run one cargo-fuzz target (installs cargo-fuzz if needed);
//!   `fuzz --all [--secs N]` runs each in turn and tabulates runs and coverage gained.
//! - `bench [criterion args]`: run the criterion benches and print the ratios we quote.

mod codegen;
mod contract;
mod fuzz;
mod hooks;
mod layers;
mod setup;
mod tools;
mod vectors;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace")
        .to_path_buf()
}

/// Runs `cargo <args>` in the workspace root, failing on a non-zero exit.
pub(crate) fn cargo(root: &Path, args: &[&str]) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .current_dir(root)
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Test counts summed over every `test result:` line cargo printed.
#[derive(Debug, Default)]
struct Counts {
    passed: u64,
    failed: u64,
    ignored: u64,
}

impl Counts {
    /// Adds the counts of a line like `test result: ok. 8 passed; 0 failed; 1 ignored; …`.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else { return };
        for part in rest.split(['.', ';']) {
            let mut words = part.split_whitespace();
            let (Some(n), Some(what)) = (words.next(), words.next()) else { continue };
            let Ok(n) = n.parse::<u64>() else { continue };
            match what {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                "ignored" => self.ignored += n,
                _ => {}
            }
        }
    }
}

/// Runs `cargo <args>`, echoing its standard output line by line and counting test results.
fn cargo_counting(root: &Path, args: &[&str], counts: &mut Counts) -> Result<()> {
    use std::io::BufRead as _;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("$ cargo {}", args.join(" "));
    let mut child = Command::new(cargo)
        .args(args)
        .current_dir(root)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    let stdout = child.stdout.take().context("cargo's stdout")?;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.context("reading cargo's output")?;
        println!("{line}");
        counts.add_line(&line);
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(())
}

fn test(root: &Path) -> Result<()> {
    setup::system_packages()?;
    tools::install(root)?;
    let mut counts = Counts::default();
    let all = ["test", "--workspace", "--all-features", "--all-targets", "--locked"];
    let doc = ["test", "--workspace", "--all-features", "--doc", "--locked"];
    let result = cargo_counting(root, &all, &mut counts)
        .and_then(|()| cargo_counting(root, &doc, &mut counts));
    // One closing line over the whole suite, in the plain form CI reads.
    println!(
        "\nsummary: {} passed, {} failed, {} skipped",
        counts.passed, counts.failed, counts.ignored
    );
    result?;
    if counts.passed == 0 {
        bail!("no test ran");
    }
    Ok(())
}

fn ci(root: &Path) -> Result<()> {
    setup::system_packages()?;
    cargo(root, &["fmt", "--all", "--", "--check"])?;
    layers::run(root)?;
    let clippy = ["clippy", "--workspace", "--all-targets", "--all-features", "--locked", "--"];
    cargo(root, &[&clippy[..], &["-D", "warnings"]].concat())?;
    // The committed generated code and golden vectors must be what their generators make.
    codegen::run(root, true)?;
    vectors::run(root, true)?;
    hooks::run(root, true)?;
    contract::run(root, true)?;
    test(root)
}

fn main() -> Result<()> {
    let root = workspace_root();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(&root),
        Some("test") => test(&root),
        Some("layers") => layers::run(&root),
        Some("node") => {
            setup::system_packages()?;
            let mut run = vec!["run", "--release", "-p", "ceramic-node", "--"];
            run.extend(rest);
            cargo(&root, &run)
        }
        Some("tools") => tools::install(&root),
        Some("codegen") => codegen::run(&root, rest.contains(&"--check")),
        Some("contract") => contract::run(&root, rest.contains(&"--check")),
        Some("vectors") => vectors::run(&root, rest.contains(&"--check")),
        Some("hooks") => hooks::run(&root, rest.contains(&"--check")),
        Some("fuzz") => fuzz::run(&root, &rest),
        Some("bench") => {
            let mut bench = vec!["bench", "-p", "ceramic-benches", "--"];
            bench.extend(rest);
            cargo(&root, &bench)
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <ci | layers | test | node | tools | codegen [--check] | contract [--check] | vectors [--check] | hooks [--check] | fuzz <target> [--secs N] | fuzz --all [--secs N] | bench>"
            );
            std::process::exit(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Counts;

    #[test]
    fn counts_cargo_test_result_lines() {
        let mut counts = Counts::default();
        counts.add_line(
            "test result: ok. 8 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s",
        );
        counts.add_line("test result: FAILED. 2 passed; 3 failed; 0 ignored; 0 measured");
        counts.add_line("running 5 tests");
        assert_eq!((counts.passed, counts.failed, counts.ignored), (10, 3, 1));
    }
}
