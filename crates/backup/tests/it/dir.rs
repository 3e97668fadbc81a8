//! The directory target: a full backup and restore, incremental runs, selections, and a run
//! interrupted at each write.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ceramic_backup::{
    DirTarget, Filter, MANIFEST, Manifest, Selection, Target, TargetError, run_once, segment_name,
};
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_storage::Storage;
use proptest::prelude::*;

use crate::fixtures::{Node, assert_exactly_once, assert_same_streams};

#[test]
fn pinned_streams_are_backed_up_and_restored_into_a_fresh_node() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let node = Node::new(chain.clone());
    let a = node.stream("a", None, 3);
    node.anchor(&a, 1_700_000_000);
    let b = node.stream("b", None, 0);
    let unpinned = node.stream("c", None, 1);
    node.store.unpin(&unpinned).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = DirTarget::new(dir.path()).with_sync(false);

    let report = run_once(node.store.as_ref(), &target, &Selection::Pinned).unwrap();
    assert_eq!((report.selected, report.streams, report.commits), (2, 2, 5 + 1));
    assert_exactly_once(&node, &target, &[a, b]);
    let manifest = Manifest::load(&target).unwrap();
    assert_eq!(manifest.streams.len(), 2);
    assert_eq!(manifest.streams[&a.to_string()].tip, node.tip(&a).to_string());
    assert_eq!(manifest.streams[&a.to_string()].commits, 5);

    let restored = Node::new(chain);
    let done = ceramic_backup::restore(&restored.engine, restored.store.as_ref(), &target).unwrap();
    assert_eq!((done.streams, done.commits), (2, 6));
    assert_same_streams(&node, &restored, &[a, b]);
    assert_eq!(restored.store.state(&unpinned).unwrap(), None);
}

#[test]
fn a_second_run_sends_only_the_new_commits() {
    let node = Node::fresh();
    let a = node.stream("a", None, 2);
    let b = node.stream("b", None, 1);
    let dir = tempfile::tempdir().unwrap();
    let target = DirTarget::new(dir.path()).with_sync(false);
    let first = run_once(node.store.as_ref(), &target, &Selection::Pinned).unwrap();
    assert_eq!(first.commits, 3 + 2);

    let nothing = run_once(node.store.as_ref(), &target, &Selection::Pinned).unwrap();
    assert_eq!((nothing.streams, nothing.commits, nothing.bytes), (0, 0, 0));

    let before = node.log(&a);
    node.add(&a, 4);
    node.anchor(&a, 1_700_000_100);
    let second = run_once(node.store.as_ref(), &target, &Selection::Pinned).unwrap();
    assert_eq!((second.streams, second.commits), (1, 5));
    // The new segment is named after the first new commit and holds no older commit.
    let first_new = node.log(&a)[before.len()];
    let name = segment_name(&a, &first_new);
    let car = ceramic_codecs::read_car(&target.get(&name).unwrap().unwrap()).unwrap();
    assert_eq!(car.roots, [node.tip(&a)]);
    assert!(car.blocks.iter().all(|blk| !before.contains(blk.cid())));
    assert_eq!(Manifest::load(&target).unwrap().streams[&a.to_string()].objects.len(), 2);
    assert_exactly_once(&node, &target, &[a, b]);

    let restored = Node::new(node.chain.clone());
    ceramic_backup::restore(&restored.engine, restored.store.as_ref(), &target).unwrap();
    assert_same_streams(&node, &restored, &[a, b]);
}

#[test]
fn a_filter_selects_streams_by_family_and_controller() {
    let node = Node::fresh();
    let notes = node.stream("n", Some("notes"), 1);
    let _other = node.stream("o", Some("other"), 1);
    let dir = tempfile::tempdir().unwrap();
    let target = DirTarget::new(dir.path()).with_sync(false);
    let filter = Filter { family: Some("notes".into()), ..Filter::default() };
    let report = run_once(node.store.as_ref(), &target, &Selection::Filter(filter)).unwrap();
    assert_eq!(report.selected, 1);
    let manifest = Manifest::load(&target).unwrap();
    assert_eq!(manifest.streams.keys().collect::<Vec<_>>(), [&notes.to_string()]);

    let nobody = Filter { controller: Some("did:key:nobody".into()), ..Filter::default() };
    let none = run_once(node.store.as_ref(), &target, &Selection::Filter(nobody)).unwrap();
    assert_eq!(none.selected, 0);
    let me =
        Filter { controller: Some(node.author.did_key().did().to_owned()), ..Filter::default() };
    assert_eq!(run_once(node.store.as_ref(), &target, &Selection::Filter(me)).unwrap().selected, 2);
}

/// A directory that fails its `n`-th write (counting from 0) once, as a full disk would.
#[derive(Debug)]
struct FailingOnce {
    inner: DirTarget,
    writes: AtomicUsize,
    fail_at: usize,
}

impl Target for FailingOnce {
    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), TargetError> {
        if self.writes.fetch_add(1, Ordering::SeqCst) == self.fail_at {
            let source = std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full");
            return Err(TargetError::Io { path: name.into(), source });
        }
        self.inner.put(name, bytes)
    }
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>, TargetError> {
        self.inner.get(name)
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, TargetError> {
        self.inner.list(prefix)
    }
    fn delete(&self, name: &str) -> Result<(), TargetError> {
        self.inner.delete(name)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Runs interleaved with new commits, one write failing somewhere: after a final clean run
    /// the target holds every commit exactly once and restores to the same states.
    #[test]
    fn interrupted_runs_neither_lose_nor_duplicate(
        rounds in proptest::collection::vec((0usize..3, 0usize..3), 1..4),
        fail_at in 0usize..8,
    ) {
        let node = Node::fresh();
        let a = node.stream("a", None, 0);
        let b = node.stream("b", None, 0);
        let dir = tempfile::tempdir().unwrap();
        let target = FailingOnce {
            inner: DirTarget::new(dir.path()).with_sync(false),
            writes: AtomicUsize::new(0),
            fail_at,
        };
        for (x, y) in rounds {
            node.add(&a, x);
            node.add(&b, y);
            let _ = run_once(node.store.as_ref(), &target, &Selection::Pinned);
        }
        run_once(node.store.as_ref(), &target, &Selection::Pinned).unwrap();
        assert_exactly_once(&node, &target, &[a, b]);
        prop_assert!(target.inner.get(MANIFEST).unwrap().is_some());
        let restored = Node::new(node.chain.clone());
        ceramic_backup::restore(&restored.engine, restored.store.as_ref(), &target).unwrap();
        assert_same_streams(&node, &restored, &[a, b]);
    }
}
