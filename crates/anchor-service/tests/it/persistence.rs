//! Restarts on RocksDB: requests survive, and batches interrupted at each durable step are
//! finished exactly as the spec says (no second transaction once the hash is stored; one
//! transaction when it was not sent).

use std::sync::Arc;

use ceramic_anchor::{DevChain, Witness};
use ceramic_anchor_service::{Cas, ManualClock, Policy, RocksStore, Stage, Status};

use crate::{commit, new_request, open};

fn open_rocks(dir: &std::path::Path, chain: &Arc<DevChain>) -> Cas {
    let store = Arc::new(RocksStore::open(dir).expect("opens"));
    open(store, chain.clone(), Arc::new(ManualClock::new(5_000)), Policy::default())
}

fn assert_completed_on(cas: &Cas, chain: &DevChain, n: u8) {
    let record = cas.get(&commit(n, 0)).unwrap().unwrap();
    assert_eq!(record.status, Status::Completed, "stream {n}");
    let witness = Witness::from_car(record.witness_car.as_deref().unwrap()).unwrap();
    assert_eq!(Some(witness.cid()), record.anchor_commit);
    chain.check(witness.proof()).unwrap();
}

#[test]
fn requests_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Arc::new(DevChain::new());
    let before = {
        let cas = open_rocks(dir.path(), &chain);
        cas.request(&new_request(1, 0, Some(10))).unwrap();
        cas.request(&new_request(1, 1, Some(20))).unwrap();
        cas.request(&new_request(2, 0, Some(30))).unwrap().record
    };
    let cas = open_rocks(dir.path(), &chain);
    assert_eq!(cas.get(&commit(2, 0)).unwrap().unwrap(), before);
    assert_eq!(cas.get(&commit(1, 0)).unwrap().unwrap().status, Status::Replaced);
    assert_eq!(cas.pending(10).unwrap().len(), 2, "the pending index survives too");
    assert!(!cas.request(&new_request(2, 0, None)).unwrap().created, "still unique on cid");
    assert_eq!(cas.trigger().unwrap().unwrap().requests.len(), 2);
    assert_eq!(chain.height(), 1);
}

#[test]
fn a_batch_interrupted_after_its_transaction_is_finished_without_sending_again() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Arc::new(DevChain::new());
    {
        let cas = open_rocks(dir.path(), &chain);
        cas.request(&new_request(1, 0, None)).unwrap();
        cas.request(&new_request(2, 0, None)).unwrap();
        cas.run_batch_until(Stage::Sent).unwrap().unwrap();
        assert_eq!(chain.height(), 1);
        assert_eq!(cas.get(&commit(1, 0)).unwrap().unwrap().status, Status::Processing);
        assert_eq!(cas.in_flight().unwrap(), 1);
    } // "crash": the service and its store are dropped here
    let cas = open_rocks(dir.path(), &chain);
    assert_eq!(chain.height(), 1, "recovery sent no second transaction");
    assert_eq!(cas.in_flight().unwrap(), 0);
    assert_completed_on(&cas, &chain, 1);
    assert_completed_on(&cas, &chain, 2);
    assert!(cas.trigger().unwrap().is_none());
    assert_eq!(chain.height(), 1);
}

#[test]
fn a_batch_interrupted_before_its_transaction_is_sent_once() {
    let dir = tempfile::tempdir().unwrap();
    let chain = Arc::new(DevChain::new());
    {
        let cas = open_rocks(dir.path(), &chain);
        cas.request(&new_request(1, 0, None)).unwrap();
        cas.run_batch_until(Stage::Chosen).unwrap().unwrap();
        assert_eq!(chain.height(), 0);
        assert_eq!(cas.get(&commit(1, 0)).unwrap().unwrap().status, Status::Processing);
        assert!(cas.pending(10).unwrap().is_empty(), "a chosen request is not pending");
    }
    let cas = open_rocks(dir.path(), &chain);
    assert_eq!(chain.height(), 1, "recovery sent the batch");
    assert_completed_on(&cas, &chain, 1);
    drop(cas);
    let cas = open_rocks(dir.path(), &chain);
    assert!(cas.trigger().unwrap().is_none());
    assert_eq!(chain.height(), 1, "and only once");
    assert_completed_on(&cas, &chain, 1);
}
