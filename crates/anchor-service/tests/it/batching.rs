//! The batching policy (minimum streams, maximum delay, maximum batch size), replacement of
//! older pending requests, the sink, and chain failures.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ceramic_anchor::{Chain, ChainError, DevChain, Witness};
use ceramic_anchor_service::{BroadcastSink, CasBuilder, Error, MemoryStore, Policy, Status};
use ceramic_codecs::{AnchorProof, Cid};

use crate::{commit, fixture, new_request, stream};

fn policy(min_streams: usize, max_delay_s: u64, max_batch: usize) -> Policy {
    Policy {
        interval: Duration::from_secs(1),
        min_streams,
        max_delay: Duration::from_secs(max_delay_s),
        max_batch,
    }
}

#[test]
fn a_batch_is_made_once_enough_streams_are_pending() {
    let f = fixture(policy(3, 3600, 100));
    f.cas.request(&new_request(1, 0, None)).unwrap();
    f.cas.request(&new_request(2, 0, None)).unwrap();
    assert!(f.cas.tick().unwrap().is_none(), "2 streams < 3, delay not reached");
    assert_eq!(f.chain.height(), 0);
    f.cas.request(&new_request(3, 0, None)).unwrap();
    let outcome = f.cas.tick().unwrap().expect("3 streams make a batch");
    assert_eq!(outcome.requests.len(), 3);
    assert_eq!(f.chain.height(), 1);
    for n in 1..=3 {
        let record = f.cas.get(&commit(n, 0)).unwrap().unwrap();
        assert_eq!(record.status, Status::Completed, "stream {n}");
        let witness = Witness::from_car(record.witness_car.as_deref().unwrap()).unwrap();
        assert_eq!(Some(witness.cid()), record.anchor_commit);
        assert_eq!(witness.commit().prev, commit(n, 0));
        assert_eq!(witness.commit().id, Some(stream(n).cid()));
        f.chain.check(witness.proof()).unwrap();
    }
    assert!(f.cas.tick().unwrap().is_none(), "nothing is pending");
}

#[test]
fn a_batch_is_made_when_the_oldest_request_waited_the_maximum_delay() {
    let f = fixture(policy(1000, 60, 100));
    f.cas.request(&new_request(1, 0, None)).unwrap();
    f.clock.advance_ms(30_000);
    f.cas.request(&new_request(2, 0, None)).unwrap();
    f.clock.advance_ms(29_999);
    assert!(f.cas.tick().unwrap().is_none(), "the oldest waited 59.999 s");
    f.clock.advance_ms(1);
    let outcome = f.cas.tick().unwrap().expect("the oldest waited 60 s");
    assert_eq!(outcome.requests.len(), 2, "the batch takes every pending request");
    assert_eq!(f.chain.height(), 1);
}

#[test]
fn a_batch_takes_at_most_the_maximum_size_oldest_first() {
    let f = fixture(policy(1, 3600, 2));
    for n in 1..=5 {
        f.cas.request(&new_request(n, 0, None)).unwrap();
        f.clock.advance_ms(10);
    }
    let mut batches = Vec::new();
    while let Some(outcome) = f.cas.trigger().unwrap() {
        let mut streams: Vec<_> = outcome.requests.iter().map(|r| r.stream_id).collect();
        streams.sort_by_key(|s| (1..=5).position(|n| stream(n) == *s));
        batches.push(streams);
    }
    assert_eq!(
        batches,
        [vec![stream(1), stream(2)], vec![stream(3), stream(4)], vec![stream(5)]],
        "oldest first, at most 2 per batch"
    );
    assert_eq!(f.chain.height(), 3);
}

#[test]
fn a_newer_request_replaces_the_pending_one_of_its_stream() {
    let f = fixture(policy(1000, 3600, 100));
    let first = f.cas.request(&new_request(1, 0, Some(100))).unwrap();
    assert!(first.created);
    assert_eq!(first.record.status, Status::Pending);
    f.clock.advance_ms(5);
    let second = f.cas.request(&new_request(1, 1, Some(200))).unwrap();
    assert_eq!(second.record.status, Status::Pending);
    let replaced = f.cas.get(&commit(1, 0)).unwrap().unwrap();
    assert_eq!(replaced.status, Status::Replaced);
    assert_eq!(replaced.message, format!("Replaced by {}", commit(1, 1)));
    assert_eq!(replaced.updated_at, 1_000_005);

    // A request arriving later with an older client timestamp loses to the pending one.
    let stale = f.cas.request(&new_request(1, 2, Some(150))).unwrap();
    assert!(stale.created);
    assert_eq!(stale.record.status, Status::Replaced);
    assert_eq!(stale.record.message, format!("Replaced by {}", commit(1, 1)));
    // Other streams are untouched.
    f.cas.request(&new_request(2, 0, Some(50))).unwrap();

    let outcome = f.cas.trigger().unwrap().unwrap();
    let mut anchored: Vec<Cid> = outcome.requests.iter().map(|r| r.cid).collect();
    anchored.sort();
    let mut expected = vec![commit(1, 1), commit(2, 0)];
    expected.sort();
    assert_eq!(anchored, expected, "one request per stream, the newest");
    assert_eq!(f.cas.get(&commit(1, 0)).unwrap().unwrap().status, Status::Replaced);
}

#[test]
fn a_repeated_cid_returns_the_stored_request_unchanged() {
    let f = fixture(policy(1000, 3600, 100));
    let first = f.cas.request(&new_request(1, 0, Some(100))).unwrap();
    f.clock.advance_ms(1000);
    let again = f.cas.request(&new_request(1, 0, Some(999))).unwrap();
    assert!(!again.created);
    assert_eq!(again.record, first.record);
}

#[test]
fn a_request_arriving_while_its_stream_is_processing_waits_for_the_next_batch() {
    let f = fixture(policy(1000, 3600, 100));
    f.cas.request(&new_request(1, 0, None)).unwrap();
    f.cas.run_batch_until(ceramic_anchor_service::Stage::Chosen).unwrap().unwrap();
    assert_eq!(f.cas.get(&commit(1, 0)).unwrap().unwrap().status, Status::Processing);
    let next = f.cas.request(&new_request(1, 1, None)).unwrap();
    assert_eq!(next.record.status, Status::Pending, "a PROCESSING request is not replaced");
    assert_eq!(f.cas.get(&commit(1, 0)).unwrap().unwrap().status, Status::Processing);
    // The next run first finishes the batch in flight, then anchors the new request.
    let outcome = f.cas.trigger().unwrap().unwrap();
    assert_eq!(outcome.requests.iter().map(|r| r.cid).collect::<Vec<_>>(), [commit(1, 1)]);
    assert_eq!(f.cas.get(&commit(1, 0)).unwrap().unwrap().status, Status::Completed);
    assert_eq!(f.chain.height(), 2);
}

#[test]
fn finished_batches_go_to_the_sink() {
    let chain = Arc::new(DevChain::new());
    let sink = Arc::new(BroadcastSink::new(4));
    let mut received = sink.subscribe();
    let cas = CasBuilder::new(Arc::new(MemoryStore::new()), chain.clone())
        .with_sink(sink)
        .open()
        .unwrap();
    cas.request(&new_request(1, 0, None)).unwrap();
    cas.request(&new_request(2, 0, None)).unwrap();
    let outcome = cas.trigger().unwrap().unwrap();
    let published = received.try_recv().expect("a batch was published");
    assert_eq!(published.requests, outcome.requests);
    assert_eq!(published.anchors.anchors().len(), 2);
    for (request, anchor) in published.requests.iter().zip(published.anchors.anchors()) {
        assert_eq!(anchor.request().tip, request.cid);
        assert_eq!(Some(anchor.cid()), request.anchor_commit);
    }
    assert_eq!(published.anchors.proof().tx_hash, outcome.tx_hash);
    chain.check(published.anchors.proof()).unwrap();
}

/// A dev chain that refuses while `down` is set.
#[derive(Debug)]
struct Flaky {
    chain: DevChain,
    down: AtomicBool,
}

impl Chain for Flaky {
    fn chain_id(&self) -> &str {
        self.chain.chain_id()
    }
    fn tx_type(&self) -> Option<&str> {
        None
    }
    fn anchor_root(&self, root: &Cid) -> Result<Cid, ChainError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(ChainError::Unavailable {
                chain_id: self.chain_id().into(),
                reason: "node down".into(),
            });
        }
        self.chain.anchor_root(root)
    }
    fn check_proof(&self, proof: &AnchorProof) -> Result<u64, ChainError> {
        self.chain.check(proof)
    }
}

#[test]
fn a_chain_failure_puts_the_requests_back_to_pending() {
    let chain = Arc::new(Flaky { chain: DevChain::new(), down: AtomicBool::new(true) });
    let cas = CasBuilder::new(Arc::new(MemoryStore::new()), chain.clone()).open().unwrap();
    cas.request(&new_request(1, 0, None)).unwrap();
    assert!(matches!(cas.trigger(), Err(Error::Chain(ChainError::Unavailable { .. }))));
    let record = cas.get(&commit(1, 0)).unwrap().unwrap();
    assert_eq!(record.status, Status::Pending);
    assert!(record.message.contains("node down"), "{}", record.message);
    assert_eq!(cas.in_flight().unwrap(), 0);
    chain.down.store(false, Ordering::SeqCst);
    assert_eq!(cas.trigger().unwrap().unwrap().requests.len(), 1);
    assert_eq!(cas.get(&commit(1, 0)).unwrap().unwrap().status, Status::Completed);
    assert_eq!(chain.chain.height(), 1);
}

#[test]
fn a_restart_over_the_same_memory_store_finishes_a_sent_batch() {
    let f = fixture(policy(1000, 3600, 100));
    f.cas.request(&new_request(1, 0, None)).unwrap();
    f.cas.run_batch_until(ceramic_anchor_service::Stage::Sent).unwrap().unwrap();
    let restarted = crate::open(f.store.clone(), f.chain.clone(), f.clock.clone(), policy(1, 1, 1));
    assert_eq!(restarted.get(&commit(1, 0)).unwrap().unwrap().status, Status::Completed);
    assert_eq!(f.chain.height(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_anchors_on_its_own_and_stops_on_shutdown() {
    let f = fixture(Policy { interval: Duration::from_millis(10), ..policy(1, 3600, 100) });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let scheduler = tokio::spawn(f.cas.clone().run_scheduler(async move {
        stopped.await.ok();
    }));
    f.cas.request(&new_request(1, 0, None)).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while f.cas.get(&commit(1, 0)).unwrap().unwrap().status != Status::Completed {
        assert!(tokio::time::Instant::now() < deadline, "the scheduler did not anchor");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), scheduler).await.unwrap().unwrap();
    assert_eq!(f.chain.height(), 1);
}

#[test]
fn concurrent_requests_and_batches_anchor_each_stream_at_most_once_per_batch() {
    let f = fixture(policy(1, 3600, 100));
    let cas = f.cas.clone();
    std::thread::scope(|scope| {
        for t in 0..4u8 {
            let cas = cas.clone();
            scope.spawn(move || {
                for m in 0..25u8 {
                    let n = (m + t) % 8;
                    let request = ceramic_anchor_service::NewRequest {
                        stream_id: stream(n),
                        cid: commit(n, t * 50 + m),
                        timestamp: Some(u64::from(m)),
                    };
                    cas.request(&request).unwrap();
                }
            });
        }
        let cas = cas.clone();
        scope.spawn(move || {
            for _ in 0..20 {
                cas.trigger().unwrap();
            }
        });
    });
    while f.cas.trigger().unwrap().is_some() {}
    let mut completed = 0;
    let mut by_batch: std::collections::HashMap<Cid, Vec<_>> = std::collections::HashMap::new();
    for t in 0..4u8 {
        for m in 0..25u8 {
            let n = (m + t) % 8;
            let record = f.cas.get(&commit(n, t * 50 + m)).unwrap().unwrap();
            match record.status {
                Status::Completed => {
                    completed += 1;
                    let witness =
                        Witness::from_car(record.witness_car.as_deref().unwrap()).unwrap();
                    f.chain.check(witness.proof()).unwrap();
                    by_batch.entry(witness.proof().tx_hash).or_default().push(record.stream_id);
                }
                Status::Replaced => assert!(record.message.starts_with("Replaced by ")),
                other => panic!("{} is {other} after every batch ran", record.cid),
            }
        }
    }
    assert!(completed >= 8, "every stream got at least its last request anchored");
    assert_eq!(by_batch.len() as u64, f.chain.height(), "one transaction per batch");
    for streams in by_batch.values() {
        let distinct: std::collections::HashSet<_> = streams.iter().collect();
        assert_eq!(distinct.len(), streams.len(), "a stream appears once per batch");
    }
    assert!(f.cas.pending(1000).unwrap().is_empty());
    assert_eq!(f.cas.in_flight().unwrap(), 0);
}
