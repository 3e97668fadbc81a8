//! Integration tests of `ceramic-storage` through its public API. The shared suite
//! (`suite.rs`) runs against both stores; `rocks.rs` holds what only RocksDB has (reopening,
//! files on disk).

mod fixtures;
mod rocks;
mod suite;

use std::sync::Arc;

use ceramic_storage::{Config, MemoryStorage, RocksStorage, Storage};

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

/// An empty RocksDB store in a temporary directory, with the default config (sync on).
pub(crate) fn rocks() -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = RocksStorage::open(dir.path(), Config::default()).expect("opens");
    Fixture { store: Arc::new(store), fresh: rocks, _dir: Some(dir) }
}

/// Instantiates each test of `suite` once per store.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[test] fn $name() { crate::suite::$name(crate::memory()) })*
        }
        mod rocksdb {
            $(#[test] fn $name() { crate::suite::$name(crate::rocks()) })*
        }
    };
}

suite!(
    stores_and_loads_a_log_written_through_the_engine,
    reports_its_errors_to_the_engine_as_storage_errors,
    refuses_a_new_stream_whose_log_is_not_all_there,
    stores_only_hash_checked_blocks,
    pins_unpins_and_lists_pins_in_pages,
    refuses_to_pin_an_unknown_stream,
    gc_removes_unpinned_streams_and_keeps_pinned_logs,
    gc_never_removes_a_block_reachable_from_a_pinned_stream,
    gc_is_safe_against_concurrent_writes,
    lists_streams_by_controller_family_and_tag_in_pages,
    keeps_the_index_on_the_current_metadata,
    lists_all_streams_in_pages,
    backs_up_and_restores_streams_with_anchors,
    backs_up_1000_streams_and_restores_them_into_an_empty_store,
    refuses_a_tampered_backup_and_stores_nothing,
    restore_keeps_a_newer_local_state,
);
