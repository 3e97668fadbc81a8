//! `cargo xtask contract [--check]`: compiles the anchor contract
//! `crates/anchor-eth/contract/CeramicAnchorServiceV2.sol` with solc-js (npm `solc@0.8.24`,
//! wasm, pinned in `tools/solc/`, driven by `tools/solc/compile.cjs`) and writes its creation
//! bytecode (`.bin`, hex) and ABI (`.abi.json`) next to the source. Both are committed: the
//! tests deploy the committed bytecode, so they need no compiler.
//!
//! * without `--check` the two files are (re)written;
//! * with `--check` they are compiled into a temporary directory and compared byte for byte
//!   with the committed ones; a difference or a missing file is an error naming it.
//!
//! Needs Node and npm (`npm ci` in `tools/solc/` when its `node_modules` is missing). Takes about
//! two seconds.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The contract's folder, relative to the workspace root.
const CONTRACT_DIR: &str = "crates/anchor-eth/contract";
/// The contract (and file) name.
const NAME: &str = "CeramicAnchorServiceV2";
/// solc-js and its driver script, relative to the workspace root.
const SOLC_DIR: &str = "tools/solc";

/// Compiles the contract, then writes or (with `check`) verifies the committed outputs.
pub(crate) fn run(root: &Path, check: bool) -> Result<()> {
    let solc_dir = root.join(SOLC_DIR);
    if !solc_dir.join("node_modules/solc").is_dir() {
        crate::vectors::npm_install(&solc_dir)?;
    }
    let dir = root.join(CONTRACT_DIR);
    let tmp = tempfile::tempdir().context("creating a temporary directory")?;
    let out = if check { tmp.path() } else { dir.as_path() };
    let source = dir.join(format!("{NAME}.sol"));
    let status = Command::new("node")
        .arg("compile.cjs")
        .arg(&source)
        .arg(NAME)
        .arg(out)
        .current_dir(&solc_dir)
        .status()
        .context("could not start `node compile.cjs` (are Node.js and npm installed?)")?;
    if !status.success() {
        bail!("contract: compiling {} failed ({status})", source.display());
    }
    let files = [format!("{NAME}.bin"), format!("{NAME}.abi.json")];
    if !check {
        println!("contract: {} written into {}", files.join(" and "), dir.display());
        return Ok(());
    }
    let mut problems = Vec::new();
    for name in &files {
        let fresh = fs::read(tmp.path().join(name)).with_context(|| format!("reading {name}"))?;
        match fs::read(dir.join(name)) {
            Ok(committed) if committed == fresh => {}
            Ok(_) => problems.push(format!("{CONTRACT_DIR}/{name} differs from what solc makes")),
            Err(e) => problems.push(format!("{CONTRACT_DIR}/{name}: {e}")),
        }
    }
    if problems.is_empty() {
        println!("contract: {NAME} bytecode and ABI up to date");
        Ok(())
    } else {
        for p in &problems {
            eprintln!("contract: {p}");
        }
        bail!("contract: committed outputs are stale; run `cargo xtask contract`")
    }
}
