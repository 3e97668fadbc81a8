//! Integration tests of `ceramic-storage-rocks`: the storage suite of `ceramic-storage`
//! (compiled from that crate's `tests/it/suite.rs`) against RocksDB, and what only RocksDB has
//! (`rocks.rs`: reopening, locking, files on disk that go bad; `disk_full.rs`: a full tmpfs).

mod disk_full;
#[path = "../../../storage/tests/it/fixtures.rs"]
mod fixtures;
mod rocks;
#[path = "../../../storage/tests/it/suite.rs"]
mod suite;

use std::sync::Arc;

use ceramic_storage::{MemoryStorage, Storage};
use ceramic_storage_rocks::Config;

/// A store under test, and how to make another empty one of the same kind.
#[allow(missing_debug_implementations)] // a test harness; `dyn Storage` is not `Debug`
pub(crate) struct Fixture {
    /// The store.
    pub(crate) store: Arc<dyn Storage>,
    /// Makes an empty store of the same kind.
    pub(crate) fresh: fn() -> Fixture,
    _dir: Option<tempfile::TempDir>,
}

/// An empty in-memory store (the suite builds reference states on one).
pub(crate) fn memory() -> Fixture {
    Fixture { store: Arc::new(MemoryStorage::new()), fresh: memory, _dir: None }
}

/// An empty RocksDB store in a temporary directory, with the default config (sync on).
pub(crate) fn rocks() -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = ceramic_storage_rocks::open(dir.path(), Config::default()).expect("opens");
    Fixture { store: Arc::new(store), fresh: rocks, _dir: Some(dir) }
}

/// Instantiates each test of `suite` on RocksDB.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod rocksdb {
            $(#[test] fn $name() { crate::suite::$name(crate::rocks()) })*
        }
    };
}

crate::suite::tests!(suite);
