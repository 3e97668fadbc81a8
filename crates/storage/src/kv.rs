//! The key-value layer under [`Storage`](crate::Storage): four ordered columns, atomic batches,
//! and [`Core`], which implements [`Storage`](crate::Storage) once over any [`Backend`].
//!
//! A backend only stores bytes: [`MemoryBackend`] here (ordered maps), the RocksDB one in
//! `ceramic-storage-rocks`. Every store runs the same logic ([`Core`]), so they behave the same
//! by construction; only the bytes' home differs. Backends report failures as a
//! [`BackendError`] of a [`BackendErrorKind`], never with their own library's types.

use std::error::Error as StdError;
use std::fmt;
use std::ops::ControlFlow;

pub use crate::core::Core;
pub use crate::memory::MemoryBackend;

/// The columns (RocksDB column families). See `specs/storage.md` for their keys and values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    /// CID bytes → block bytes.
    Blocks,
    /// StreamID bytes → the state: `0x03` + its head (its log entries are in [`Column::Index`]),
    /// or as earlier versions wrote it (see `specs/storage.md`).
    States,
    /// StreamID bytes → empty.
    Pins,
    /// Forward entries `kind, len, term, StreamID` → empty; reverse records `0x00, StreamID` →
    /// the stream's current terms; log entries `0xE0, StreamID, position` → the entry; the
    /// feed (`0xF0`, `0xF1`).
    Index,
}

impl Column {
    /// Every column, in a fixed order.
    pub const ALL: [Column; 4] = [Column::Blocks, Column::States, Column::Pins, Column::Index];

    /// The column's name (the RocksDB column family's).
    pub const fn name(self) -> &'static str {
        match self {
            Column::Blocks => "blocks",
            Column::States => "states",
            Column::Pins => "pins",
            Column::Index => "index",
        }
    }

    /// The position in [`Column::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }
}

/// What [`Backend::scan`] calls with each key and value; it breaks to stop the scan.
pub type Visit<'a> = dyn FnMut(&[u8], &[u8]) -> ControlFlow<()> + 'a;

/// One change of a [`Batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Sets `key` of the column to the value.
    Put(Column, Vec<u8>, Vec<u8>),
    /// Removes `key` of the column (nothing if it is absent).
    Delete(Column, Vec<u8>),
}

/// Changes applied all together or not at all ([`Backend::write`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a put.
    pub fn put(&mut self, column: Column, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push(Op::Put(column, key, value));
    }

    /// Adds a deletion.
    pub fn delete(&mut self, column: Column, key: Vec<u8>) {
        self.ops.push(Op::Delete(column, key));
    }

    /// How many changes it holds.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether it holds no change.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Its changes, in the order they were added.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Its changes, in the order they were added (a backend applies them in this order: a
    /// later change of a key wins).
    pub fn into_ops(self) -> Vec<Op> {
        self.ops
    }
}

/// What kind of failure a [`BackendError`] is, for callers that react differently (e.g. stop
/// accepting writes when the disk is full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendErrorKind {
    /// An I/O error (the device, the file system, a lock held by another process).
    Io,
    /// Stored data is corrupted (e.g. a checksum failed).
    Corruption,
    /// The disk (or a quota) is full.
    NoSpace,
    /// Anything else the backend reports.
    Other,
}

impl fmt::Display for BackendErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BackendErrorKind::Io => "I/O error",
            BackendErrorKind::Corruption => "corruption",
            BackendErrorKind::NoSpace => "no space left",
            BackendErrorKind::Other => "backend error",
        })
    }
}

/// A [`Backend`] failed: its kind, and the backend's own error as the source.
#[derive(Debug, thiserror::Error)]
#[error("{kind}: {source}")]
pub struct BackendError {
    kind: BackendErrorKind,
    #[source]
    source: Box<dyn StdError + Send + Sync>,
}

impl BackendError {
    /// A failure of `kind`, reported by the backend as `source`.
    pub fn new(kind: BackendErrorKind, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        BackendError { kind, source: source.into() }
    }

    /// What kind of failure it is.
    pub fn kind(&self) -> BackendErrorKind {
        self.kind
    }

    /// The backend's own error.
    pub fn into_source(self) -> Box<dyn StdError + Send + Sync> {
        self.source
    }
}

/// An ordered key-value store with columns and atomic batches.
pub trait Backend: Send + Sync {
    /// The value of `key`.
    ///
    /// # Errors
    /// [`BackendError`] when the read fails.
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError>;

    /// Applies every change of `batch` atomically (durably as configured), in order.
    ///
    /// # Errors
    /// [`BackendError`] when the write fails; nothing of the batch is applied then.
    fn write(&self, batch: Batch) -> Result<(), BackendError>;

    /// Visits the entries whose key starts with `prefix` and is at or after `from`, in key
    /// order, until `visit` breaks. `visit` must not call back into the backend.
    ///
    /// # Errors
    /// [`BackendError`] when a read fails.
    fn scan(
        &self,
        column: Column,
        from: &[u8],
        prefix: &[u8],
        visit: &mut Visit<'_>,
    ) -> Result<(), BackendError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_listed_in_index_order_with_distinct_names() {
        for (i, column) in Column::ALL.iter().enumerate() {
            assert_eq!(column.index(), i);
        }
        let names: std::collections::HashSet<_> = Column::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), 4);
    }

    #[test]
    fn a_backend_error_keeps_its_kind_and_source() {
        let io = std::io::Error::other("disk on fire");
        let err = BackendError::new(BackendErrorKind::NoSpace, io);
        assert_eq!(err.kind(), BackendErrorKind::NoSpace);
        assert_eq!(err.to_string(), "no space left: disk on fire");
        assert_eq!(
            StdError::source(&err).map(ToString::to_string).as_deref(),
            Some("disk on fire")
        );
        assert_eq!(err.into_source().to_string(), "disk on fire");
    }

    #[test]
    fn a_batch_keeps_its_changes_in_order() {
        let mut batch = Batch::new();
        assert!(batch.is_empty());
        batch.put(Column::Pins, b"a".to_vec(), vec![]);
        batch.delete(Column::Pins, b"a".to_vec());
        assert_eq!(batch.len(), 2);
        assert_eq!(batch.ops()[1], Op::Delete(Column::Pins, b"a".to_vec()));
        assert_eq!(batch.into_ops()[0], Op::Put(Column::Pins, b"a".to_vec(), vec![]));
    }
}
