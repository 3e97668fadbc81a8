//! Client writes, anchors and loading at a commit or a time.

use std::sync::Arc;

use ceramic_doctype::{AnchorStatus, CommitKind};
use ceramic_engine::ApplyError;
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_storage::BackendError;
use ceramic_storage::kv::{Backend, Batch, Column, Core, MemoryBackend, Visit};
use serde_json::json;

use crate::fixtures::{ADDER, AdderError, add, anchor, genesis, node, signer};

#[test]
fn applies_a_log_of_client_writes_and_publishes_each_tip() {
    let n = node(Arc::new(FakeAnchorVerifier::default()));
    let author = signer(1);
    let (stream, g) = genesis(&author, "a");
    n.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let c1 = add(&author, &stream, g.cid, 5);
    let state = n.engine.apply_commit(ADDER, c1.cid, &c1.blocks).unwrap();
    assert_eq!(state.current_content(), &json!({"n": 5}));
    let c2 = add(&author, &stream, c1.cid, 2);
    n.engine.apply_commit(ADDER, c2.cid, &c2.blocks).unwrap();
    assert_eq!(n.engine.load(&stream).unwrap().current_content(), &json!({"n": 7}));
    let tips: Vec<_> = n.published.updates().into_iter().map(|(_, tip)| tip).collect();
    assert_eq!(tips, [g.cid, c1.cid, c2.cid]);
    // Creating the same genesis again returns the stream as it is.
    assert_eq!(n.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap().tip(), c2.cid);
}

#[test]
fn rejects_a_write_that_does_not_build_on_the_tip_as_stale() {
    let n = node(Arc::new(FakeAnchorVerifier::default()));
    let author = signer(1);
    let (stream, g) = genesis(&author, "a");
    n.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let c1 = add(&author, &stream, g.cid, 5);
    n.engine.apply_commit(ADDER, c1.cid, &c1.blocks).unwrap();
    let stale = add(&author, &stream, g.cid, 9);
    let err = n.engine.apply_commit(ADDER, stale.cid, &stale.blocks).unwrap_err();
    assert!(matches!(err, ApplyError::Stale { .. }), "{err}");
    assert_eq!(n.engine.load(&stream).unwrap().current_content(), &json!({"n": 5}));
}

#[test]
fn rejects_a_commit_signed_by_another_did_or_for_another_stream() {
    let n = node(Arc::new(FakeAnchorVerifier::default()));
    let author = signer(1);
    let (stream, g) = genesis(&author, "a");
    n.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let forged = add(&signer(2), &stream, g.cid, 5);
    match n.engine.apply_commit(ADDER, forged.cid, &forged.blocks).unwrap_err() {
        ApplyError::Rejected { source, .. } => {
            assert!(matches!(
                source.downcast_ref::<AdderError>(),
                Some(AdderError::NotController(_))
            ));
        }
        other => panic!("{other}"),
    }
    // A commit whose `id` is another stream's genesis, but whose prev is this tip.
    let (other, _) = genesis(&author, "b");
    let misdirected = add(&author, &other, g.cid, 1);
    let err = n.engine.apply_commit(ADDER, misdirected.cid, &misdirected.blocks).unwrap_err();
    assert!(matches!(err, ApplyError::NotFound(_) | ApplyError::WrongStream { .. }), "{err}");
    assert_eq!(n.engine.load(&stream).unwrap().log().len(), 1);
}

#[test]
fn rejects_a_tampered_payload_block() {
    let n = node(Arc::new(FakeAnchorVerifier::default()));
    let author = signer(1);
    let (stream, g) = genesis(&author, "a");
    n.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let c1 = add(&author, &stream, g.cid, 5);
    let other = add(&author, &stream, g.cid, 6);
    // The envelope of c1 with the payload block of another commit under c1's payload CID.
    let envelope = c1.blocks[0].clone();
    let payload_cid = *c1.blocks[1].cid();
    let swapped = ceramic_codecs::Block::new(payload_cid, other.blocks[1].data().to_vec());
    assert!(swapped.is_err(), "a block is never built under a CID it does not hash to");
    let err = n.engine.apply_commit(ADDER, c1.cid, &[envelope]).unwrap_err();
    assert!(matches!(err, ApplyError::MissingBlock(_)), "{err}");
}

#[test]
fn applies_anchors_and_loads_at_commit_and_time() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let n = node(chain.clone());
    let author = signer(1);
    let (stream, g) = genesis(&author, "a");
    n.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let c1 = add(&author, &stream, g.cid, 5);
    n.engine.apply_commit(ADDER, c1.cid, &c1.blocks).unwrap();
    let a1 = anchor(&chain, &stream, c1.cid, 1_000);
    let state = n.engine.apply_commit(ADDER, a1.cid, &a1.blocks).unwrap();
    assert_eq!(state.anchor_status(), AnchorStatus::Anchored);
    assert!(state.log().iter().all(|e| e.timestamp == Some(1_000)), "{:?}", state.log());
    let c2 = add(&author, &stream, a1.cid, 1);
    n.engine.apply_commit(ADDER, c2.cid, &c2.blocks).unwrap();
    let a2 = anchor(&chain, &stream, c2.cid, 2_000);
    n.engine.apply_commit(ADDER, a2.cid, &a2.blocks).unwrap();

    let at_c1 = n.engine.load_at_commit(&stream.at_commit(c1.cid).unwrap()).unwrap();
    assert_eq!((at_c1.current_content().clone(), at_c1.tip()), (json!({"n": 5}), c1.cid));
    assert_eq!(n.engine.load_at_time(&stream, 999).unwrap().tip(), g.cid);
    assert_eq!(n.engine.load_at_time(&stream, 1_500).unwrap().tip(), a1.cid);
    assert_eq!(n.engine.load_at_time(&stream, 5_000).unwrap().tip(), a2.cid);
    // Replaying the stored log from scratch gives the stored state.
    assert_eq!(n.engine.state_at(&stream, a2.cid).unwrap(), n.engine.load(&stream).unwrap());
    // A CommitID of another stream's commit is refused.
    let (other, og) = genesis(&author, "b");
    n.engine.apply_commit(ADDER, og.cid, &og.blocks).unwrap();
    assert!(n.engine.load_at_commit(&other.at_commit(c1.cid).unwrap()).is_err());
}

#[test]
fn rejects_anchors_the_chain_or_the_path_does_not_confirm() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let n = node(chain.clone());
    let author = signer(1);
    let (stream, g) = genesis(&author, "a");
    n.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let c1 = add(&author, &stream, g.cid, 5);
    n.engine.apply_commit(ADDER, c1.cid, &c1.blocks).unwrap();

    // Unknown transaction.
    let lonely = Arc::new(FakeAnchorVerifier::default());
    let unconfirmed = anchor(&lonely, &stream, c1.cid, 1_000);
    let err = n.engine.apply_commit(ADDER, unconfirmed.cid, &unconfirmed.blocks).unwrap_err();
    assert!(matches!(err, ApplyError::Anchor { .. }), "{err}");

    // A proof for another commit, attached to this one: the path leads elsewhere.
    let elsewhere = anchor(&chain, &stream, g.cid, 1_000);
    let wrong = ceramic_codecs::AnchorCommit {
        id: Some(stream.cid()),
        prev: c1.cid,
        proof: *elsewhere.blocks[1].cid(),
        path: "0".into(),
    };
    let wrong = ceramic_codecs::Block::encode(
        ceramic_codecs::Codec::DagCbor,
        &ceramic_codecs::Payload::Anchor(wrong),
    )
    .unwrap();
    let mut blocks = vec![wrong.clone()];
    blocks.extend(elsewhere.blocks[1..].iter().cloned());
    let err = n.engine.apply_commit(ADDER, *wrong.cid(), &blocks).unwrap_err();
    assert!(matches!(err, ApplyError::Anchor { .. }), "{err}");
    let state = n.engine.load(&stream).unwrap();
    assert_eq!(state.log().last().map(|e| e.kind), Some(CommitKind::Data));
}

#[test]
fn a_commit_naming_another_streams_genesis_is_refused_on_load() {
    let n = node(Arc::new(FakeAnchorVerifier::default()));
    let author = signer(1);
    let (stream, g) = genesis(&author, "a");
    n.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    // Builds on this stream's genesis but says it belongs to another stream.
    let (other, _) = genesis(&author, "b");
    let misdirected = add(&author, &other, g.cid, 1);
    let outcome =
        n.engine.handle_tip(&stream, misdirected.cid, &crate::fixtures::peer(&[&misdirected]));
    assert!(matches!(outcome, Ok(ceramic_engine::TipOutcome::Unchanged)), "{outcome:?}");
    assert_eq!(n.engine.load(&stream).unwrap().log().len(), 1);
    let write = n.engine.apply_commit(ADDER, misdirected.cid, &misdirected.blocks).unwrap_err();
    assert!(matches!(write, ApplyError::NotFound(_)), "{write}");
    // Loading strictly through it names the rule.
    crate::fixtures::put_blocks(&n.store, &misdirected.blocks);
    let strict = n.engine.state_at(&stream, misdirected.cid).unwrap_err();
    assert!(matches!(strict, ApplyError::WrongStream { .. }), "{strict}");
}

/// A backend whose writes take a while, so that racing writers overlap between reading the
/// tip and storing the new state.
#[derive(Debug, Default)]
struct SlowBackend(MemoryBackend);

impl Backend for SlowBackend {
    fn get(&self, column: Column, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        self.0.get(column, key)
    }

    fn write(&self, batch: Batch) -> Result<(), BackendError> {
        std::thread::sleep(std::time::Duration::from_millis(30));
        self.0.write(batch)
    }

    fn scan(
        &self,
        column: Column,
        from: &[u8],
        prefix: &[u8],
        visit: &mut Visit<'_>,
    ) -> Result<(), BackendError> {
        self.0.scan(column, from, prefix, visit)
    }
}

#[test]
fn concurrent_writes_on_one_tip_let_exactly_one_win() {
    use ceramic_engine::memory::RecordingPublisher;
    let store = Arc::new(Core::with_backend(SlowBackend::default()));
    let registry = ceramic_doctype::Registry::new().with(crate::fixtures::Adder).unwrap();
    let engine = Arc::new(ceramic_engine::Engine::new(
        store,
        registry,
        Arc::new(FakeAnchorVerifier::default()),
        Arc::new(RecordingPublisher::default()),
    ));
    let author = signer(1);
    let (stream, g) = genesis(&author, "race");
    engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let writers = 8;
    let barrier = Arc::new(std::sync::Barrier::new(writers));
    let handles: Vec<_> = (0..writers)
        .map(|k| {
            let (engine, barrier) = (engine.clone(), barrier.clone());
            let commit = add(&author, &stream, g.cid, i64::try_from(k).unwrap() + 1);
            std::thread::spawn(move || {
                barrier.wait();
                engine.apply_commit(ADDER, commit.cid, &commit.blocks)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for loser in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(matches!(loser, ApplyError::Stale { .. }), "{loser}");
    }
    let state = engine.load(&stream).unwrap();
    assert_eq!(state.log().len(), 2);
    assert_eq!(&state, winners[0]);
}
