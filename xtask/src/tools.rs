//! `cargo xtask tools`: installs the real components the tests run against, all from the npm
//! registry (the only place besides the crate registry CI can reach). Each `tools/<name>/`
//! directory holds a `package.json` and its `package-lock.json`; it gets `npm ci` when its
//! `node_modules` is missing or older than the lock. Tests find the programs under
//! `tools/<name>/node_modules/` and fail with a pointer to this command when they are missing.

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result};

use crate::vectors::npm_install;

/// Runs `npm ci` in every `tools/*/` that needs it.
pub(crate) fn install(root: &Path) -> Result<()> {
    let tools = root.join("tools");
    let Ok(entries) = fs::read_dir(&tools) else {
        return Ok(());
    };
    let mut dirs: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("package.json").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        if up_to_date(&dir) {
            eprintln!("tools: {} is installed", dir.display());
            continue;
        }
        npm_install(&dir).with_context(|| format!("installing {}", dir.display()))?;
    }
    Ok(())
}

/// `node_modules/.package-lock.json` (written by npm on install) is newer than the lock file.
fn up_to_date(dir: &Path) -> bool {
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    let installed = modified(&dir.join("node_modules/.package-lock.json"));
    let wanted = modified(&dir.join("package-lock.json")).or(Some(SystemTime::UNIX_EPOCH));
    matches!((installed, wanted), (Some(i), Some(w)) if i >= w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_only_when_node_modules_is_newer_than_the_lock() {
        let dir = std::env::temp_dir().join(format!("xtask-tools-{}", std::process::id()));
        fs::create_dir_all(dir.join("node_modules")).unwrap();
        fs::write(dir.join("package-lock.json"), "{}").unwrap();
        assert!(!up_to_date(&dir), "nothing installed yet");
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(dir.join("node_modules/.package-lock.json"), "{}").unwrap();
        assert!(up_to_date(&dir));
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(dir.join("package-lock.json"), "{\"changed\":1}").unwrap();
        assert!(!up_to_date(&dir), "lock changed after install");
        fs::remove_dir_all(&dir).unwrap();
    }
}
