//! Integration tests of `ceramic-storage` through its public API. The shared suite
//! (`suite.rs`) runs here against the in-memory store, and in `ceramic-storage-rocks` (which
//! compiles the same file) against RocksDB; `backend.rs` runs the store over failing backends.

mod backend;
mod fixtures;
mod suite;

use std::sync::Arc;

use ceramic_storage::{MemoryStorage, Storage};

/// A store under test, and how to make another empty one of the same kind.
#[allow(missing_debug_implementations)] // a test harness; `dyn Storage` is not `Debug`
pub(crate) struct Fixture {
    /// The store.
    pub(crate) store: Arc<dyn Storage>,
    /// Makes an empty store of the same kind.
    pub(crate) fresh: fn() -> Fixture,
    _dir: Option<tempfile::TempDir>,
}

/// An empty in-memory store.
pub(crate) fn memory() -> Fixture {
    Fixture { store: Arc::new(MemoryStorage::new()), fresh: memory, _dir: None }
}

/// Instantiates each test of `suite` once per store.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[test] fn $name() { crate::suite::$name(crate::memory()) })*
        }
    };
}

crate::suite::tests!(suite);
