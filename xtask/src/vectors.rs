//! `cargo xtask vectors [--check]`: golden test vectors from the real JavaScript Ceramic libraries.
//!
//! The generators are `xtask/js/gen-vectors.mjs`, `xtask/js-identity/gen.mjs` (CACAO),
//! `xtask/js-threeid/gen.mjs` (did:3) and `xtask/js-ceramic-sdk/gen.mjs` (`@ceramic-sdk` events)
//! ([`GENERATORS`]); each project pins its npm dependencies
//! in its own `package.json` + `package-lock.json`. This module installs them with `npm ci` and
//! runs the generators:
//!
//! * without `--check` the vector files are written straight into the workspace
//!   (`crates/*/testdata/js-*.json`);
//! * with `--check` they are generated into a temporary directory and compared byte for byte
//!   with the committed files; any difference (or a missing committed file) is an error that
//!   names the file.
//!
//! Needs Node (20+) and npm, and access to the npm registry for `npm ci`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The generators: (directory relative to the workspace root, script inside it). Each has its
/// own pinned npm project and writes `<out_dir>/crates/<crate>/testdata/...`.
const GENERATORS: &[(&str, &str)] = &[
    ("xtask/js", "gen-vectors.mjs"),
    ("xtask/js-identity", "gen.mjs"),
    ("xtask/js-threeid", "gen.mjs"),
    ("xtask/js-ceramic-sdk", "gen.mjs"),
    ("xtask/js-models", "gen.mjs"),
];

/// Install the pinned npm packages, then generate (or, with `check`, verify) the vector files.
pub(crate) fn run(root: &Path, check: bool) -> Result<()> {
    for (dir, script) in GENERATORS {
        let js_dir = root.join(dir);
        if !js_dir.join(script).is_file() {
            bail!(
                "{} not found; is {} the workspace root?",
                js_dir.join(script).display(),
                root.display()
            );
        }
        npm_install(&js_dir)?;
    }

    if !check {
        for (dir, script) in GENERATORS {
            generate(&root.join(dir), script, root)?;
        }
        println!("vectors: written into {}", root.display());
        return Ok(());
    }

    let tmp = TempDir::new("ceramic-rs-vectors")?;
    for (dir, script) in GENERATORS {
        generate(&root.join(dir), script, tmp.path())?;
    }
    let generated = list_files(tmp.path())?;
    if generated.is_empty() {
        bail!("vectors: the generator wrote no files");
    }

    let mut problems = Vec::new();
    for rel in &generated {
        let fresh = fs::read(tmp.path().join(rel))
            .with_context(|| format!("reading generated {}", rel.display()))?;
        let committed_path = root.join(rel);
        match fs::read(&committed_path) {
            Ok(committed) if committed == fresh => {}
            Ok(committed) => problems.push(format!(
                "{} differs from freshly generated vectors ({})",
                rel.display(),
                first_difference(&committed, &fresh)
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                problems.push(format!("{} is missing (the generator produces it)", rel.display()))
            }
            Err(e) => {
                return Err(e).with_context(|| format!("reading {}", committed_path.display()));
            }
        }
    }

    if problems.is_empty() {
        println!("vectors: {} files up to date", generated.len());
        Ok(())
    } else {
        for p in &problems {
            eprintln!("vectors: {p}");
        }
        bail!(
            "vectors: {} of {} files out of date; run `cargo xtask vectors` and commit the result",
            problems.len(),
            generated.len()
        )
    }
}

/// `npm ci` when a lock file is present (reproducible), else `npm install`.
pub(crate) fn npm_install(js_dir: &Path) -> Result<()> {
    let args: &[&str] = if js_dir.join("package-lock.json").is_file() {
        &["ci", "--no-audit", "--no-fund"]
    } else {
        &["install", "--no-audit", "--no-fund"]
    };
    let mut cmd = Command::new(npm_program());
    cmd.args(args).current_dir(js_dir);
    run_command(cmd, &format!("npm {}", args.join(" ")))
}

/// `node <script> <out_dir>` in `js_dir`.
fn generate(js_dir: &Path, script: &str, out_dir: &Path) -> Result<()> {
    let mut cmd = Command::new("node");
    cmd.arg(script).arg(out_dir).current_dir(js_dir);
    run_command(cmd, &format!("node {script} {}", out_dir.display()))
}

fn npm_program() -> &'static str {
    if cfg!(windows) { "npm.cmd" } else { "npm" }
}

fn run_command(mut cmd: Command, what: &str) -> Result<()> {
    eprintln!("vectors: running `{what}`");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{what}` (are Node.js and npm installed?)"))?;
    if !status.success() {
        bail!("`{what}` failed with {status}");
    }
    Ok(())
}

/// All regular files below `dir`, as sorted paths relative to `dir`.
fn list_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(dir).expect("path below dir").to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A short human description of where two byte strings first differ.
fn first_difference(old: &[u8], new: &[u8]) -> String {
    let pos = old.iter().zip(new).position(|(a, b)| a != b).unwrap_or(old.len().min(new.len()));
    let line = new[..pos].iter().filter(|&&b| b == b'\n').count() + 1;
    if old.len() != new.len() && pos == old.len().min(new.len()) {
        format!(
            "committed {} bytes, generated {} bytes; first difference at line {line}",
            old.len(),
            new.len()
        )
    } else {
        format!("first difference at line {line}, byte {pos}")
    }
}

/// A temporary directory removed on drop (std only; no tempfile crate in xtask).
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(TempDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_files_recursively_and_sorted() {
        let tmp = TempDir::new("vectors-test-list").unwrap();
        fs::create_dir_all(tmp.path().join("crates/b/testdata")).unwrap();
        fs::create_dir_all(tmp.path().join("crates/a/testdata")).unwrap();
        fs::write(tmp.path().join("crates/b/testdata/x.json"), "{}\n").unwrap();
        fs::write(tmp.path().join("crates/a/testdata/y.json"), "{}\n").unwrap();
        let files = list_files(tmp.path()).unwrap();
        assert_eq!(
            files,
            vec![
                PathBuf::from("crates/a/testdata/y.json"),
                PathBuf::from("crates/b/testdata/x.json")
            ]
        );
    }

    #[test]
    fn describes_first_difference() {
        assert_eq!(first_difference(b"a\nb\nc", b"a\nb\nd"), "first difference at line 3, byte 4");
        assert_eq!(
            first_difference(b"a\n", b"a\nb"),
            "committed 2 bytes, generated 3 bytes; first difference at line 2"
        );
    }
}
