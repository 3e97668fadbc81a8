//! `cargo xtask <task>`: the project's tasks, plain Rust over `std::process::Command`.
//!
//! - `ci`: exactly what CI runs: `cargo fmt --check`, `cargo clippy -D warnings` on all targets
//!   and features, then the whole test suite (`cargo test --workspace --all-features`).
//! - `test`: only the test suite.
//! - `vectors [--check]`: regenerate the golden vectors from the JavaScript libraries (needs
//!   Node and npm), or check that the committed ones are what the generator makes.
//! - `fuzz <target> [--secs N]`: run one cargo-fuzz target (installs cargo-fuzz if needed).
//! - `bench [criterion args]`: run the criterion benches and print the ratios we quote.

mod fuzz;
mod vectors;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits in the workspace").to_path_buf()
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

fn test(root: &Path) -> Result<()> {
    cargo(root, &["test", "--workspace", "--all-features", "--all-targets", "--locked"])?;
    cargo(root, &["test", "--workspace", "--all-features", "--doc", "--locked"])
}

fn ci(root: &Path) -> Result<()> {
    cargo(root, &["fmt", "--all", "--", "--check"])?;
    cargo(
        root,
        &["clippy", "--workspace", "--all-targets", "--all-features", "--locked", "--", "-D", "warnings"],
    )?;
    test(root)
}

fn main() -> Result<()> {
    let root = workspace_root();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(&root),
        Some("test") => test(&root),
        Some("vectors") => vectors::run(&root, rest.contains(&"--check")),
        Some("fuzz") => fuzz::run(&root, &rest),
        Some("bench") => {
            let mut bench = vec!["bench", "-p", "ceramic-benches", "--"];
            bench.extend(rest);
            cargo(&root, &bench)
        }
        _ => {
            eprintln!("usage: cargo xtask <ci | test | vectors [--check] | fuzz <target> [--secs N] | bench>");
            std::process::exit(2)
        }
    }
}
