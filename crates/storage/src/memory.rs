//! [`MemoryStorage`]: the same store in ordered maps, for tests and examples.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{PoisonError, RwLock};

use crate::backend::{Backend, Batch, Column, Op, Visit};
use crate::core::Core;

type Columns = [BTreeMap<Vec<u8>, Vec<u8>>; 4];

/// Four ordered maps behind one lock: a batch is applied under the write lock, so it is atomic
/// to readers. A lock poisoned by a panicking thread is recovered: batches are applied only
/// after they are complete, by code that does not panic.
#[derive(Debug, Default)]
pub(crate) struct MemoryBackend {
    columns: RwLock<Columns>,
}

impl Backend for MemoryBackend {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, rocksdb::Error> {
        let columns = self.columns.read().unwrap_or_else(PoisonError::into_inner);
        Ok(columns[column.index()].get(key).cloned())
    }

    fn write(&self, batch: Batch) -> Result<(), rocksdb::Error> {
        let mut columns = self.columns.write().unwrap_or_else(PoisonError::into_inner);
        for op in batch.ops {
            match op {
                Op::Put(column, key, value) => {
                    columns[column.index()].insert(key, value);
                }
                Op::Delete(column, key) => {
                    columns[column.index()].remove(&key);
                }
            }
        }
        Ok(())
    }

    fn scan(
        &self,
        column: Column,
        from: &[u8],
        prefix: &[u8],
        visit: &mut Visit<'_>,
    ) -> Result<(), rocksdb::Error> {
        let columns = self.columns.read().unwrap_or_else(PoisonError::into_inner);
        let range = columns[column.index()]
            .range::<[u8], _>((Bound::Included(from), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix));
        for (key, value) in range {
            if visit(key, value).is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// The store in memory: same behaviour as [`crate::RocksStorage`] (the same code runs over
/// ordered maps instead of column families), nothing survives the process.
///
/// ```
/// use ceramic_storage::{MemoryStorage, Storage};
///
/// let store = MemoryStorage::new();
/// assert_eq!(store.stats()?.blocks, 0);
/// # Ok::<(), ceramic_storage::Error>(())
/// ```
#[derive(Debug)]
pub struct MemoryStorage {
    pub(crate) core: Core<MemoryBackend>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStorage { core: Core::new(MemoryBackend::default()) }
    }
}

impl Default for MemoryStorage {
    fn default() -> Self {
        Self::new()
    }
}

crate::storage::impl_storage!(MemoryStorage);
