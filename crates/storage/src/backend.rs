//! The key-value layer under [`crate::Storage`]: four ordered columns and atomic batches.
//!
//! Both stores run the same logic (`crate::core`) over this trait, so they behave the same by
//! construction; only the bytes' home differs.

use std::ops::ControlFlow;

/// The columns (RocksDB column families). See `specs/storage.md` for their keys and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    /// CID bytes → block bytes.
    Blocks,
    /// StreamID bytes → `0x01` + the state as js-ceramic JSON.
    States,
    /// StreamID bytes → empty.
    Pins,
    /// Forward entries `kind, len, term, StreamID` → empty; reverse records `0x00, StreamID` →
    /// the stream's current terms.
    Index,
}

impl Column {
    /// Every column, in a fixed order.
    pub(crate) const ALL: [Column; 4] =
        [Column::Blocks, Column::States, Column::Pins, Column::Index];

    /// The column family's name.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Column::Blocks => "blocks",
            Column::States => "states",
            Column::Pins => "pins",
            Column::Index => "index",
        }
    }

    /// The position in [`Column::ALL`].
    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// What [`Backend::scan`] calls with each key and value; it breaks to stop the scan.
pub(crate) type Visit<'a> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'a;

/// One change of a batch.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    Put(Column, Vec<u8>, Vec<u8>),
    Delete(Column, Vec<u8>),
}

/// Changes applied all together or not at all.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) ops: Vec<Op>,
}

impl Batch {
    pub(crate) fn put(&mut self, column: Column, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push(Op::Put(column, key, value));
    }

    pub(crate) fn delete(&mut self, column: Column, key: Vec<u8>) {
        self.ops.push(Op::Delete(column, key));
    }

    pub(crate) fn len(&self) -> usize {
        self.ops.len()
    }
}

/// An ordered key-value store with columns and atomic batches. Errors are RocksDB's: the
/// in-memory backend never fails.
pub(crate) trait Backend: Send + Sync {
    /// The value of `key`.
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, rocksdb::Error>;

    /// Applies every change of `batch` atomically (durably as configured).
    fn write(&self, batch: Batch) -> Result<(), rocksdb::Error>;

    /// Visits the entries whose key starts with `prefix` and is at or after `from`, in key
    /// order, until `visit` breaks. `visit` must not call back into the backend.
    fn scan(
        &self,
        column: Column,
        from: &[u8],
        prefix: &[u8],
        visit: &mut Visit<'_>,
    ) -> Result<(), rocksdb::Error>;
}
