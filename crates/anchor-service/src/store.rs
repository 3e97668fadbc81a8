//! Where requests and in-flight batches live: a small key-value [`Store`] with column families
//! and atomic multi-key writes, on RocksDB ([`RocksStore`]) or in memory ([`MemoryStore`]).
//!
//! Columns (keys are bytes; see `specs/anchor-service.md`):
//! - `requests`: commit CID bytes → [`crate::RequestRecord`] (dag-cbor);
//! - `pending`: created-at (8 bytes, big-endian) ‖ CID bytes → empty: PENDING requests, oldest
//!   first;
//! - `streams`: StreamID length (1 byte) ‖ StreamID bytes ‖ CID bytes → empty: a stream's
//!   PENDING requests;
//! - `batches`: batch id (8 bytes, big-endian) → a batch record (requests, root, tx hash);
//! - `meta`: `next_batch` → the next batch id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use rocksdb::{
    ColumnFamilyDescriptor, DB, Direction, IteratorMode, Options, WriteBatch, WriteOptions,
};

use crate::StoreError;

/// A column family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Column {
    /// Request records by commit CID.
    Requests,
    /// PENDING requests by creation time.
    Pending,
    /// PENDING requests by stream.
    Streams,
    /// In-flight batches by id.
    Batches,
    /// Counters.
    Meta,
}

impl Column {
    /// Every column.
    pub const ALL: [Column; 5] =
        [Column::Requests, Column::Pending, Column::Streams, Column::Batches, Column::Meta];

    /// The column family's name.
    pub fn name(self) -> &'static str {
        match self {
            Column::Requests => "requests",
            Column::Pending => "pending",
            Column::Streams => "streams",
            Column::Batches => "batches",
            Column::Meta => "meta",
        }
    }
}

/// One change of an atomic write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Set a key.
    Put(Column, Vec<u8>, Vec<u8>),
    /// Remove a key.
    Delete(Column, Vec<u8>),
}

/// Keys and values that came out of a scan.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// The service's storage: reads, prefix scans in key order, and atomic writes (all of a
/// write's ops or none survive a crash).
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The value under `key`.
    ///
    /// # Errors
    /// [`StoreError`] when storage fails.
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Applies every op, atomically and durably.
    ///
    /// # Errors
    /// [`StoreError`] when storage fails; then none of the ops is applied.
    fn write(&self, ops: Vec<Op>) -> Result<(), StoreError>;

    /// Up to `limit` entries whose key starts with `prefix`, in key order.
    ///
    /// # Errors
    /// [`StoreError`] when storage fails.
    fn scan(&self, column: Column, prefix: &[u8], limit: usize) -> Result<Entries, StoreError>;
}

/// Every column's entries, keyed by (column, key).
type Table = BTreeMap<(Column, Vec<u8>), Vec<u8>>;

/// A store in memory, for tests. Cloning it is not supported; share it behind an `Arc` to
/// "restart" a service over the same data.
#[derive(Debug, Default)]
pub struct MemoryStore {
    columns: RwLock<Table>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Store for MemoryStore {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let map = self.columns.read().unwrap_or_else(|e| e.into_inner());
        Ok(map.get(&(column, key.to_vec())).cloned())
    }

    fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        let mut map = self.columns.write().unwrap_or_else(|e| e.into_inner());
        for op in ops {
            match op {
                Op::Put(column, key, value) => map.insert((column, key), value),
                Op::Delete(column, key) => map.remove(&(column, key)),
            };
        }
        Ok(())
    }

    fn scan(&self, column: Column, prefix: &[u8], limit: usize) -> Result<Entries, StoreError> {
        let map = self.columns.read().unwrap_or_else(|e| e.into_inner());
        Ok(map
            .range((column, prefix.to_vec())..)
            .take_while(|((c, k), _)| *c == column && k.starts_with(prefix))
            .take(limit)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }
}

/// The store on RocksDB (the workspace's Debian-linked `rocksdb`; see `ceramic-storage`), one
/// column family per [`Column`]. Every write is one `WriteBatch` through the WAL, synced before
/// it returns, so an acknowledged request survives `kill -9` and power loss.
pub struct RocksStore {
    db: DB,
    path: PathBuf,
    write_options: WriteOptions,
}

impl std::fmt::Debug for RocksStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl RocksStore {
    /// Opens (or creates) the store in directory `path`. One process at a time.
    ///
    /// # Errors
    /// [`StoreError::Open`], e.g. when another process has it open.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.set_keep_log_file_num(4);
        options.set_paranoid_checks(true);
        let columns =
            Column::ALL.iter().map(|c| ColumnFamilyDescriptor::new(c.name(), Options::default()));
        let db = DB::open_cf_descriptors(&options, &path, columns)
            .map_err(|source| StoreError::Open { path: path.clone(), source })?;
        let mut write_options = WriteOptions::default();
        write_options.set_sync(true);
        Ok(RocksStore { db, path, write_options })
    }

    /// The database directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn cf(&self, column: Column) -> &rocksdb::ColumnFamily {
        self.db.cf_handle(column.name()).expect("every column family is created at open")
    }
}

impl Store for RocksStore {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.cf(column), key)?)
    }

    fn write(&self, ops: Vec<Op>) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        for op in ops {
            match op {
                Op::Put(column, key, value) => batch.put_cf(self.cf(column), key, value),
                Op::Delete(column, key) => batch.delete_cf(self.cf(column), key),
            }
        }
        Ok(self.db.write_opt(batch, &self.write_options)?)
    }

    fn scan(&self, column: Column, prefix: &[u8], limit: usize) -> Result<Entries, StoreError> {
        let mut out = Vec::new();
        let iter =
            self.db.iterator_cf(self.cf(column), IteratorMode::From(prefix, Direction::Forward));
        for item in iter {
            if out.len() >= limit {
                break;
            }
            let (key, value) = item?;
            if !key.starts_with(prefix) {
                break;
            }
            out.push((key.into_vec(), value.into_vec()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(store: &dyn Store) {
        store
            .write(vec![
                Op::Put(Column::Pending, b"a1".to_vec(), b"x".to_vec()),
                Op::Put(Column::Pending, b"a2".to_vec(), b"y".to_vec()),
                Op::Put(Column::Pending, b"b1".to_vec(), b"z".to_vec()),
                Op::Put(Column::Streams, b"a3".to_vec(), b"other column".to_vec()),
            ])
            .unwrap();
        assert_eq!(store.get(Column::Pending, b"a2").unwrap(), Some(b"y".to_vec()));
        assert_eq!(store.get(Column::Requests, b"a2").unwrap(), None);
        let keys = |prefix: &[u8], limit| -> Vec<Vec<u8>> {
            store.scan(Column::Pending, prefix, limit).unwrap().into_iter().map(|e| e.0).collect()
        };
        assert_eq!(keys(b"a", 10), [b"a1".to_vec(), b"a2".to_vec()]);
        assert_eq!(keys(b"", 2), [b"a1".to_vec(), b"a2".to_vec()]);
        assert_eq!(keys(b"", 10).len(), 3);
        store.write(vec![Op::Delete(Column::Pending, b"a1".to_vec())]).unwrap();
        assert_eq!(keys(b"a", 10), [b"a2".to_vec()]);
    }

    #[test]
    fn memory_and_rocks_behave_alike() {
        exercise(&MemoryStore::new());
        let dir = tempfile::tempdir().unwrap();
        exercise(&RocksStore::open(dir.path()).unwrap());
        let reopened = RocksStore::open(dir.path()).unwrap();
        assert_eq!(reopened.get(Column::Pending, b"b1").unwrap(), Some(b"z".to_vec()));
        assert!(RocksStore::open(dir.path()).is_err(), "a second open is refused by the lock");
    }
}
