//! The manifest: what a target holds, per stream (see `specs/backup.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::target::Target;

/// The manifest's object name.
pub const MANIFEST: &str = "manifest.json";
/// The manifest format's version.
pub const VERSION: u32 = 1;

/// What a target holds of one stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamEntry {
    /// The last tip backed up (a CID string).
    pub tip: String,
    /// How many commits the log up to `tip` has.
    pub commits: usize,
    /// The stream's segment objects, oldest first; together they hold every block of the log.
    pub objects: Vec<String>,
}

/// What a target holds: the last backed-up tip of each stream, by StreamID string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`VERSION`].
    pub version: u32,
    /// Per stream.
    pub streams: BTreeMap<String, StreamEntry>,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest { version: VERSION, streams: BTreeMap::new() }
    }
}

impl Manifest {
    /// The target's manifest, or an empty one when it has none.
    ///
    /// # Errors
    /// [`Error::Target`]; [`Error::Manifest`] when it does not parse or has another version.
    pub fn load(target: &dyn Target) -> Result<Manifest> {
        let Some(bytes) = target.get(MANIFEST)? else { return Ok(Manifest::default()) };
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(Error::Manifest)?;
        if manifest.version != VERSION {
            return Err(Error::Manifest(serde::de::Error::custom(format!(
                "version {} (this node reads {VERSION})",
                manifest.version
            ))));
        }
        Ok(manifest)
    }

    /// Writes the manifest (last in a run: a crash before leaves the old one).
    ///
    /// # Errors
    /// [`Error::Target`].
    pub fn store(&self, target: &dyn Target) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(Error::Manifest)?;
        target.put(MANIFEST, &bytes)?;
        Ok(())
    }

    /// How many commits the target holds in all.
    pub fn commits(&self) -> usize {
        self.streams.values().map(|e| e.commits).sum()
    }
}
