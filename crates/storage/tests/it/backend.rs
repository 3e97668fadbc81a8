//! The store over backends that fail: typed errors reach the store's callers and the engine,
//! with the backend's kind (a full disk is told apart), and nothing half-written is seen.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ceramic_engine::ApplyError;
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_storage::kv::{Backend, Batch, Column, Core, MemoryBackend, Visit};
use ceramic_storage::{BackendError, BackendErrorKind, BlockSource, Error, Key, Storage};

use crate::fixtures::{ADDER, add, engine, genesis, signer};

/// A memory backend whose writes fail with `kind` while `failing` is set, and whose reads of
/// `blocks` report corruption while `corrupt` is set.
#[derive(Debug, Default)]
struct Flaky {
    inner: MemoryBackend,
    failing: AtomicBool,
    corrupt: AtomicBool,
}

impl Backend for Flaky {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        if column == Column::Blocks && self.corrupt.load(Ordering::SeqCst) {
            return Err(BackendError::new(
                BackendErrorKind::Corruption,
                std::io::Error::other("checksum mismatch"),
            ));
        }
        self.inner.get(column, key)
    }

    fn write(&self, batch: Batch) -> Result<(), BackendError> {
        if self.failing.load(Ordering::SeqCst) {
            let full = std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full");
            return Err(BackendError::new(BackendErrorKind::NoSpace, full));
        }
        self.inner.write(batch)
    }

    fn scan(
        &self,
        column: Column,
        from: &[u8],
        prefix: &[u8],
        visit: &mut Visit<'_>,
    ) -> Result<(), BackendError> {
        self.inner.scan(column, from, prefix, visit)
    }
}

#[test]
fn a_full_disk_reaches_the_engine_as_a_typed_storage_error_and_writes_nothing() {
    let store = Arc::new(Core::with_backend(Flaky::default()));
    let chain = Arc::new(FakeAnchorVerifier::default());
    let engine = engine(store.clone(), chain);
    let author = signer(1);
    let (stream, g) = genesis(&author, "a", None, &[]);
    engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let c1 = add(&author, &stream, g.cid, 1);
    store.backend().failing.store(true, Ordering::SeqCst);
    match engine.apply_commit(ADDER, c1.cid, &c1.blocks).unwrap_err() {
        ApplyError::Store(e) => match *e {
            Error::Write { key: Key::State(s), source } => {
                assert_eq!(s, stream);
                assert_eq!(source.kind(), BackendErrorKind::NoSpace);
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert_eq!(store.state(&stream).unwrap().map(|s| s.tip()), Some(g.cid));
    assert_eq!(store.block(&c1.cid).unwrap(), None);
    // Once the disk has room again the same commit applies.
    store.backend().failing.store(false, Ordering::SeqCst);
    assert_eq!(engine.apply_commit(ADDER, c1.cid, &c1.blocks).unwrap().tip(), c1.cid);
}

#[test]
fn a_corrupt_read_is_a_corrupt_file_error_naming_the_block() {
    let store = Core::with_backend(Flaky::default());
    let (_, g) = genesis(&signer(1), "a", None, &[]);
    store.backend().corrupt.store(true, Ordering::SeqCst);
    match store.get_block(&g.cid).unwrap_err() {
        Error::CorruptFile { key: Key::Block(cid), source } => {
            assert_eq!(cid, g.cid);
            assert_eq!(source.kind(), BackendErrorKind::Corruption);
        }
        other => panic!("{other:?}"),
    }
    store.backend().corrupt.store(false, Ordering::SeqCst);
    assert_eq!(store.get_block(&g.cid).unwrap(), None);
}
