//! `cargo xtask fuzz <target> [--secs N]` and `cargo xtask fuzz --list`.
//!
//! Runs one cargo-fuzz target of `fuzz/` on its committed corpus for N seconds (60 by default),
//! installing cargo-fuzz first if `cargo fuzz --version` fails. cargo-fuzz needs nightly flags
//! (`-Zsanitizer`); `RUSTC_BOOTSTRAP=1` lets the pinned stable toolchain take them. libFuzzer
//! adds the inputs it finds interesting to `fuzz/corpus/<target>/` and writes crashes to
//! `fuzz/artifacts/<target>/`; `python3 fuzz/seeds.py --clean` resets the corpus to the seeds.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

const DEFAULT_SECS: u64 = 60;
const USAGE: &str = "usage: cargo xtask fuzz <target> [--secs N] | cargo xtask fuzz --list";

pub(crate) fn run(root: &Path, args: &[&str]) -> Result<()> {
    let fuzz_dir = root.join("fuzz");
    let targets = targets(&fuzz_dir)?;
    let (target, secs) = match args {
        ["--list"] => {
            targets.iter().for_each(|target| println!("{target}"));
            return Ok(());
        }
        [target] => (*target, DEFAULT_SECS),
        [target, "--secs", secs] => {
            (*target, secs.parse().with_context(|| format!("--secs {secs}: not a number"))?)
        }
        _ => bail!("{USAGE}"),
    };
    if !targets.iter().any(|known| known == target) {
        bail!("unknown fuzz target {target:?}; the targets are: {}", targets.join(", "));
    }
    install_cargo_fuzz()?;

    let corpus = format!("corpus/{target}");
    let max_time = format!("-max_total_time={secs}");
    let args = ["fuzz", "run", target, &corpus, "--", &max_time, "-print_final_stats=1"];
    eprintln!("$ (cd fuzz && RUSTC_BOOTSTRAP=1 cargo {})", args.join(" "));
    let status = cargo_command()
        .args(args)
        .env("RUSTC_BOOTSTRAP", "1")
        .current_dir(&fuzz_dir)
        .status()
        .context("running cargo fuzz")?;
    if !status.success() {
        bail!(
            "cargo fuzz run {target} failed ({status}); a crash input is in fuzz/artifacts/{target}/"
        );
    }
    Ok(())
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
