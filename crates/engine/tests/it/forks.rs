//! Network tips: extensions, forks resolved by js-ceramic's rule, and the rule's JS vectors.

use std::path::PathBuf;
use std::sync::Arc;

use ceramic_codecs::Cid;
use ceramic_doctype::{CommitKind, LogEntry};
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::{ApplyError, TipOutcome, Winner, pick_log_to_accept};
use serde_json::{Value, json};

use crate::fixtures::{ADDER, add, anchor, genesis, node, peer, signer};

#[test]
fn a_node_that_never_saw_the_stream_loads_it_from_a_tip() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let author = signer(1);
    let (stream, g) = genesis(&author, "a");
    let c1 = add(&author, &stream, g.cid, 3);
    let a1 = anchor(&chain, &stream, c1.cid, 100);
    let n = node(chain);
    let outcome = n.engine.handle_tip(&stream, a1.cid, &peer(&[&g, &c1, &a1])).unwrap();
    let TipOutcome::Created(state) = outcome else { panic!("{outcome:?}") };
    assert_eq!(state.current_content(), &json!({"n": 3}));
    assert_eq!(n.engine.load(&stream).unwrap(), state);
    // The same tip again changes nothing.
    assert_eq!(n.engine.handle_tip(&stream, a1.cid, &peer(&[])).unwrap(), TipOutcome::Unchanged);
}

#[test]
fn an_extension_is_applied_and_a_tip_of_another_stream_is_refused() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let author = signer(1);
    let (stream, g) = genesis(&author, "a");
    let n = node(chain);
    n.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let c1 = add(&author, &stream, g.cid, 3);
    let c2 = add(&author, &stream, c1.cid, 4);
    assert!(matches!(
        n.engine.handle_tip(&stream, c2.cid, &peer(&[&c1, &c2])).unwrap(),
        TipOutcome::Accepted(_)
    ));
    assert_eq!(n.engine.load(&stream).unwrap().current_content(), &json!({"n": 7}));

    let (other, og) = genesis(&author, "b");
    let o1 = add(&author, &other, og.cid, 1);
    let err = n.engine.handle_tip(&stream, o1.cid, &peer(&[&og, &o1])).unwrap_err();
    assert!(matches!(err, ApplyError::NotThisStream { .. }), "{err}");
    assert_eq!(n.engine.load(&stream).unwrap().tip(), c2.cid);
}

#[test]
fn an_invalid_commit_shortens_the_remote_branch() {
    let author = signer(1);
    let (stream, g) = genesis(&author, "a");
    let n = node(Arc::new(FakeAnchorVerifier::default()));
    n.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let c1 = add(&author, &stream, g.cid, 3);
    let forged = add(&signer(9), &stream, c1.cid, 100);
    let TipOutcome::Accepted(state) =
        n.engine.handle_tip(&stream, forged.cid, &peer(&[&c1, &forged])).unwrap()
    else {
        panic!("the valid prefix should be accepted")
    };
    assert_eq!((state.tip(), state.current_content().clone()), (c1.cid, json!({"n": 3})));
}

#[test]
fn the_earlier_anchored_branch_wins_whichever_arrives_first() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let author = signer(1);
    let (stream, g) = genesis(&author, "a");
    // Branch A: longer, anchored late. Branch B: one commit, anchored early.
    let a1 = add(&author, &stream, g.cid, 1);
    let a2 = add(&author, &stream, a1.cid, 1);
    let a3 = add(&author, &stream, a2.cid, 1);
    let aa = anchor(&chain, &stream, a3.cid, 2_000);
    let b1 = add(&author, &stream, g.cid, 10);
    let ba = anchor(&chain, &stream, b1.cid, 1_000);
    let everything = [&g, &a1, &a2, &a3, &aa, &b1, &ba];
    for order in [[aa.cid, ba.cid], [ba.cid, aa.cid]] {
        let n = node(chain.clone());
        for tip in order {
            n.engine.handle_tip(&stream, tip, &peer(&everything)).unwrap();
        }
        let state = n.engine.load(&stream).unwrap();
        assert_eq!(
            (state.tip(), state.current_content().clone()),
            (ba.cid, json!({"n": 10})),
            "order {order:?}"
        );
    }
    // An unanchored longer local branch loses to an anchored remote one.
    let n = node(chain.clone());
    n.engine.handle_tip(&stream, a3.cid, &peer(&everything)).unwrap();
    assert!(matches!(
        n.engine.handle_tip(&stream, ba.cid, &peer(&everything)).unwrap(),
        TipOutcome::Accepted(_)
    ));
    assert_eq!(n.engine.load(&stream).unwrap().tip(), ba.cid);
}

fn branch(entries: &Value) -> Vec<LogEntry> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| LogEntry {
            cid: e["cid"].as_str().unwrap().parse::<Cid>().unwrap(),
            kind: match e["type"].as_u64().unwrap() {
                0 => CommitKind::Genesis,
                1 => CommitKind::Data,
                _ => CommitKind::Anchor,
            },
            timestamp: e["timestamp"].as_u64(),
        })
        .collect()
}

/// `testdata/js-conflicts.json`: fork pairs whose winner was computed by js-ceramic's
/// `_pickLogToAccept` itself (`cargo xtask vectors`).
#[test]
fn conflict_rule_matches_js_ceramic() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/js-conflicts.json");
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}")),
    )
    .unwrap();
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let log1 = branch(&case["input"]["log1"]);
        let log2 = branch(&case["input"]["log2"]);
        let expected = match case["expected"]["winner"].as_str().unwrap() {
            "log1" => Winner::Log1,
            "log2" => Winner::Log2,
            other => panic!("{name}: winner {other}"),
        };
        assert_eq!(
            pick_log_to_accept(&log1, &log2),
            expected,
            "{name} ({})",
            case["expected"]["rule"]
        );
    }
}

/// Found by `engine_hostile_log` (fuzz/seeds.py REGRESSIONS): the test doctype's sum overflowed
/// and panicked; now the commit that would overflow is refused and the state is unchanged.
#[test]
fn a_commit_whose_sum_overflows_is_refused_not_a_panic() {
    let chain = Arc::new(FakeAnchorVerifier::default());
    let author = signer(1);
    let (stream, g) = genesis(&author, "overflow");
    let n = node(chain);
    n.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
    let c1 = add(&author, &stream, g.cid, i64::MAX);
    n.engine.apply_commit(ADDER, c1.cid, &c1.blocks).unwrap();
    let c2 = add(&author, &stream, c1.cid, 1);
    let refused = n.engine.apply_commit(ADDER, c2.cid, &c2.blocks).unwrap_err();
    assert!(matches!(refused, ApplyError::Rejected { .. }), "{refused:?}");
    assert!(refused.to_string().contains("overflows"), "{refused}");
    assert_eq!(n.engine.load(&stream).unwrap().current_content(), &json!({"n": i64::MAX}));
}
