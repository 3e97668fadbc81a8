//! Where backups go: the [`Target`] trait and the directory target.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use crate::error::TargetError;

/// An object store holding a backup: objects by name, written whole. Names are
/// content-addressed by the backup (the same name always gets the same bytes, or a superset of
/// the same commits), so a retried `put` never duplicates anything.
pub trait Target: Send + Sync + std::fmt::Debug {
    /// Stores `bytes` as `name`, replacing any object of that name.
    ///
    /// # Errors
    /// The medium's [`TargetError`].
    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), TargetError>;

    /// The object `name`, if there is one.
    ///
    /// # Errors
    /// The medium's [`TargetError`].
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, TargetError>;

    /// The names of the objects starting with `prefix`, sorted.
    ///
    /// # Errors
    /// The medium's [`TargetError`].
    fn list(&self, prefix: &str) -> Result<Vec<String>, TargetError>;

    /// Removes the object `name` (nothing if there is none).
    ///
    /// # Errors
    /// The medium's [`TargetError`].
    fn delete(&self, name: &str) -> Result<(), TargetError>;

    /// Our node's libp2p addresses (with `/p2p/<peer id>`), for a target that fetches blocks
    /// from the node over Bitswap ([`crate::IpfsTarget`]); others ignore them.
    fn provide_from(&self, addrs: Vec<String>) {
        let _ = addrs;
    }
}

/// Checks an object name: `/`-separated segments of `[A-Za-z0-9._-]`, none empty, `.` or `..`.
///
/// # Errors
/// [`TargetError::BadName`].
pub fn check_name(name: &str) -> Result<(), TargetError> {
    let ok = !name.is_empty()
        && name.split('/').all(|s| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        });
    if ok { Ok(()) } else { Err(TargetError::BadName(name.to_owned())) }
}

/// A directory: each object a file (`<dir>/<name>`), written to a temporary file, synced and
/// renamed into place, so a crash leaves the old object or the new one.
#[derive(Debug, Clone)]
pub struct DirTarget {
    dir: PathBuf,
    sync: bool,
}

impl DirTarget {
    /// Objects under `dir` (created when first written). Writes are synced.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DirTarget { dir: dir.into(), sync: true }
    }

    /// Whether each object is synced to disk before `put` returns.
    #[must_use]
    pub fn with_sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> Result<PathBuf, TargetError> {
        check_name(name)?;
        Ok(self.dir.join(name))
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TargetError + use<> {
    let path = path.to_path_buf();
    move |source| TargetError::Io { path, source }
}

impl Target for DirTarget {
    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), TargetError> {
        let path = self.path(name)?;
        let parent = path.parent().unwrap_or(&self.dir).to_path_buf();
        fs::create_dir_all(&parent).map_err(io(&parent))?;
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("object");
        let tmp = parent.join(format!(".{file_name}.tmp"));
        let mut file = fs::File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(bytes).map_err(io(&tmp))?;
        if self.sync {
            file.sync_all().map_err(io(&tmp))?;
        }
        drop(file);
        fs::rename(&tmp, &path).map_err(io(&path))?;
        if self.sync {
            fs::File::open(&parent).and_then(|d| d.sync_all()).map_err(io(&parent))?;
        }
        Ok(())
    }

    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, TargetError> {
        let path = self.path(name)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(source) => Err(TargetError::Io { path, source }),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, TargetError> {
        let mut names = Vec::new();
        let mut dirs = vec![(self.dir.clone(), String::new())];
        while let Some((dir, rel)) = dirs.pop() {
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(source) => return Err(TargetError::Io { path: dir, source }),
            };
            for entry in entries {
                let entry = entry.map_err(io(&dir))?;
                let Some(file) = entry.file_name().to_str().map(str::to_owned) else { continue };
                if file.starts_with('.') {
                    continue;
                }
                let name = if rel.is_empty() { file } else { format!("{rel}/{file}") };
                let kind = entry.file_type().map_err(io(&entry.path()))?;
                if kind.is_dir() {
                    dirs.push((entry.path(), name));
                } else if name.starts_with(prefix) && check_name(&name).is_ok() {
                    names.push(name);
                }
            }
        }
        names.sort();
        Ok(names)
    }

    fn delete(&self, name: &str) -> Result<(), TargetError> {
        let path = self.path(name)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(source) => Err(TargetError::Io { path, source }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in ["manifest.json", "streams/k2t6/bafy.car", "a-b_c.d"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "/abs", "a//b", "../up", "a/./b", "a b", "a/", "é"] {
            assert!(matches!(check_name(bad), Err(TargetError::BadName(_))), "{bad}");
        }
    }

    #[test]
    fn a_directory_stores_lists_and_deletes_objects() {
        let dir = tempfile::tempdir().unwrap();
        let target = DirTarget::new(dir.path().join("b")).with_sync(false);
        assert_eq!(target.get("x").unwrap(), None);
        assert!(target.list("").unwrap().is_empty());
        target.put("streams/s1/a.car", b"one").unwrap();
        target.put("streams/s1/a.car", b"two").unwrap();
        target.put("manifest.json", b"{}").unwrap();
        assert_eq!(target.get("streams/s1/a.car").unwrap().as_deref(), Some(&b"two"[..]));
        assert_eq!(target.list("").unwrap(), ["manifest.json", "streams/s1/a.car"]);
        assert_eq!(target.list("streams/").unwrap(), ["streams/s1/a.car"]);
        target.delete("streams/s1/a.car").unwrap();
        target.delete("streams/s1/a.car").unwrap();
        assert_eq!(target.list("streams/").unwrap(), Vec::<String>::new());
        assert!(matches!(target.put("../evil", b""), Err(TargetError::BadName(_))));
    }
}
