//! The suite both stores must pass, test by test (instantiated per store in `main.rs`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use ceramic_codecs::{Block, Cid, read_car};
use ceramic_did::Signer as _;
use ceramic_doctype::StreamState;
use ceramic_engine::Engine;
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_storage::{
    Backup, DirectoryBackup, Error, FeedEntry, FeedPage, Page, Storage, export_stream,
};
use ceramic_streamid::StreamId;

use crate::Fixture;
use crate::fixtures::{ADDER, Rng, add, anchor, anchor_pair, engine, genesis, grow, retag, signer};

/// Calls macro `$m` with the name of every test of the suite: each crate that compiles this
/// file instantiates them per store it has.
macro_rules! tests {
    ($m:ident) => {
        $m!(
            stores_and_loads_a_log_written_through_the_engine,
            refuses_a_new_stream_whose_log_is_not_all_there,
            stores_only_hash_checked_blocks,
            pins_unpins_and_lists_pins_in_pages,
            refuses_to_pin_an_unknown_stream,
            removes_a_state_with_its_index_entries_and_pin,
            writes_a_commit_and_its_pin_together,
            gc_removes_unpinned_streams_and_keeps_pinned_logs,
            gc_never_removes_a_block_reachable_from_a_pinned_stream,
            gc_is_safe_against_concurrent_writes,
            gc_through_the_engine_never_breaks_a_write_in_flight,
            lists_streams_by_controller_family_and_tag_in_pages,
            keeps_the_index_on_the_current_metadata,
            lists_all_streams_in_pages,
            backs_up_and_restores_streams_with_anchors,
            backs_up_1000_streams_and_restores_them_into_an_empty_store,
            refuses_a_tampered_backup_and_stores_nothing,
            restore_keeps_a_newer_local_state,
            feeds_every_stored_commit_once_in_order,
            a_refused_write_does_not_move_the_feed,
            a_reader_following_concurrent_writers_misses_nothing,
            lists_instances_by_model_and_controller_in_pages,
        );
    };
}
pub(crate) use tests;

/// Every stream of a paginated listing, checking each page against `limit`.
fn all_pages(limit: usize, mut page: impl FnMut(Option<&StreamId>) -> Page) -> Vec<StreamId> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let p = page(after.as_ref());
        assert!(p.streams.len() <= limit, "a page of {} > {limit}", p.streams.len());
        out.extend(p.streams.iter().copied());
        match p.next {
            Some(next) => {
                assert_eq!(p.streams.len(), limit, "only full pages have a next");
                assert_eq!(p.streams.last(), Some(&next));
                after = Some(next);
            }
            None => return out,
        }
    }
}

/// `ids` in the order listings use (their bytes).
fn sorted(ids: impl IntoIterator<Item = StreamId>) -> Vec<StreamId> {
    let mut ids: Vec<StreamId> = ids.into_iter().collect();
    ids.sort_by_key(StreamId::to_bytes);
    ids.dedup();
    ids
}

fn setup(f: &Fixture) -> (Engine, Arc<FakeAnchorVerifier>) {
    let chain = Arc::new(FakeAnchorVerifier::default());
    (engine(f.store.clone(), chain.clone()), chain)
}

pub(crate) fn stores_and_loads_a_log_written_through_the_engine(f: Fixture) {
    let (engine, chain) = setup(&f);
    let (stream, state) = grow(&engine, &chain, &signer(1), "a", 6, 3);
    assert_eq!(state.log().len(), 7);
    assert_eq!(f.store.state(&stream).unwrap(), Some(state.clone()));
    // Genesis and 4 data commits (envelope + payload), 2 anchors (commit, proof, 2 Merkle nodes).
    let blocks = f.store.log_blocks(&state).unwrap();
    assert_eq!(blocks.len(), 5 * 2 + 2 * 4);
    assert_eq!(f.store.stats().unwrap().blocks, blocks.len());
    for block in &blocks {
        assert_eq!(f.store.block(block.cid()).unwrap().as_ref(), Some(block));
        assert_eq!(f.store.get_block(block.cid()).unwrap().as_deref(), Some(block.data()));
    }
    assert_eq!(engine.state_at(&stream, state.tip()).unwrap(), state);
    let (unknown, g) = genesis(&signer(2), "unknown", None, &[]);
    assert_eq!(f.store.state(&unknown).unwrap(), None);
    assert_eq!(f.store.block(&g.cid).unwrap(), None);
}

pub(crate) fn refuses_a_new_stream_whose_log_is_not_all_there(f: Fixture) {
    let author = signer(1);
    let (stream, g) = genesis(&author, "a", None, &[]);
    let c1 = add(&author, &stream, g.cid, 1);
    // The state after both commits, built on another store.
    let other = crate::memory();
    let (engine, _) = setup(&other);
    engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let state = engine.apply_commit(ADDER, c1.cid, &c1.blocks).unwrap();
    let err = f.store.write_commit(&c1.blocks, &state).unwrap_err();
    assert!(matches!(err, Error::MissingBlock { cid, .. } if cid == g.cid), "{err}");
    assert_eq!(f.store.stats().unwrap(), Default::default(), "nothing is written");
    // With the genesis blocks too, or already stored, it is accepted.
    f.store.write_commit(&[&g.blocks[..], &c1.blocks[..]].concat(), &state).unwrap();
    assert_eq!(f.store.state(&stream).unwrap(), Some(state.clone()));
    f.store.log_blocks(&state).unwrap();
}

pub(crate) fn stores_only_hash_checked_blocks(f: Fixture) {
    let (engine, _) = setup(&f);
    let author = signer(1);
    let (stream, g) = genesis(&author, "a", None, &[]);
    engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    // A block exists only if its bytes hash to its CID, so nothing else can reach the store.
    assert!(Block::new(g.cid, b"forged".to_vec()).is_err());
    // A commit whose payload block was swapped for another one is refused by the engine.
    let c1 = add(&author, &stream, g.cid, 1);
    let c2 = add(&author, &stream, g.cid, 2);
    assert!(Block::new(*c1.blocks[1].cid(), c2.blocks[1].data().to_vec()).is_err());
    let swapped = [c1.blocks[0].clone(), c2.blocks[1].clone()];
    assert!(engine.apply_commit(ADDER, c1.cid, &swapped).is_err());
    assert_eq!(f.store.block(&c1.cid).unwrap(), None);
    assert_eq!(f.store.stats().unwrap().blocks, 2);
}

pub(crate) fn pins_unpins_and_lists_pins_in_pages(f: Fixture) {
    let (engine, chain) = setup(&f);
    let streams: Vec<StreamId> =
        (0..7).map(|i| grow(&engine, &chain, &signer(1), &format!("s{i}"), 1, 0).0).collect();
    for stream in &streams[..5] {
        f.store.pin(stream).unwrap();
    }
    f.store.pin(&streams[0]).unwrap(); // again: nothing changes
    assert_eq!(
        all_pages(2, |after| f.store.pins(after, 2).unwrap()),
        sorted(streams[..5].to_vec())
    );
    assert_eq!(f.store.pins(None, 0).unwrap().streams.len(), 1, "a limit of 0 is raised to 1");
    assert!(f.store.is_pinned(&streams[4]).unwrap());
    assert!(!f.store.is_pinned(&streams[5]).unwrap());
    assert!(f.store.unpin(&streams[4]).unwrap());
    assert!(!f.store.unpin(&streams[4]).unwrap());
    assert!(!f.store.is_pinned(&streams[4]).unwrap(), "an unpinned stream reads as unpinned");
    assert!(!f.store.unpin(&streams[6]).unwrap());
    f.store.pin(&streams[5]).unwrap();
    assert!(f.store.is_pinned(&streams[5]).unwrap(), "a stream read as unpinned, then pinned");
    f.store.unpin(&streams[5]).unwrap();
    assert_eq!(
        all_pages(3, |after| f.store.pins(after, 3).unwrap()),
        sorted(streams[..4].to_vec())
    );
    assert_eq!(f.store.stats().unwrap().pins, 4);
}

pub(crate) fn refuses_to_pin_an_unknown_stream(f: Fixture) {
    let (stream, _) = genesis(&signer(1), "a", None, &[]);
    assert!(matches!(f.store.pin(&stream), Err(Error::NotFound(s)) if s == stream));
    assert!(!f.store.is_pinned(&stream).unwrap());
}

pub(crate) fn removes_a_state_with_its_index_entries_and_pin(f: Fixture) {
    let (engine, chain) = setup(&f);
    let author = signer(1);
    let (gone, state) = grow(&engine, &chain, &author, "gone", 2, 0);
    let (kept, _) = grow(&engine, &chain, &author, "kept", 2, 0);
    f.store.pin(&gone).unwrap();
    let head = f.store.feed_head().unwrap();
    assert!(f.store.remove_state(&gone).unwrap());
    assert!(f.store.state(&gone).unwrap().is_none());
    assert!(!f.store.is_pinned(&gone).unwrap(), "its pin went with it");
    let did = author.did();
    for page in [
        f.store.list_by_controller(did, None, 10).unwrap(),
        f.store.list_by_family("family", None, 10).unwrap(),
        f.store.list_by_tag("tag", None, 10).unwrap(),
    ] {
        assert_eq!(page.streams, vec![kept], "only the other stream is listed");
    }
    assert_eq!(f.store.feed_head().unwrap(), head, "the feed keeps what was stored");
    for entry in state.log() {
        assert!(f.store.block(&entry.cid).unwrap().is_some(), "blocks stay until GC");
    }
    assert!(!f.store.remove_state(&gone).unwrap(), "not stored any more");
    assert!(f.store.state(&kept).unwrap().is_some());
    // GC runs (no pinned stream without a state) and takes the removed stream's blocks.
    f.store.gc().unwrap();
    assert!(f.store.block(&state.tip()).unwrap().is_none());
}

pub(crate) fn writes_a_commit_and_its_pin_together(f: Fixture) {
    use ceramic_engine::Expect;
    let (engine, chain) = setup(&f);
    let author = signer(1);
    // A new stream written pinned.
    let (fresh, g) = genesis(&author, "fresh", None, &[]);
    let state = engine.apply_write_pinned(ADDER, g.cid, &g.blocks, Expect::Genesis, Some(true));
    assert_eq!(state.unwrap().stream_id(), fresh);
    assert!(f.store.is_pinned(&fresh).unwrap());
    // A stored stream that was not pinned, updated pinned; then unpinned and updated again.
    let (grown, mut state) = grow(&engine, &chain, &author, "grown", 1, 0);
    assert!(!f.store.is_pinned(&grown).unwrap());
    for round in 0..2 {
        let next = add(&author, &grown, state.tip(), round);
        let update = Expect::Update(Some(grown));
        state =
            engine.apply_write_pinned(ADDER, next.cid, &next.blocks, update, Some(true)).unwrap();
        assert!(f.store.is_pinned(&grown).unwrap(), "round {round}");
        assert!(f.store.unpin(&grown).unwrap(), "round {round}");
        assert!(!f.store.is_pinned(&grown).unwrap(), "round {round}");
    }
    assert_eq!(all_pages(10, |after| f.store.pins(after, 10).unwrap()), vec![fresh]);
    // A new stream whose log is not all there: nothing is written, not even the pin.
    let (missing, g) = genesis(&author, "missing", None, &[]);
    let next = add(&author, &missing, g.cid, 1);
    let state = engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    assert!(f.store.remove_state(&missing).unwrap());
    f.store.gc().unwrap();
    let err = f.store.write_commit_pinned(&next.blocks, &state).unwrap_err();
    assert!(matches!(err, Error::MissingBlock { .. }), "{err}");
    assert!(!f.store.is_pinned(&missing).unwrap());
    assert!(f.store.state(&missing).unwrap().is_none());
    // GC keeps the stream pinned by its write.
    f.store.gc().unwrap();
    assert!(f.store.state(&fresh).unwrap().is_some());
}

/// Every block of the pinned streams' logs.
fn pinned_blocks(store: &dyn Storage) -> HashSet<Cid> {
    let pins = all_pages(100, |after| store.pins(after, 100).unwrap());
    let mut out = HashSet::new();
    for stream in pins {
        let state = store.state(&stream).unwrap().expect("a pinned stream has a state");
        out.extend(store.log_blocks(&state).unwrap().iter().map(|b| *b.cid()));
    }
    out
}

pub(crate) fn gc_removes_unpinned_streams_and_keeps_pinned_logs(f: Fixture) {
    let (engine, chain) = setup(&f);
    let author = signer(1);
    let (a, a_state) = grow(&engine, &chain, &author, "a", 4, 2);
    let (b, b_state) = grow(&engine, &chain, &author, "b", 4, 2);
    let (c, c_state) = grow(&engine, &chain, &author, "c", 0, 0);
    // A and B anchored together: their anchor commits share the proof and the root.
    let (a_anchor, b_anchor) = anchor_pair(&chain, (&a, a_state.tip()), (&b, b_state.tip()), 5_000);
    let a_state = engine.apply_commit(ADDER, a_anchor.cid, &a_anchor.blocks).unwrap();
    engine.apply_commit(ADDER, b_anchor.cid, &b_anchor.blocks).unwrap();
    f.store.pin(&a).unwrap();
    f.store.pin(&c).unwrap();
    let before = f.store.stats().unwrap();
    let keep = pinned_blocks(&*f.store);
    let report = f.store.gc().unwrap();
    assert_eq!(report.pinned_streams, 2);
    assert_eq!(report.streams_removed, 1);
    assert_eq!(report.blocks_kept, keep.len());
    assert_eq!(report.blocks_removed, before.blocks - keep.len());
    assert_eq!(f.store.state(&b).unwrap(), None);
    assert_eq!(f.store.block(&b_anchor.cid).unwrap(), None);
    assert!(f.store.block(b_anchor.blocks[1].cid()).unwrap().is_some(), "the shared proof stays");
    assert_eq!(
        f.store.list_by_controller(author.did_key().did(), None, 10).unwrap().streams,
        sorted([a, c])
    );
    assert_eq!(f.store.state(&a).unwrap(), Some(a_state.clone()));
    assert_eq!(f.store.state(&c).unwrap(), Some(c_state));
    assert_eq!(engine.state_at(&a, a_state.tip()).unwrap(), a_state);
    assert_eq!(f.store.gc().unwrap().blocks_removed, 0, "a second GC finds nothing");
    // Unpinned, A goes too; C stays.
    f.store.unpin(&a).unwrap();
    let report = f.store.gc().unwrap();
    assert_eq!((report.streams_removed, report.blocks_kept), (1, 2));
    assert_eq!(f.store.stats().unwrap().streams, 1);
}

pub(crate) fn gc_never_removes_a_block_reachable_from_a_pinned_stream(f: Fixture) {
    let (engine, chain) = setup(&f);
    let mut rng = Rng::new(0x5eed);
    let mut live: Vec<(StreamId, StreamState)> = Vec::new();
    let mut created = 0;
    for round in 0..6 {
        // New streams, and new commits on the surviving ones (which GC may have removed).
        for _ in 0..1 + rng.below(5) {
            let author = signer(1 + rng.below(3) as u8);
            let unique = format!("r{round}-{created}");
            created += 1;
            live.push(grow(&engine, &chain, &author, &unique, rng.below(6) as usize, 3));
        }
        live.retain(|(id, _)| f.store.state(id).unwrap().is_some());
        for (id, state) in live.iter_mut() {
            for _ in 0..rng.below(3) {
                let made = if rng.one_in(3) {
                    anchor(&chain, id, state.tip(), 10_000 + rng.below(1_000_000))
                } else {
                    add(&signer(0), id, state.tip(), 1) // refused: not the controller
                };
                if let Ok(next) = engine.apply_commit(ADDER, made.cid, &made.blocks) {
                    *state = next;
                }
            }
        }
        if live.len() >= 2 && rng.one_in(2) {
            let (i, j) =
                (rng.below(live.len() as u64) as usize, rng.below(live.len() as u64) as usize);
            if i != j {
                let (x, y) = (&live[i], &live[j]);
                let (ax, ay) =
                    anchor_pair(&chain, (&x.0, x.1.tip()), (&y.0, y.1.tip()), 77 + round);
                live[i].1 = engine.apply_commit(ADDER, ax.cid, &ax.blocks).unwrap();
                live[j].1 = engine.apply_commit(ADDER, ay.cid, &ay.blocks).unwrap();
            }
        }
        for (id, _) in &live {
            match rng.below(3) {
                0 => f.store.pin(id).unwrap(),
                1 => drop(f.store.unpin(id).unwrap()),
                _ => {}
            }
        }
        let pinned: Vec<(StreamId, StreamState)> =
            live.iter().filter(|(id, _)| f.store.is_pinned(id).unwrap()).cloned().collect();
        let keep = pinned_blocks(&*f.store);
        let report = f.store.gc().unwrap();
        assert_eq!(report.blocks_kept, keep.len(), "round {round}");
        assert_eq!(
            f.store.stats().unwrap().blocks,
            keep.len(),
            "round {round}: exactly the pinned logs stay"
        );
        for (id, state) in &pinned {
            assert_eq!(f.store.state(id).unwrap().as_ref(), Some(state), "round {round}");
            let blocks = f.store.log_blocks(state).unwrap();
            assert!(blocks.iter().all(|b| keep.contains(b.cid())));
            assert_eq!(&engine.state_at(id, state.tip()).unwrap(), state, "round {round}");
        }
        assert_eq!(f.store.stats().unwrap().streams, pinned.len(), "round {round}");
    }
}

pub(crate) fn gc_is_safe_against_concurrent_writes(f: Fixture) {
    let (engine, chain) = setup(&f);
    let engine = Arc::new(engine);
    let streams: Vec<(StreamId, StreamState)> =
        (0..4).map(|i| grow(&engine, &chain, &signer(i + 1), &format!("w{i}"), 1, 0)).collect();
    for (id, _) in &streams {
        f.store.pin(id).unwrap();
    }
    let writers: Vec<_> = streams
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, (id, mut state))| {
            let engine = engine.clone();
            let chain = chain.clone();
            std::thread::spawn(move || {
                for k in 0..30 {
                    let made = if k % 7 == 6 {
                        anchor(&chain, &id, state.tip(), 100 + k)
                    } else {
                        add(&signer(i as u8 + 1), &id, state.tip(), 1)
                    };
                    state = engine.apply_commit(ADDER, made.cid, &made.blocks).unwrap();
                }
                state
            })
        })
        .collect();
    let mut noise = 0;
    while !writers.iter().all(|w| w.is_finished()) {
        grow(&engine, &chain, &signer(9), &format!("noise{noise}"), 2, 0);
        noise += 1;
        f.store.gc().unwrap();
    }
    for ((id, _), writer) in streams.iter().zip(writers) {
        let state = writer.join().unwrap();
        assert_eq!(f.store.state(id).unwrap(), Some(state.clone()));
        f.store.log_blocks(&state).unwrap();
        assert_eq!(engine.state_at(id, state.tip()).unwrap(), state);
    }
    f.store.gc().unwrap();
    assert_eq!(f.store.stats().unwrap().streams, streams.len());
}

/// Writes of unpinned streams, and writes that pin, run while GC runs in a loop (through
/// [`Engine::gc`], as the node runs it). A write either lands with its whole log or finds its
/// stream already collected ([`ApplyError::NotFound`]); a write acknowledged as pinned stays
/// with every block of its log. GC straight on the store (`f.store.gc()`) fails this: a write
/// that read its stream before GC removed it is refused for the blocks GC took (`MissingBlock`),
/// and a pin that follows its write may find the stream gone.
pub(crate) fn gc_through_the_engine_never_breaks_a_write_in_flight(f: Fixture) {
    use ceramic_engine::{ApplyError, Expect};
    let (engine, _chain) = setup(&f);
    let engine = Arc::new(engine);
    let writers: Vec<_> = (0..4u8)
        .map(|w| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                let author = signer(w + 1);
                let pin = (w % 2 == 0).then_some(true);
                let (mut collected, mut written, mut pinned) = (0, 0, Vec::new());
                for round in 0..25 {
                    let (id, g) = genesis(&author, &format!("gc{w}-{round}"), None, &[]);
                    let mut state = engine
                        .apply_write_pinned(ADDER, g.cid, &g.blocks, Expect::Genesis, pin)
                        .unwrap_or_else(|e| panic!("writer {w}: genesis: {e}"));
                    for k in 0..6 {
                        let made = add(&author, &id, state.tip(), k);
                        match engine.apply_write_pinned(
                            ADDER,
                            made.cid,
                            &made.blocks,
                            Expect::Update(Some(id)),
                            pin,
                        ) {
                            Ok(next) => {
                                state = next;
                                written += 1;
                            }
                            Err(ApplyError::NotFound(gone)) if gone == id && pin.is_none() => {
                                collected += 1;
                                break;
                            }
                            Err(e) => panic!("writer {w}, stream {id}, commit {k}: {e:?}"),
                        }
                    }
                    if pin.is_some() {
                        pinned.push((id, state));
                    }
                }
                (collected, written, pinned)
            })
        })
        .collect();
    let mut runs = 0;
    while !writers.iter().all(|w| w.is_finished()) {
        engine.gc().unwrap();
        runs += 1;
    }
    let mut pinned = Vec::new();
    let mut collected = 0;
    for writer in writers {
        let (c, written, p) = writer.join().unwrap();
        // A pinned writer's updates all land; an unpinned writer's may each find its stream
        // collected first (GC runs in a tight loop), but every round ends one way or the other.
        if p.is_empty() {
            assert!(written + c > 0, "an unpinned writer neither wrote nor saw its stream go");
        } else {
            assert_eq!(written, 25 * 6, "a pinned writer lost an update");
        }
        collected += c;
        pinned.extend(p);
    }
    assert!(runs > 1, "GC ran {runs} times");
    engine.gc().unwrap();
    for (id, state) in &pinned {
        assert_eq!(f.store.state(id).unwrap().as_ref(), Some(state), "{id}");
        assert!(f.store.is_pinned(id).unwrap());
        f.store.log_blocks(state).unwrap();
    }
    assert_eq!(f.store.stats().unwrap().streams, pinned.len(), "{collected} collected mid-write");
}

pub(crate) fn lists_streams_by_controller_family_and_tag_in_pages(f: Fixture) {
    let (engine, _) = setup(&f);
    let (one, two) = (signer(1), signer(2));
    let create = |author, unique: &str, family, tags: &[&str]| {
        let (id, g) = genesis(author, unique, Some(family), tags);
        engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
        id
    };
    let ones: Vec<StreamId> =
        (0..5).map(|i| create(&one, &format!("o{i}"), "f1", &["a", "b"])).collect();
    let twos: Vec<StreamId> =
        (0..3).map(|i| create(&two, &format!("t{i}"), "f2", &["b"])).collect();
    let ab = create(&two, "ab", "f1", &["ab"]);
    let did = |s: &ceramic_did::KeySigner| s.did_key().did().to_string();
    for limit in [1, 2, 5, 100] {
        let by_controller =
            all_pages(limit, |a| f.store.list_by_controller(&did(&one), a, limit).unwrap());
        assert_eq!(by_controller, sorted(ones.clone()), "limit {limit}");
        let by_family = all_pages(limit, |a| f.store.list_by_family("f2", a, limit).unwrap());
        assert_eq!(by_family, sorted(twos.clone()), "limit {limit}");
        let b = all_pages(limit, |a| f.store.list_by_tag("b", a, limit).unwrap());
        assert_eq!(b, sorted(ones.iter().chain(&twos).copied()), "limit {limit}");
    }
    // Terms are length-prefixed: "a" does not match "ab".
    assert_eq!(f.store.list_by_tag("a", None, 100).unwrap().streams, sorted(ones.clone()));
    assert_eq!(f.store.list_by_tag("ab", None, 100).unwrap().streams, [ab]);
    assert_eq!(
        all_pages(2, |a| f.store.list_by_family("f1", a, 2).unwrap()),
        sorted(ones.iter().copied().chain([ab]))
    );
    assert_eq!(f.store.list_by_tag("nope", None, 10).unwrap(), Page::default());
    // Exactly a full page: no next.
    assert_eq!(f.store.list_by_controller(&did(&one), None, 5).unwrap().next, None);
    let twos_after_ab = f.store.list_by_controller(&did(&two), Some(&ab), 10).unwrap();
    assert!(!twos_after_ab.streams.contains(&ab));
}

pub(crate) fn keeps_the_index_on_the_current_metadata(f: Fixture) {
    let (engine, chain) = setup(&f);
    let author = signer(1);
    let (id, g) = genesis(&author, "a", Some("fam"), &["old", "kept"]);
    let state = engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let tagged = |tag: &str| f.store.list_by_tag(tag, None, 10).unwrap().streams == [id];
    assert!(tagged("old") && tagged("kept"));
    // A pending change of tags (`next.metadata`) is the current metadata.
    let c1 = retag(&author, &id, state.tip(), &["new", "kept"]);
    let state = engine.apply_commit(ADDER, c1.cid, &c1.blocks).unwrap();
    assert!(!tagged("old") && tagged("new") && tagged("kept"));
    let a1 = anchor(&chain, &id, state.tip(), 42);
    let state = engine.apply_commit(ADDER, a1.cid, &a1.blocks).unwrap();
    assert!(state.next().is_none());
    assert!(!tagged("old") && tagged("new") && tagged("kept"));
    let c2 = retag(&author, &id, state.tip(), &[]);
    engine.apply_commit(ADDER, c2.cid, &c2.blocks).unwrap();
    assert!(!tagged("new") && !tagged("kept"));
    assert!(f.store.list_by_family("fam", None, 10).unwrap().streams == [id]);
}

pub(crate) fn lists_all_streams_in_pages(f: Fixture) {
    let (engine, chain) = setup(&f);
    let ids: Vec<StreamId> =
        (0..12).map(|i| grow(&engine, &chain, &signer(1), &format!("s{i}"), 0, 0).0).collect();
    assert_eq!(all_pages(5, |a| f.store.streams(a, 5).unwrap()), sorted(ids.clone()));
    assert_eq!(all_pages(12, |a| f.store.streams(a, 12).unwrap()), sorted(ids));
}

/// Backs up the pinned streams of `f` and restores them into a fresh store of the same kind,
/// checking every state.
fn round_trip(f: &Fixture, expected: &HashMap<StreamId, StreamState>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let backup = DirectoryBackup::new(dir.path()).unwrap();
    let report = backup.backup_pinned(&*f.store).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.streams, expected.len());
    assert_eq!(backup.list().unwrap(), sorted(expected.keys().copied()));
    let restored = (f.fresh)();
    let report = backup.restore_all(&*restored.store).unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    assert_eq!(report.streams, expected.len());
    for (id, state) in expected {
        assert_eq!(restored.store.state(id).unwrap().as_ref(), Some(state));
        assert!(restored.store.is_pinned(id).unwrap());
        let car = read_car(&std::fs::read(backup.path_of(id)).unwrap()).unwrap();
        assert_eq!(car.roots[0], state.tip());
    }
    restored
}

pub(crate) fn backs_up_and_restores_streams_with_anchors(f: Fixture) {
    let (engine, chain) = setup(&f);
    let mut expected = HashMap::new();
    for i in 0..10 {
        let (id, state) =
            grow(&engine, &chain, &signer(1 + i % 3), &format!("s{i}"), i as usize, 3);
        f.store.pin(&id).unwrap();
        expected.insert(id, state);
    }
    let unpinned = grow(&engine, &chain, &signer(1), "unpinned", 1, 0).0;
    let restored = round_trip(&f, &expected);
    assert_eq!(restored.store.state(&unpinned).unwrap(), None);
    // The restored blocks rebuild the same states through the engine.
    let (engine2, _) = (crate::fixtures::engine(restored.store.clone(), chain.clone()), ());
    for (id, state) in &expected {
        assert_eq!(&engine2.state_at(id, state.tip()).unwrap(), state);
    }
    assert_eq!(restored.store.stats().unwrap().blocks, pinned_blocks(&*restored.store).len());
}

pub(crate) fn backs_up_1000_streams_and_restores_them_into_an_empty_store(f: Fixture) {
    let (engine, chain) = setup(&f);
    let mut expected = HashMap::new();
    for i in 0..1000 {
        let anchors = if i % 10 == 0 { 2 } else { 0 };
        let (id, state) =
            grow(&engine, &chain, &signer(1 + (i % 5) as u8), &format!("s{i}"), 2, anchors);
        f.store.pin(&id).unwrap();
        expected.insert(id, state);
    }
    let restored = round_trip(&f, &expected);
    assert_eq!(restored.store.stats().unwrap().streams, 1000);
}

pub(crate) fn refuses_a_tampered_backup_and_stores_nothing(f: Fixture) {
    let (engine, chain) = setup(&f);
    let (id, state) = grow(&engine, &chain, &signer(1), "a", 4, 2);
    f.store.pin(&id).unwrap();
    let car = export_stream(&*f.store, &id).unwrap();
    let target = (f.fresh)();
    // Every single bit flip anywhere in the file is refused.
    for at in 0..car.len() {
        let mut bad = car.clone();
        bad[at] ^= 0x01;
        let result = ceramic_storage::import_stream(&*target.store, &id, &bad);
        assert!(result.is_err(), "a flip at byte {at} was accepted");
    }
    let mut bad = car.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    assert!(matches!(
        ceramic_storage::import_stream(&*target.store, &id, &bad),
        Err(Error::TamperedBackup { source: ceramic_codecs::Error::HashMismatch { .. }, .. })
    ));
    // A truncated archive, and another stream's archive under this name.
    let cut = ceramic_storage::import_stream(&*target.store, &id, &car[..car.len() - 40]);
    assert!(cut.is_err());
    let (other, _) = grow(&engine, &chain, &signer(1), "b", 1, 0);
    let other_car = export_stream(&*f.store, &other).unwrap();
    assert!(matches!(
        ceramic_storage::import_stream(&*target.store, &id, &other_car),
        Err(Error::BackupState { .. })
    ));
    assert_eq!(target.store.stats().unwrap(), Default::default(), "nothing was stored");
    // Through a directory: a tampered file is reported, and the intact one restores.
    let dir = tempfile::tempdir().unwrap();
    let backup = DirectoryBackup::new(dir.path()).unwrap().with_sync(false);
    backup.backup_stream(&*f.store, &id).unwrap();
    backup.backup_stream(&*f.store, &other).unwrap();
    let mut tampered = std::fs::read(backup.path_of(&id)).unwrap();
    let middle = tampered.len() / 2;
    tampered[middle] ^= 0x80;
    std::fs::write(backup.path_of(&id), tampered).unwrap();
    let report = backup.restore_all(&*target.store).unwrap();
    assert_eq!(report.streams, 1);
    assert!(matches!(&report.failures[..], [(s, Error::TamperedBackup { .. })] if *s == id));
    assert_eq!(target.store.state(&id).unwrap(), None);
    assert!(target.store.state(&other).unwrap().is_some());
    assert!(matches!(
        backup.restore_stream(&*target.store, &StreamId::new(ADDER, state.tip()).unwrap()),
        Err(Error::NoBackup(_))
    ));
}

pub(crate) fn restore_keeps_a_newer_local_state(f: Fixture) {
    let (engine, chain) = setup(&f);
    let author = signer(1);
    let (id, old) = grow(&engine, &chain, &author, "a", 1, 0);
    f.store.pin(&id).unwrap();
    let old_car = export_stream(&*f.store, &id).unwrap();
    let c = add(&author, &id, old.tip(), 5);
    let new = engine.apply_commit(ADDER, c.cid, &c.blocks).unwrap();
    let new_car = export_stream(&*f.store, &id).unwrap();
    // The store is ahead of the old archive: it keeps its state.
    assert_eq!(ceramic_storage::import_stream(&*f.store, &id, &old_car).unwrap(), new);
    assert_eq!(f.store.state(&id).unwrap(), Some(new.clone()));
    // A store behind the new archive on the same branch takes it.
    let behind = (f.fresh)();
    ceramic_storage::import_stream(&*behind.store, &id, &old_car).unwrap();
    assert_eq!(ceramic_storage::import_stream(&*behind.store, &id, &new_car).unwrap(), new);
    assert_eq!(behind.store.state(&id).unwrap(), Some(new));
    let blocks: BTreeSet<Cid> =
        behind.store.log_blocks(&old).unwrap().iter().map(|b| *b.cid()).collect();
    assert_eq!(blocks.len(), 4);
}

/// Every feed entry after `after`, read in pages of `limit`, checking the tokens.
pub(crate) fn whole_feed(store: &dyn Storage, mut after: u64, limit: usize) -> Vec<FeedEntry> {
    let mut out: Vec<FeedEntry> = Vec::new();
    loop {
        let page = store.feed(after, limit).unwrap();
        assert!(page.entries.len() <= limit);
        if page.entries.is_empty() {
            assert_eq!(page.resume, after, "an empty page resumes where it was asked");
            return out;
        }
        assert_eq!(page.resume, page.entries.last().unwrap().position);
        out.extend(page.entries);
        after = page.resume;
    }
}

pub(crate) fn feeds_every_stored_commit_once_in_order(f: Fixture) {
    let (engine, chain) = setup(&f);
    assert_eq!(f.store.feed_head().unwrap(), 0);
    assert_eq!(f.store.feed(0, 10).unwrap(), FeedPage::default());
    // Interleave the writes of three streams.
    let mut expected = Vec::new();
    let author = signer(1);
    let mut states = Vec::new();
    for unique in ["x", "y", "z"] {
        let (id, g) = genesis(&author, unique, None, &[]);
        states.push((id, engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap()));
        expected.push((id, g.cid));
    }
    for round in 0..4 {
        for (id, state) in &mut states {
            let made = if round == 2 {
                anchor(&chain, id, state.tip(), 77)
            } else {
                add(&author, id, state.tip(), round)
            };
            *state = engine.apply_commit(ADDER, made.cid, &made.blocks).unwrap();
            expected.push((*id, made.cid));
        }
    }
    for limit in [1, 4, 100] {
        let feed = whole_feed(&*f.store, 0, limit);
        let got: Vec<(StreamId, Cid)> = feed.iter().map(|e| (e.stream, e.event)).collect();
        assert_eq!(got, expected, "every commit once, in the order it was stored");
        let positions: Vec<u64> = feed.iter().map(|e| e.position).collect();
        assert_eq!(positions, (1..=expected.len() as u64).collect::<Vec<_>>());
    }
    assert_eq!(f.store.feed_head().unwrap(), expected.len() as u64);
    // Resuming from any token gives exactly the rest.
    let rest = whole_feed(&*f.store, 7, 3);
    assert_eq!(rest.len(), expected.len() - 7);
    assert_eq!(rest[0].position, 8);
    // A stored event's block is there to serve.
    for entry in &rest {
        assert!(f.store.block(&entry.event).unwrap().is_some());
    }
}

pub(crate) fn a_refused_write_does_not_move_the_feed(f: Fixture) {
    let (engine, _) = setup(&f);
    let author = signer(1);
    let (_, first) = genesis(&author, "first", None, &[]);
    engine.apply_commit(ADDER, first.cid, &first.blocks).unwrap();
    let (stream, g) = genesis(&author, "a", None, &[]);
    let c1 = add(&author, &stream, g.cid, 1);
    let other = crate::memory();
    let (other_engine, _) = setup(&other);
    other_engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let state = other_engine.apply_commit(ADDER, c1.cid, &c1.blocks).unwrap();
    // Refused by the store (the genesis is missing) and by the engine (a broken commit).
    assert!(f.store.write_commit(&c1.blocks, &state).is_err());
    assert!(engine.apply_commit(ADDER, c1.cid, &c1.blocks).is_err());
    assert_eq!(f.store.feed_head().unwrap(), 1);
    assert_eq!(whole_feed(&*f.store, 0, 10).len(), 1);
    // The next accepted write takes the next position: no hole.
    f.store.write_commit(&[&g.blocks[..], &c1.blocks[..]].concat(), &state).unwrap();
    let feed = whole_feed(&*f.store, 0, 10);
    let positions: Vec<u64> = feed.iter().map(|e| e.position).collect();
    assert_eq!(positions, [1, 2, 3]);
    assert_eq!(feed[1].event, g.cid);
    assert_eq!(feed[2].event, c1.cid);
}

pub(crate) fn a_reader_following_concurrent_writers_misses_nothing(f: Fixture) {
    let (engine, _) = setup(&f);
    let engine = Arc::new(engine);
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let store = f.store.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            let mut after = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let page = store.feed(after, 7).unwrap();
                after = page.resume;
                let empty = page.entries.is_empty();
                seen.extend(page.entries);
                if finished && empty {
                    return seen;
                }
            }
        })
    };
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let engine = engine.clone();
            std::thread::spawn(move || {
                let author = signer(w + 1);
                for i in 0..5 {
                    let (stream, g) = genesis(&author, &format!("w{w}s{i}"), None, &[]);
                    let state = engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
                    let c = add(&author, &stream, state.tip(), 1);
                    engine.apply_commit(ADDER, c.cid, &c.blocks).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.join().unwrap();
    let all = whole_feed(&*f.store, 0, 1000);
    assert_eq!(all.len(), 40);
    assert_eq!(seen, all, "the follower saw every entry once, in order");
}

/// A genesis-only state whose metadata names a model and a controller, as a MID's does.
fn instance(model: &str, controller: &str, unique: u32) -> (Block, StreamState) {
    use ceramic_codecs::{Codec, GenesisCommit, Header, Payload};
    let header = Header {
        controllers: Some(vec![controller.into()]),
        family: Some(format!("u{unique}")),
        ..Header::default()
    };
    let block =
        Block::encode(Codec::DagCbor, &Payload::Genesis(GenesisCommit { header, data: None }))
            .unwrap();
    let metadata = serde_json::json!({"controller": controller, "model": model});
    let state = StreamState::genesis(
        ceramic_streamid::StreamType::new(3),
        *block.cid(),
        serde_json::json!({"n": unique}),
        metadata.as_object().cloned().unwrap_or_default(),
        ceramic_doctype::SignatureStatus::Genesis,
    )
    .unwrap();
    (block, state)
}

pub(crate) fn lists_instances_by_model_and_controller_in_pages(f: Fixture) {
    let (m1, m2) = ("kjzl6hvfrbw6model1", "kjzl6hvfrbw6model2");
    let (alice, bob) = ("did:key:z6MkAlice", "did:key:z6MkBob");
    let mut by = HashMap::<(&str, &str), Vec<StreamId>>::new();
    for i in 0..23 {
        let model = if i % 3 == 0 { m2 } else { m1 };
        let controller = if i % 2 == 0 { alice } else { bob };
        let (block, state) = instance(model, controller, i);
        f.store.write_commit(&[block], &state).unwrap();
        by.entry((model, controller)).or_default().push(state.stream_id());
    }
    let of_model =
        |m: &str| sorted(by.iter().filter(|(k, _)| k.0 == m).flat_map(|(_, v)| v.clone()));
    for limit in [1, 5, 100] {
        for model in [m1, m2] {
            let got = all_pages(limit, |a| f.store.list_by_model(model, None, a, limit).unwrap());
            assert_eq!(got, of_model(model));
            for controller in [alice, bob] {
                let got = all_pages(limit, |a| {
                    f.store.list_by_model(model, Some(controller), a, limit).unwrap()
                });
                assert_eq!(got, sorted(by[&(model, controller)].clone()));
            }
        }
    }
    assert!(f.store.list_by_model("kjzl6hvfrbw6none", None, None, 10).unwrap().streams.is_empty());
    // A model's controller term is not a controller's other streams.
    assert!(
        f.store.list_by_model(m1, Some("did:key:z6MkCarol"), None, 10).unwrap().streams.is_empty()
    );
}
