//! [`RocksStorage`]: the store on RocksDB, one column family per [`Column`].

use std::path::{Path, PathBuf};

use rocksdb::{
    BlockBasedOptions, ColumnFamily, ColumnFamilyDescriptor, DB, DBCompressionType, Direction,
    IteratorMode, Options, WriteBatch, WriteOptions,
};

use crate::backend::{Backend, Batch, Column, Op, Visit};
use crate::core::Core;
use crate::error::{Error, Result};

/// The key of the format marker in the default column family.
const FORMAT_KEY: &[u8] = b"ceramic-storage/format";
/// The on-disk format this build reads and writes.
const FORMAT: &[u8] = b"1";

/// How a [`RocksStorage`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Whether each write waits for the WAL to reach the disk (`fsync`) before it is
    /// acknowledged. The WAL is always on.
    ///
    /// - `true` (the default): an acknowledged write survives `kill -9` and power loss. Costs an
    ///   fsync per write (about 0.6 ms on this project's test machine; concurrent writers share
    ///   one).
    /// - `false`: an acknowledged write survives `kill -9` (the WAL is in the OS page cache),
    ///   but a power loss or kernel crash may lose the last writes (never part of a batch, and
    ///   never an earlier write while keeping a later one).
    pub sync: bool,
    /// Background flush and compaction threads.
    pub background_jobs: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config { sync: true, background_jobs: 2 }
    }
}

impl Config {
    /// Sets [`Config::sync`].
    pub fn with_sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// Sets [`Config::background_jobs`].
    pub fn with_background_jobs(mut self, jobs: i32) -> Self {
        self.background_jobs = jobs.max(1);
        self
    }
}

/// Options of a column family: LZ4 for fresh data, ZSTD for the bottommost level (most of the
/// data, rarely rewritten); Bloom filters where lookups are by exact key.
fn column_options(column: Column) -> Options {
    let mut options = Options::default();
    options.set_compression_type(DBCompressionType::Lz4);
    options.set_bottommost_compression_type(DBCompressionType::Zstd);
    let mut table = BlockBasedOptions::default();
    if matches!(column, Column::Blocks | Column::States | Column::Pins) {
        table.set_bloom_filter(10.0, false);
    }
    options.set_block_based_table_factory(&table);
    options
}

pub(crate) struct RocksBackend {
    db: DB,
    write_options: WriteOptions,
}

impl std::fmt::Debug for RocksBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksBackend").field("path", &self.db.path()).finish_non_exhaustive()
    }
}

impl RocksBackend {
    fn cf(&self, column: Column) -> &ColumnFamily {
        self.db.cf_handle(column.name()).expect("every column family is created at open")
    }
}

impl Backend for RocksBackend {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, rocksdb::Error> {
        self.db.get_cf(self.cf(column), key)
    }

    fn write(&self, batch: Batch) -> Result<(), rocksdb::Error> {
        let mut rocks = WriteBatch::default();
        for op in batch.ops {
            match op {
                Op::Put(column, key, value) => rocks.put_cf(self.cf(column), key, value),
                Op::Delete(column, key) => rocks.delete_cf(self.cf(column), key),
            }
        }
        self.db.write_opt(rocks, &self.write_options)
    }

    fn scan(
        &self,
        column: Column,
        from: &[u8],
        prefix: &[u8],
        visit: &mut Visit<'_>,
    ) -> Result<(), rocksdb::Error> {
        let iter =
            self.db.iterator_cf(self.cf(column), IteratorMode::From(from, Direction::Forward));
        for item in iter {
            let (key, value) = item?;
            if !key.starts_with(prefix) || visit(&key, &value).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// The store on RocksDB. Every [`Store::commit`](ceramic_engine::Store::commit) is one
/// `WriteBatch` (blocks, state, index entries) through the WAL, synced as [`Config::sync`]
/// says. One process opens a directory at a time (RocksDB's `LOCK` file).
///
/// ```
/// use ceramic_storage::{Config, RocksStorage, Storage};
///
/// let dir = tempfile::tempdir()?;
/// let store = RocksStorage::open(dir.path(), Config::default().with_sync(false))?;
/// assert_eq!(store.stats()?.streams, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RocksStorage {
    pub(crate) core: Core<RocksBackend>,
    path: PathBuf,
    config: Config,
}

impl RocksStorage {
    /// Opens (or creates) the store in directory `path`, replaying the WAL after a crash.
    ///
    /// # Errors
    /// [`Error::Open`] (e.g. the directory is locked by another process, or is not a store);
    /// [`Error::Format`] for a store written by an incompatible version.
    pub fn open(path: impl AsRef<Path>, config: Config) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.set_max_background_jobs(config.background_jobs.max(1));
        options.set_keep_log_file_num(4);
        options.set_paranoid_checks(true);
        let columns =
            Column::ALL.iter().map(|c| ColumnFamilyDescriptor::new(c.name(), column_options(*c)));
        let db = DB::open_cf_descriptors(&options, &path, columns)
            .map_err(|source| Error::Open { path: path.clone(), source })?;
        let mut write_options = WriteOptions::default();
        write_options.set_sync(config.sync);
        write_options.disable_wal(false);
        match db.get(FORMAT_KEY).map_err(|source| Error::Open { path: path.clone(), source })? {
            Some(found) if found != FORMAT => return Err(Error::Format { path, found }),
            Some(_) => {}
            None => db
                .put_opt(FORMAT_KEY, FORMAT, &write_options)
                .map_err(|source| Error::Open { path: path.clone(), source })?,
        }
        let core = Core::new(RocksBackend { db, write_options });
        Ok(RocksStorage { core, path, config })
    }

    /// The database directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Flushes every column family's memtable to SST files (writes are already durable through
    /// the WAL; this shortens the next open's WAL replay).
    ///
    /// # Errors
    /// [`Error::Write`] naming the column.
    pub fn flush(&self) -> Result<()> {
        let db = &self.core.backend().db;
        for column in Column::ALL {
            db.flush_cf(self.core.backend().cf(column)).map_err(|source| Error::Write {
                key: crate::Key::Column(column.name()),
                source,
            })?;
        }
        Ok(())
    }
}

crate::storage::impl_storage!(RocksStorage);
