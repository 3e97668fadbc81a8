//! Applying signed updates one at a time gives the same state as replaying the whole log from
//! the genesis, and the content the patches make on their own.

use ceramic_codecs::Header;
use ceramic_doctype::StreamState;
use ceramic_doctype_tile::Tile;
use ceramic_doctype_tile::test_utils::{Fixture, MemoryContext, Writer, arb_patch_script};
use proptest::prelude::*;
use serde_json::Value;

fn replay(tile: &Tile, ctx: &MemoryContext, log: &[Fixture]) -> StreamState {
    let (genesis, updates) = log.split_first().expect("a log has a genesis");
    let mut state = genesis.apply_genesis(tile, ctx).expect("genesis applies");
    for update in updates {
        state = update.apply_data(tile, &state, ctx).expect("update applies");
    }
    state
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn applying_one_at_a_time_equals_replaying_the_log((initial, patches) in arb_patch_script()) {
        let writer = Writer::new(7);
        let ctx = MemoryContext::new();
        let live = Tile::new();
        let genesis = writer.genesis(writer.header(), Some(initial.clone()));
        let mut state = genesis.apply_genesis(&live, &ctx).unwrap();
        let mut log = vec![genesis];
        let mut expected = initial.clone();
        for patch in &patches {
            let update = writer.update(&state, Header::default(), patch.clone());
            state = update.apply_data(&live, &state, &ctx).unwrap();
            log.push(update);
            let ops: json_patch::Patch = serde_json::from_value(patch.clone()).unwrap();
            json_patch::patch(&mut expected, &ops).unwrap();
        }
        // A fresh doctype (a node that loads the stream later) gets the same state.
        let replayed = replay(&Tile::new(), &ctx, &log);
        prop_assert_eq!(&replayed, &state);
        prop_assert_eq!(state.current_content(), &expected);
        prop_assert_eq!(state.content(), &initial, "no anchor yet: the anchored content is the genesis");
        prop_assert_eq!(state.log().len(), patches.len() + 1);
        prop_assert!(matches!(state.current_content(), Value::Object(_)));
    }
}
