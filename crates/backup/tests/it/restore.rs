//! Verified restore: altered or invalid backups are refused and nothing is stored.

use ceramic_backup::{DirTarget, Error, MANIFEST, Manifest, Selection, Target, run_once};
use ceramic_codecs::write_car;
use ceramic_engine::ApplyError;
use ceramic_engine::test_utils::{add, signer};
use ceramic_storage::Storage;
use ceramic_streamid::StreamId;

use crate::fixtures::Node;

/// A node with two backed-up streams (the second with 3 commits) in a directory.
fn backed_up() -> (Node, tempfile::TempDir, DirTarget, StreamId, StreamId) {
    let node = Node::fresh();
    let a = node.stream("a", None, 2);
    let b = node.stream("b", None, 2);
    let dir = tempfile::tempdir().unwrap();
    let target = DirTarget::new(dir.path()).with_sync(false);
    run_once(node.store.as_ref(), &target, &Selection::Pinned).unwrap();
    (node, dir, target, a, b)
}

fn assert_nothing_stored(node: &Node, streams: &[StreamId]) {
    for id in streams {
        assert_eq!(node.store.state(id).unwrap(), None, "{id}");
    }
}

#[test]
fn a_tampered_car_is_refused_and_nothing_is_stored() {
    let (node, _dir, target, a, b) = backed_up();
    let manifest = Manifest::load(&target).unwrap();
    let name = &manifest.streams[&b.to_string()].objects[0];
    let mut car = target.get(name).unwrap().unwrap();
    let last = car.len() - 1;
    car[last] ^= 0x01;
    target.put(name, &car).unwrap();

    let restored = Node::new(node.chain.clone());
    let err =
        ceramic_backup::restore(&restored.engine, restored.store.as_ref(), &target).unwrap_err();
    assert!(matches!(err, Error::Tampered { name: ref n, .. } if n == name), "{err}");
    assert_nothing_stored(&restored, &[a, b]);
}

#[test]
fn a_validly_hashed_but_invalid_commit_is_refused_by_the_engine() {
    let (node, _dir, target, a, b) = backed_up();
    // A data commit on b's tip signed by someone who is not its controller: every block hashes
    // to its CID, but the doctype refuses it.
    let intruder = add(&signer(9), &b, node.tip(&b), 100);
    let name = format!("streams/{b}/{}.car", intruder.cid);
    target.put(&name, &write_car(&[intruder.cid], &intruder.blocks).unwrap()).unwrap();
    let mut manifest = Manifest::load(&target).unwrap();
    let entry = manifest.streams.get_mut(&b.to_string()).unwrap();
    entry.tip = intruder.cid.to_string();
    entry.commits += 1;
    entry.objects.push(name);
    manifest.store(&target).unwrap();

    let restored = Node::new(node.chain.clone());
    let err =
        ceramic_backup::restore(&restored.engine, restored.store.as_ref(), &target).unwrap_err();
    let Error::Invalid { stream, ref source, .. } = err else { panic!("{err}") };
    assert_eq!(stream, b);
    assert!(matches!(**source, ApplyError::Rejected { .. }), "{source:?}");
    assert_nothing_stored(&restored, &[a, b]);
}

#[test]
fn a_manifest_that_disagrees_with_its_objects_is_refused() {
    let (node, _dir, target, a, b) = backed_up();
    let mut manifest = Manifest::load(&target).unwrap();
    manifest.streams.get_mut(&b.to_string()).unwrap().tip = node.tip(&a).to_string();
    manifest.store(&target).unwrap();
    let restored = Node::new(node.chain.clone());
    let err =
        ceramic_backup::restore(&restored.engine, restored.store.as_ref(), &target).unwrap_err();
    assert!(matches!(err, Error::Inconsistent { stream, .. } if stream == b), "{err}");

    let (_, _dir2, target, a, b) = backed_up();
    let name = Manifest::load(&target).unwrap().streams[&a.to_string()].objects[0].clone();
    target.delete(&name).unwrap();
    let err =
        ceramic_backup::restore(&restored.engine, restored.store.as_ref(), &target).unwrap_err();
    assert!(matches!(err, Error::MissingObject { stream, .. } if stream == a), "{err}");

    target.put(MANIFEST, b"{not json").unwrap();
    let err =
        ceramic_backup::restore(&restored.engine, restored.store.as_ref(), &target).unwrap_err();
    assert!(matches!(err, Error::Manifest(_)), "{err}");
    assert_nothing_stored(&restored, &[a, b]);
}
