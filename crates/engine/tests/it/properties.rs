//! Properties: applying commits one at a time equals replaying the log; every delivery order of
//! the same tips converges on the same state.

use std::sync::Arc;

use ceramic_engine::memory::FakeAnchorVerifier;
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

    #[test]
    fn every_delivery_order_converges(specs in branches(), rotate in 0usize..4) {
        let chain = Arc::new(FakeAnchorVerifier::default());
        let author = signer(4);
        let (stream, g) = genesis(&author, "q");
        // Build the tree: every commit made so far is a possible fork point.
        let mut made: Vec<Made> = vec![g.clone()];
        let mut tips = Vec::new();
        for spec in &specs {
            let mut at = made[spec.from % made.len()].cid;
            for k in &spec.adds {
                let c = add(&author, &stream, at, *k);
                at = c.cid;
                made.push(c);
            }
            if let Some(t) = spec.anchor {
                let a = anchor(&chain, &stream, at, t);
                at = a.cid;
                made.push(a);
            }
            tips.push(at);
        }
        let everything: Vec<&Made> = made.iter().collect();
        let mut finals = Vec::new();
        let mut orders = vec![tips.clone(), tips.iter().rev().copied().collect::<Vec<_>>()];
        let mut rotated = tips.clone();
        rotated.rotate_left(rotate % tips.len());
        orders.push(rotated);
        for order in orders {
            let n = node(chain.clone());
            n.engine.apply_commit(ADDER, g.cid, &g.blocks).unwrap();
            for tip in &order {
                n.engine.handle_tip(&stream, *tip, &peer(&everything)).unwrap();
            }
            finals.push(n.engine.load(&stream).unwrap());
        }
        prop_assert_eq!(&finals[0], &finals[1]);
        prop_assert_eq!(&finals[0], &finals[2]);
    }
}
