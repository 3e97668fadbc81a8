//! `cargo xtask hooks [--check]`: builds the example and test hooks (`tools/hooks/examples/*.ts`,
//! AssemblyScript pinned in `tools/hooks/package.json`) into the committed
//! `tools/hooks/build/*.wasm`; with `--check`, builds them into a scratch directory and fails
//! when a committed module differs or is missing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::vectors::npm_install;

/// The compiler flags every hook is built with (`specs/hooks.md`, "Building a hook").
pub(crate) const ASC_FLAGS: [&str; 5] = ["-O3", "--runtime", "stub", "--use", "abort="];

pub(crate) fn run(root: &Path, check: bool) -> Result<()> {
    let dir = root.join("tools/hooks");
    if !dir.join("node_modules/.bin/asc").is_file() {
        npm_install(&dir).context("installing tools/hooks (AssemblyScript)")?;
    }
    let committed = dir.join("build");
    let out = if check {
        let scratch = std::env::temp_dir().join(format!("xtask-hooks-{}", std::process::id()));
        fs::create_dir_all(&scratch)?;
        scratch
    } else {
        fs::create_dir_all(&committed)?;
        committed.clone()
    };
    let sources = sources(&dir.join("examples"))?;
    for source in &sources {
        let stem = source.file_stem().and_then(|s| s.to_str()).context("a hook's file name")?;
        let wasm = out.join(format!("{stem}.wasm"));
        let mut cmd = Command::new(dir.join("node_modules/.bin/asc"));
        cmd.arg(source).arg("-o").arg(&wasm).args(ASC_FLAGS).current_dir(&dir);
        eprintln!("hooks: building {}", wasm.display());
        let status = cmd.status().context("running asc (is Node.js installed?)")?;
        if !status.success() {
            bail!("asc {} failed with {status}", source.display());
        }
    }
    if !check {
        return Ok(());
    }
    let mut stale = Vec::new();
    for source in &sources {
        let name = format!("{}.wasm", source.file_stem().and_then(|s| s.to_str()).unwrap_or(""));
        let built = fs::read(out.join(&name))?;
        if fs::read(committed.join(&name)).ok().as_deref() != Some(&built[..]) {
            stale.push(name);
        }
    }
    let _ = fs::remove_dir_all(&out);
    if !stale.is_empty() {
        bail!(
            "tools/hooks/build differs from its sources ({}): run `cargo xtask hooks`",
            stale.join(", ")
        );
    }
    eprintln!("hooks: {} modules match their sources", sources.len());
    Ok(())
}

/// The hooks: every `*.ts` directly in `examples/` (`lib/` holds the shared ABI code).
fn sources(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "ts"))
        .collect();
    out.sort();
    Ok(out)
}
