//! The programs `cargo xtask tools` installs: each `tools/<name>/` of the workspace gets
//! `npm ci`, and the tests run them from `tools/<name>/node_modules/`.

use std::path::{Path, PathBuf};

use crate::{Error, Program, Result};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.ancestors().nth(2).unwrap_or(manifest).to_path_buf()
}

/// `tools/<name>/`, after checking that each of `installed` (paths relative to it, e.g.
/// `node_modules/helia`) exists.
///
/// # Errors
/// [`Error::ToolMissing`] naming the first missing path and `cargo xtask tools`.
pub fn tool_dir(name: &str, installed: &[&str]) -> Result<PathBuf> {
    let dir = workspace_root().join("tools").join(name);
    for path in installed {
        let path = dir.join(path);
        if !path.exists() {
            return Err(Error::ToolMissing { path, tool_dir: dir });
        }
    }
    Ok(dir)
}

/// A Node.js script of `tools/<name>/`, run by the Node.js that npm installed there
/// (`node_modules/node/bin/node`) in that directory. `installed` as in [`tool_dir`].
///
/// # Errors
/// [`Error::ToolMissing`] if that Node.js or one of `installed` is missing.
pub fn node_script(name: &str, script: &str, installed: &[&str]) -> Result<Program> {
    let node = "node_modules/node/bin/node";
    let needs: Vec<&str> = std::iter::once(node).chain(installed.iter().copied()).collect();
    let dir = tool_dir(name, &needs)?;
    Ok(Program::new(dir.join(node)).arg(dir.join(script)).current_dir(&dir).with_name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_root_holds_the_tools() {
        let root = workspace_root();
        assert!(root.join("Cargo.toml").is_file(), "{}", root.display());
        assert!(root.join("tools").is_dir(), "{}", root.display());
    }

    #[test]
    fn a_missing_install_names_the_path_and_the_command() {
        let error = tool_dir("helia", &["node_modules/no-such-package"]).unwrap_err();
        let Error::ToolMissing { ref path, .. } = error else { panic!("{error}") };
        assert!(path.ends_with("tools/helia/node_modules/no-such-package"), "{}", path.display());
        assert!(error.to_string().contains("cargo xtask tools"), "{error}");
        assert!(node_script("no-such-tool", "x.mjs", &[]).is_err());
    }
}
