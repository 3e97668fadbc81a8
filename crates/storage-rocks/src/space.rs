//! The free-space guard: writes are refused while the store's file system has less than a
//! reserve free, before RocksDB sees them, so RocksDB never meets "no space left" (Debian's
//! librocksdb is built with assertions on, and a writer that has failed once aborts the process
//! the next time it is used; `specs/storage.md`, "A full disk").
//!
//! The free space comes from `statvfs` on the store's directory, cached: it is measured again
//! when the last measure is older than the recheck interval ([`RECHECK`] by default) or when
//! more than [`RECHECK_BYTES`] were admitted since. A refusal is cached the same way, so writes
//! resume by themselves at most one interval after space returns.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a measure of the free space is trusted.
pub const RECHECK: Duration = Duration::from_millis(100);
/// How many bytes may be admitted on one measure (at most a quarter of the reserve).
pub const RECHECK_BYTES: u64 = 1 << 20;
/// The smallest reserve [`Config::min_free_bytes`](crate::Config::min_free_bytes) may name:
/// below it RocksDB's own files (a new WAL, a MANIFEST, an OPTIONS file) may not fit.
pub const MIN_RESERVE: u64 = 4 << 20;

/// Why a write was refused before it reached RocksDB.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpaceError {
    /// The file system has less free space than the reserve.
    #[error(
        "the disk is full: the file system of {path} has {free} bytes free, less than the \
         reserve of {reserve} bytes (min_free_bytes); writes are refused until space is freed"
    )]
    BelowReserve {
        /// The store's directory.
        path: PathBuf,
        /// The free space (for unprivileged users) at the last measure.
        free: u64,
        /// The reserve.
        reserve: u64,
    },
    /// `statvfs` failed on the store's directory.
    #[error("cannot measure the free space of {path}: {source}")]
    Measure {
        /// The store's directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Free bytes (for unprivileged users, as `df` shows them) on the file system of `path` (of its
/// nearest existing ancestor when it does not exist yet).
///
/// # Errors
/// [`SpaceError::Measure`].
pub fn free_bytes(path: &Path) -> Result<u64, SpaceError> {
    let existing = path.ancestors().find(|p| p.exists()).unwrap_or(path);
    let stat = rustix::fs::statvfs(existing).map_err(|e| SpaceError::Measure {
        path: path.to_path_buf(),
        source: std::io::Error::from(e),
    })?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// The guard of one store: its reserve and the cached measure. Every write of a
/// [`RocksBackend`](crate::RocksBackend) passes [`SpaceGuard::admit`] first.
#[derive(Debug)]
pub struct SpaceGuard {
    path: PathBuf,
    reserve: u64,
    recheck: u64,
    recheck_bytes: u64,
    epoch: Instant,
    /// When the last measure was taken, in nanoseconds since `epoch` (`u64::MAX`: never).
    measured_at: AtomicU64,
    /// The free bytes of the last measure.
    free: AtomicU64,
    /// Bytes admitted since the last measure.
    admitted: AtomicU64,
    /// Whether the last verdict was "full" (to log the transitions once each).
    full: AtomicBool,
}

impl SpaceGuard {
    /// A guard of the file system of `path` keeping `reserve` bytes free, trusting a measure
    /// for `recheck` (or [`RECHECK_BYTES`] admitted).
    pub fn new(path: &Path, reserve: u64, recheck: Duration) -> Self {
        SpaceGuard {
            path: path.to_path_buf(),
            reserve,
            recheck: u64::try_from(recheck.as_nanos()).unwrap_or(u64::MAX - 1),
            recheck_bytes: RECHECK_BYTES.min(reserve / 4).max(1),
            epoch: Instant::now(),
            measured_at: AtomicU64::new(u64::MAX),
            free: AtomicU64::new(0),
            admitted: AtomicU64::new(0),
            full: AtomicBool::new(false),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// Admits a write of about `bytes`, or refuses it when the free space after it (as last
    /// measured, less what was admitted since) would be below the reserve. Measures again when the last measure
    /// is stale.
    ///
    /// # Errors
    /// [`SpaceError::BelowReserve`], [`SpaceError::Measure`].
    pub fn admit(&self, bytes: u64) -> Result<(), SpaceError> {
        let admitted = self.admitted.fetch_add(bytes, Ordering::Relaxed).saturating_add(bytes);
        let at = self.measured_at.load(Ordering::Acquire);
        let fresh = at != u64::MAX
            && self.now().saturating_sub(at) < self.recheck
            && admitted < self.recheck_bytes;
        let free = if fresh {
            self.free.load(Ordering::Relaxed).saturating_sub(admitted)
        } else {
            self.measure()?.saturating_sub(bytes)
        };
        self.verdict(free, 0)
    }

    /// Measures now, and tells whether `extra` bytes more than the reserve are free (used
    /// before opening the store for writing, which replays and flushes the WAL).
    ///
    /// # Errors
    /// [`SpaceError::BelowReserve`], [`SpaceError::Measure`].
    pub(crate) fn room_for(&self, extra: u64) -> Result<(), SpaceError> {
        let free = self.measure()?;
        self.verdict(free, extra)
    }

    fn measure(&self) -> Result<u64, SpaceError> {
        let free = free_bytes(&self.path)?;
        self.free.store(free, Ordering::Relaxed);
        self.admitted.store(0, Ordering::Relaxed);
        self.measured_at.store(self.now(), Ordering::Release);
        Ok(free)
    }

    fn verdict(&self, free: u64, extra: u64) -> Result<(), SpaceError> {
        if free >= self.reserve.saturating_add(extra) {
            if self.full.swap(false, Ordering::Relaxed) {
                tracing::info!(
                    path = %self.path.display(),
                    free,
                    reserve = self.reserve,
                    "disk space is back above the reserve: the store accepts writes again"
                );
            }
            return Ok(());
        }
        let error =
            SpaceError::BelowReserve { path: self.path.clone(), free, reserve: self.reserve };
        if !self.full.swap(true, Ordering::Relaxed) {
            tracing::warn!(%error, "disk full: refusing writes; reads are still served");
        }
        Err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_the_free_space_of_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_bytes(dir.path()).unwrap() > 0);
        // A directory still to be made: its parent's file system.
        assert!(free_bytes(&dir.path().join("new/store")).unwrap() > 0);
        let err = free_bytes(Path::new("")).unwrap_err();
        assert!(matches!(err, SpaceError::Measure { .. }), "{err}");
    }

    #[test]
    fn refuses_below_the_reserve_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let free = free_bytes(dir.path()).unwrap();
        let guard = SpaceGuard::new(dir.path(), free.saturating_mul(2), RECHECK);
        let err = guard.admit(1).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("disk is full") && text.contains("min_free_bytes"), "{text}");
        // The refusal is cached, then measured again.
        assert!(guard.admit(1).is_err());
        assert!(guard.room_for(0).is_err());
    }

    #[test]
    fn admits_above_the_reserve_and_measures_again_after_enough_bytes() {
        let dir = tempfile::tempdir().unwrap();
        // Only bytes trigger a measure here.
        let guard = SpaceGuard::new(dir.path(), MIN_RESERVE, Duration::from_secs(3600));
        guard.admit(10).unwrap();
        let first = guard.measured_at.load(Ordering::Relaxed);
        guard.admit(10).unwrap();
        assert_eq!(guard.measured_at.load(Ordering::Relaxed), first, "cached");
        // Pretend the last measure found exactly the reserve free: admitted bytes count against
        // it until the next measure.
        guard.free.store(MIN_RESERVE + 100, Ordering::Relaxed);
        guard.admitted.store(0, Ordering::Relaxed);
        guard.admit(50).unwrap();
        assert!(matches!(guard.admit(60), Err(SpaceError::BelowReserve { .. })));
        // More than RECHECK_BYTES admitted: measured again (the real disk has room).
        guard.admit(RECHECK_BYTES).unwrap();
        assert_eq!(guard.admitted.load(Ordering::Relaxed), 0);
    }
}
