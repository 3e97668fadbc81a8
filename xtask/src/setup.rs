//! System packages the build needs, installed from Debian's registry when missing.
//!
//! `ceramic-storage-rocks` (and the anchor service) link RocksDB from Debian (`librocksdb-dev`,
//! RocksDB 7.8) instead of compiling its C++ sources (~28 minutes on 2 cores), and `librocksdb-sys`'s bindgen needs
//! libclang. `cargo xtask ci`, `test` and `node` call this first, so a fresh machine needs no
//! manual step.

use std::process::Command;

use anyhow::{Context, Result, bail};

/// The Debian packages the workspace builds against.
const PACKAGES: &[&str] = &["librocksdb-dev", "libclang-dev"];

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).contains("install ok installed"))
}

fn run(program: &str, args: &[&str]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .with_context(|| format!("running {program}"))?;
    if !status.success() {
        bail!("{program} {} failed ({status})", args.join(" "));
    }
    Ok(())
}

/// Installs the missing [`PACKAGES`] with apt-get (as root), or says what to install.
pub(crate) fn system_packages() -> Result<()> {
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !root {
        bail!(
            "missing Debian packages {missing:?}: run `sudo apt-get install -y {}`",
            missing.join(" ")
        );
    }
    run("apt-get", &["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(&missing);
    run("apt-get", &install)
}
