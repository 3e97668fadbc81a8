//! What only the RocksDB store has: reopening, locking, and bytes on disk that go bad.

use std::sync::Arc;

use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_storage::{Error, Key, Storage};
use ceramic_storage_rocks::{Config, RocksStorage};

use crate::fixtures::{engine, grow, signer};

fn open(dir: &std::path::Path) -> RocksStorage {
    ceramic_storage_rocks::open(dir, Config::default().with_sync(false)).unwrap()
}

#[test]
fn reopens_with_everything_written() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Arc::new(FakeAnchorVerifier::default());
    let (id, state) = {
        let store = Arc::new(open(dir.path()));
        let engine = engine(store.clone(), chain.clone());
        let (id, state) = grow(&engine, &chain, &signer(1), "a", 5, 2);
        store.pin(&id).unwrap();
        (id, state)
    };
    let store = open(dir.path());
    assert_eq!(store.state(&id).unwrap(), Some(state.clone()));
    assert!(store.is_pinned(&id).unwrap());
    assert_eq!(store.list_by_tag("tag", None, 10).unwrap().streams, [id]);
    store.log_blocks(&state).unwrap();
    assert_eq!(store.backend().path(), dir.path());
    assert!(!store.backend().config().sync);
}

#[test]
fn reopens_with_the_feed_and_continues_it_without_a_hole() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Arc::new(FakeAnchorVerifier::default());
    let before = {
        let store = Arc::new(open(dir.path()));
        let engine = engine(store.clone(), chain.clone());
        grow(&engine, &chain, &signer(1), "a", 5, 2);
        crate::suite::whole_feed(&*store, 0, 4)
    };
    assert_eq!(before.len(), 6);
    let store = Arc::new(open(dir.path()));
    assert_eq!(store.feed_head().unwrap(), 6);
    assert_eq!(crate::suite::whole_feed(&*store, 0, 100), before);
    // New writes after the restart continue the positions; a token saved before resumes.
    let engine = engine(store.clone(), chain.clone());
    grow(&engine, &chain, &signer(1), "b", 1, 0);
    let rest = crate::suite::whole_feed(&*store, 6, 100);
    let positions: Vec<u64> = rest.iter().map(|e| e.position).collect();
    assert_eq!(positions, [7, 8]);
}

#[test]
fn refuses_a_directory_another_store_has_open() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path());
    let second = ceramic_storage_rocks::open(dir.path(), Config::default());
    assert!(matches!(second, Err(Error::Open { path, .. }) if path == dir.path()));
}

/// The column families, as `specs/storage.md` names them.
const COLUMNS: [&str; 4] = ["blocks", "states", "pins", "index"];

fn raw(dir: &std::path::Path) -> rocksdb::DB {
    rocksdb::DB::open_cf(&rocksdb::Options::default(), dir, COLUMNS).unwrap()
}

#[test]
fn refuses_a_store_of_another_format() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    raw(dir.path()).put(b"ceramic-storage/format", b"2").unwrap();
    let err = ceramic_storage_rocks::open(dir.path(), Config::default()).unwrap_err();
    assert!(matches!(err, Error::Format { ref found, .. } if found == b"2"), "{err}");
}

#[test]
fn reads_corrupted_values_as_typed_errors_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Arc::new(FakeAnchorVerifier::default());
    let (id, state) = {
        let store = Arc::new(open(dir.path()));
        let (id, state) =
            grow(&engine(store.clone(), chain.clone()), &chain, &signer(1), "a", 1, 0);
        store.pin(&id).unwrap();
        (id, state)
    };
    let tip = state.tip();
    for (column, key, value) in [
        ("states", id.to_bytes(), b"\x01{\"type\": 77, \"log\": [".to_vec()),
        ("blocks", tip.to_bytes(), b"not the block".to_vec()),
        ("pins", b"not a stream id".to_vec(), vec![]),
    ] {
        let db = raw(dir.path());
        db.put_cf(db.cf_handle(column).unwrap(), key, value).unwrap();
    }
    let store = open(dir.path());
    match store.state(&id) {
        Err(Error::CorruptState { stream, .. }) => assert_eq!(stream, id),
        other => panic!("{other:?}"),
    }
    match store.block(&tip) {
        Err(Error::CorruptBlock { cid, .. }) => assert_eq!(cid, tip),
        other => panic!("{other:?}"),
    }
    match store.pins(None, 10) {
        Err(Error::CorruptEntry { key: Key::Raw { column: "pins", bytes }, .. }) => {
            assert_eq!(bytes, b"not a stream id");
        }
        other => panic!("{other:?}"),
    }
    // GC refuses to run on what it cannot read, and removes nothing.
    let before = store.stats().unwrap();
    assert!(store.gc().is_err());
    assert_eq!(store.stats().unwrap(), before);
    let message = store.state(&id).unwrap_err().to_string();
    assert!(message.contains(&id.to_string()), "{message}");
}

#[test]
fn reads_a_corrupted_file_as_a_typed_error_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Arc::new(FakeAnchorVerifier::default());
    let (id, state) = {
        let store = Arc::new(open(dir.path()));
        let (id, state) =
            grow(&engine(store.clone(), chain.clone()), &chain, &signer(1), "a", 3, 0);
        ceramic_storage_rocks::flush(&store).unwrap();
        (id, state)
    };
    // Flip bytes early in every table file: inside its first data block.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sst") {
            let mut bytes = std::fs::read(&path).unwrap();
            for b in &mut bytes[8..16] {
                *b ^= 0xff;
            }
            std::fs::write(&path, bytes).unwrap();
        }
    }
    let store = open(dir.path());
    match store.state(&id) {
        Err(Error::CorruptFile { key: Key::State(s), .. }) => assert_eq!(s, id),
        other => panic!("{other:?}"),
    }
    match store.block(&state.tip()) {
        Err(Error::CorruptFile { key: Key::Block(cid), .. }) => assert_eq!(cid, state.tip()),
        other => panic!("{other:?}"),
    }
}
