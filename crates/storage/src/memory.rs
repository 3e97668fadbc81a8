//! [`MemoryStorage`]: the store in ordered maps, for tests, examples and caches.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{PoisonError, RwLock};

use crate::kv::{Backend, BackendError, Batch, Column, Core, Op, Visit};

type Columns = [BTreeMap<Vec<u8>, Vec<u8>>; 4];

/// Four ordered maps behind one lock: a batch is applied under the write lock, so it is atomic
/// to readers. A lock poisoned by a panicking thread is recovered: batches are applied only
/// after they are complete, by code that does not panic.
#[derive(Debug, Default)]
pub struct MemoryBackend {
    columns: RwLock<Columns>,
}

impl Backend for MemoryBackend {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        let columns = self.columns.read().unwrap_or_else(PoisonError::into_inner);
        Ok(columns[column.index()].get(key).cloned())
    }

    fn write(&self, batch: Batch) -> Result<(), BackendError> {
        let mut columns = self.columns.write().unwrap_or_else(PoisonError::into_inner);
        for op in batch.into_ops() {
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
    ) -> Result<(), BackendError> {
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

/// The store in memory: the same code ([`Core`]) as the RocksDB store of
/// `ceramic-storage-rocks`, over ordered maps instead of column families; nothing survives the
/// process. It never fails on its own (its backend has no I/O).
///
/// ```
/// use ceramic_storage::{MemoryStorage, Storage};
///
/// let store = MemoryStorage::new();
/// assert_eq!(store.stats()?.blocks, 0);
/// # Ok::<(), ceramic_storage::Error>(())
/// ```
pub type MemoryStorage = Core<MemoryBackend>;

impl Core<MemoryBackend> {
    /// An empty store in memory.
    pub fn new() -> Self {
        Core::with_backend(MemoryBackend::default())
    }
}

impl Default for Core<MemoryBackend> {
    fn default() -> Self {
        Self::new()
    }
}
