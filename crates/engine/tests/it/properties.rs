//! Properties: applying commits one at a time equals replaying the log; the engine ends where
//! js-ceramic's conflict rule ends for every delivery order of the same tips; and those orders
//! converge on one state when no two anchors share a block time (with shared times js-ceramic's
//! rule itself depends on the order, see `forks.rs`).

use std::sync::Arc;

use ceramic_doctype::{CommitKind, LogEntry, StreamState};
use ceramic_engine::memory::FakeAnchorVerifier;
use ceramic_engine::{Winner, pick_log_to_accept};
use proptest::prelude::*;

use crate::fixtures::{ADDER, Made, add, anchor, genesis, node, peer, signer};

/// A step of a linear history: add `k`, or anchor the tip at a time.
#[derive(Debug, Clone)]
enum Step {
    Add(i64),
    Anchor(u64),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![3 => (-50i64..50).prop_map(Step::Add), 1 => (1u64..5).prop_map(|t| Step::Anchor(t * 100))],
        1..12,
    )
}

/// A branch of a history tree: it forks from commit number `from` (modulo the commits made so
/// far), adds `adds`, and is anchored at `anchor` if set.
#[derive(Debug, Clone)]
struct BranchSpec {
    from: usize,
    adds: Vec<i64>,
    anchor: Option<u64>,
}

fn branches() -> impl Strategy<Value = Vec<BranchSpec>> {
    let branch = (any::<usize>(), prop::collection::vec(-9i64..9, 1..4), prop::option::of(1u64..4))
        .prop_map(|(from, adds, anchor)| BranchSpec {
            from,
            adds,
            anchor: anchor.map(|t| t * 100),
        });
    prop::collection::vec(branch, 1..5)
}

/// A tree of branches built from specs: every commit, each commit's log from the genesis (as
/// the conflict rule sees it), and the tip of each branch.
struct Tree {
    stream: ceramic_streamid::StreamId,
    made: Vec<Made>,
    logs: Vec<Vec<LogEntry>>,
    tips: Vec<usize>,
}

/// Builds the tree. With `distinct_times`, an anchor whose time another anchor already has is
/// moved to the next free second, so that no two anchor commits share a block time.
fn build(chain: &FakeAnchorVerifier, specs: &[BranchSpec], distinct_times: bool) -> Tree {
    let author = signer(4);
    let (stream, g) = genesis(&author, "q");
    let entry = |cid, kind, timestamp| LogEntry { cid, kind, timestamp };
    let mut logs = vec![vec![entry(g.cid, CommitKind::Genesis, None)]];
    let mut made = vec![g];
    let mut used = std::collections::BTreeSet::new();
    let mut tips = Vec::new();
    for spec in specs {
        let mut at = spec.from % made.len();
        for k in &spec.adds {
            let c = add(&author, &stream, made[at].cid, *k);
            let mut log = logs[at].clone();
            log.push(entry(c.cid, CommitKind::Data, None));
            made.push(c);
            logs.push(log);
            at = made.len() - 1;
        }
        if let Some(mut t) = spec.anchor {
            while distinct_times && !used.insert(t) {
                t += 1;
            }
            let a = anchor(chain, &stream, made[at].cid, t);
            let mut log = logs[at].clone();
            log.push(entry(a.cid, CommitKind::Anchor, Some(t)));
            made.push(a);
            logs.push(log);
            at = made.len() - 1;
        }
        tips.push(at);
    }
    Tree { stream, made, logs, tips }
}

/// What js-ceramic's rule gives for tips heard in `order`, computed from the logs alone: a tip
/// already in the log changes nothing, one that extends it is taken, and otherwise
/// `pick_log_to_accept` decides between the two branches after their fork point.
fn js_rule_tip(tree: &Tree, order: &[usize]) -> ceramic_codecs::Cid {
    let mut current = tree.logs[0].clone();
    for &tip in order {
        let heard = &tree.logs[tip];
        let fork = current.iter().zip(heard).take_while(|(a, b)| a.cid == b.cid).count();
        if fork == heard.len() {
            continue;
        }
        if fork == current.len()
            || pick_log_to_accept(&current[fork..], &heard[fork..]) == Winner::Log2
        {
            current = heard.clone();
        }
    }
    current.last().expect("a log has its genesis").cid
}

/// The engine's state after hearing the tips in `order`, one at a time, on a fresh node.
fn engine_after(chain: &Arc<FakeAnchorVerifier>, tree: &Tree, order: &[usize]) -> StreamState {
    let n = node(chain.clone());
    n.engine.apply_commit(ADDER, tree.made[0].cid, &tree.made[0].blocks).unwrap();
    let everything: Vec<&Made> = tree.made.iter().collect();
    let source = peer(&everything);
    for &tip in order {
        n.engine.handle_tip(&tree.stream, tree.made[tip].cid, &source).unwrap();
    }
    n.engine.load(&tree.stream).unwrap()
}

/// Three orders of the tips: as built, reversed, and permuted by `perm` (indices, some of which
/// may be past the end and are skipped).
fn orders(tips: &[usize], perm: &[usize]) -> Vec<Vec<usize>> {
    let permuted = perm.iter().filter_map(|&i| tips.get(i).copied()).collect();
    vec![tips.to_vec(), tips.iter().rev().copied().collect(), permuted]
}

fn permutation() -> impl Strategy<Value = Vec<usize>> {
    Just((0..4).collect::<Vec<usize>>()).prop_shuffle()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn one_at_a_time_equals_replaying_the_log(steps in steps()) {
        let chain = Arc::new(FakeAnchorVerifier::default());
        let n = node(chain.clone());
        let author = signer(3);
        let (stream, g) = genesis(&author, "p");
        n.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
        let mut tip = g.cid;
        let mut last_anchored = false;
        for step in steps {
            let made = match step {
                Step::Add(k) => add(&author, &stream, tip, k),
                // Anchoring an anchor commit is meaningless; add instead.
                Step::Anchor(_) if last_anchored => add(&author, &stream, tip, 1),
                Step::Anchor(t) => anchor(&chain, &stream, tip, t),
            };
            last_anchored = matches!(step, Step::Anchor(_)) && !last_anchored;
            n.engine.apply_commit(ADDER, made.cid, &made.blocks).unwrap();
            tip = made.cid;
        }
        let stored = n.engine.load(&stream).unwrap();
        prop_assert_eq!(n.engine.state_at(&stream, tip).unwrap(), stored);
    }

    /// For any tree, ties at one anchor time and descendants anchored earlier than their
    /// ancestors included, the engine ends where js-ceramic's rule ends for the same order.
    #[test]
    fn every_delivery_order_ends_where_the_js_rule_ends(specs in branches(), perm in permutation()) {
        let chain = Arc::new(FakeAnchorVerifier::default());
        let tree = build(&chain, &specs, false);
        for order in orders(&tree.tips, &perm) {
            let state = engine_after(&chain, &tree, &order);
            prop_assert_eq!(state.tip(), js_rule_tip(&tree, &order), "order {:?}", order);
        }
    }

    /// When no two anchors share a block time, the rule orders every pair of logs the same
    /// way whatever their fork point, so every delivery order converges on one state.
    #[test]
    fn every_delivery_order_converges_when_anchor_times_differ(
        specs in branches(),
        perm in permutation(),
    ) {
        let chain = Arc::new(FakeAnchorVerifier::default());
        let tree = build(&chain, &specs, true);
        let finals: Vec<StreamState> =
            orders(&tree.tips, &perm).iter().map(|order| engine_after(&chain, &tree, order)).collect();
        prop_assert_eq!(&finals[0], &finals[1]);
        prop_assert_eq!(&finals[0], &finals[2]);
    }
}

/// Every order of the tips, for trees of up to four tips.
fn every_order(tips: &[usize]) -> Vec<Vec<usize>> {
    if tips.len() <= 1 {
        return vec![tips.to_vec()];
    }
    let mut all = Vec::new();
    for (i, &first) in tips.iter().enumerate() {
        let mut rest = tips.to_vec();
        rest.remove(i);
        for mut tail in every_order(&rest) {
            tail.insert(0, first);
            all.push(tail);
        }
    }
    all
}

/// The two trees on which an earlier form of the convergence property failed. In both, two
/// branches are first anchored at the same time after an equal number of commits, and one of
/// them goes on past its anchor, so js-ceramic's tie-break compares the last CIDs of different
/// commits depending on which tips a node has already heard. The rule itself then ends on
/// different tips for different orders, and the engine follows it in every order.
#[test]
fn ties_at_one_anchor_time_end_where_the_js_rule_ends_in_every_order() {
    let spec = |from, adds: &[i64], anchor| BranchSpec { from, adds: adds.to_vec(), anchor };
    let trees = [
        vec![
            spec(0, &[0, -5, 0], Some(300)),
            spec(1356085832498383159, &[-8], Some(200)),
            spec(3288003543972821758, &[5, 1, 8], Some(300)),
            spec(1288417282445772984, &[0, 6, -1], Some(200)),
        ],
        vec![
            spec(0, &[3, -3, -5], None),
            spec(272266737949917259, &[2], Some(200)),
            spec(11546493996950048015, &[0, 0], None),
            spec(14777967164926777801, &[0, 0, 0], Some(200)),
        ],
    ];
    let mut order_dependent = 0;
    for specs in &trees {
        let chain = Arc::new(FakeAnchorVerifier::default());
        let tree = build(&chain, specs, false);
        let mut ends = std::collections::BTreeSet::new();
        for order in every_order(&tree.tips) {
            let expected = js_rule_tip(&tree, &order);
            assert_eq!(engine_after(&chain, &tree, &order).tip(), expected, "order {order:?}");
            ends.insert(expected.to_bytes());
        }
        if ends.len() > 1 {
            order_dependent += 1;
        }
        // With distinct anchor times the same shapes converge.
        let chain = Arc::new(FakeAnchorVerifier::default());
        let tree = build(&chain, specs, true);
        let ends: std::collections::BTreeSet<_> =
            every_order(&tree.tips).iter().map(|o| engine_after(&chain, &tree, o).tip()).collect();
        assert_eq!(ends.len(), 1, "distinct anchor times converge");
    }
    assert!(order_dependent > 0, "js-ceramic's rule depends on the order for these trees");
}
